/** The benchmarks' browser: the app built and served by `vite preview`, and a headless Chromium that never downloads itself. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { chromium, type Browser } from '@playwright/test';
// @ts-expect-error: a plain ES module of the test scripts, without types
import { findChromium } from '../scripts/find-chromium.mjs';

export interface Served { browser: Browser; base: string; close(): Promise<void> }

/** Builds the app, serves it on `port` and launches Chromium; `close()` ends both. */
export async function serveApp(port: number, page = '/'): Promise<Served> {
  const exe = await findChromium({ install: false });
  if (!exe) throw new Error('no Chromium found (set CHROMIUM_PATH or install chromium)');
  const build = spawnSync('npx', ['vite', 'build', '--logLevel', 'warn'], { stdio: 'inherit' });
  if (build.status !== 0) throw new Error('vite build failed');
  const server: ChildProcess = spawn('npx', ['vite', 'preview', '--port', String(port), '--strictPort'], { stdio: 'ignore' });
  const base = `http://127.0.0.1:${port}`;
  try {
    await waitForServer(`${base}${page}`);
    const browser = await chromium.launch({ executablePath: exe, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
    return { browser, base, close: async () => { await browser.close(); server.kill(); } };
  } catch (err) {
    server.kill();
    throw err;
  }
}

async function waitForServer(url: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} did not come up`);
}

/** Appends figures to bench/results.md as table rows: what, value, command, date, machine. */
export function record(figures: [string, number, string][], prefix: string, command: string): void {
  const machine = `${cpus()[0]?.model ?? 'unknown CPU'} ×${cpus().length}, Chromium (headless)`;
  const date = new Date().toISOString().slice(0, 10);
  for (const [name, value, what] of figures) {
    appendFileSync('bench/results.md', `| ${prefix} ${name}: ${what} | ${Number.isInteger(value) ? value : value.toFixed(3)} | \`${command}\` | ${date} | ${machine} |\n`);
  }
  console.log('recorded in bench/results.md');
}
