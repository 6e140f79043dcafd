// `npm run test:e2e`: find a Chromium (never download one), then run Playwright against the built
// app served by `vite preview`. Extra arguments go to `playwright test`.
import { spawnSync } from 'node:child_process';
import { findChromium, chromiumVersion, HOW_TO_GET_ONE } from './find-chromium.mjs';

const chromium = await findChromium({ install: true });
if (!chromium) {
  console.error(HOW_TO_GET_ONE);
  process.exit(1);
}
console.log(`e2e: using ${chromium} (${chromiumVersion(chromium)})`);
const result = spawnSync('npx', ['playwright', 'test', ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: { ...process.env, FT_CHROMIUM: chromium, PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: '1' },
});
process.exit(result.status ?? 1);
