import { defineConfig } from '@playwright/test';

// The browser comes from scripts/find-chromium.mjs (CHROMIUM_PATH, /usr/bin/chromium, …) through
// FT_CHROMIUM; Playwright never downloads one. Flags: what a headless root session on a closed
// network needs.
const executablePath = process.env.FT_CHROMIUM || process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const port = 4173;

export default defineConfig({
  testDir: 'e2e',
  timeout: 60_000,
  retries: 0,
  workers: 1,
  reporter: process.env.FT_PW_JSON
    ? [['list'], ['json', { outputFile: process.env.FT_PW_JSON }]]
    : [['list']],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    browserName: 'chromium',
    launchOptions: {
      executablePath,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-dev-shm-usage',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--disable-quic',
        '--no-first-run',
      ],
    },
    screenshot: 'only-on-failure',
  },
  webServer: {
    command: `npx vite build --logLevel warn && npx vite preview --port ${port} --strictPort`,
    url: `http://127.0.0.1:${port}`,
    reuseExistingServer: false,
    timeout: 180_000,
    stdout: 'ignore',
    stderr: 'pipe',
  },
});
