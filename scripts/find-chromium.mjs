// Finds a Chromium for the end-to-end tests, in the order docs/design.md §8 gives: CHROMIUM_PATH, a
// system chromium or google-chrome, a browser Playwright installed itself. When there is none and
// we are root on Debian, installs Debian's `chromium` with apt-get. Never downloads a browser build.
import { existsSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';

const SYSTEM_PATHS = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable'];

export const HOW_TO_GET_ONE =
  'No Chromium found: install Debian\'s chromium (sudo apt-get install -y chromium) or set CHROMIUM_PATH to a Chromium/Chrome binary.';

function fromEnv() {
  const p = process.env.CHROMIUM_PATH;
  if (!p) return null;
  if (!existsSync(p)) throw new Error(`CHROMIUM_PATH is set to ${p}, which does not exist.`);
  return p;
}

async function fromPlaywright() {
  try {
    const { chromium } = await import('@playwright/test');
    const p = chromium.executablePath();
    return p && existsSync(p) ? p : null;
  } catch {
    return null;
  }
}

function aptInstall() {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot || !existsSync('/etc/debian_version')) return false;
  console.log('e2e: no Chromium on this machine; installing Debian\'s chromium with apt-get…');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const update = spawnSync('apt-get', ['update'], { stdio: 'inherit', env });
  if (update.status !== 0) return false;
  const install = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'chromium'], { stdio: 'inherit', env });
  return install.status === 0;
}

/** Returns the path of a Chromium, or null with nothing found and nothing installable. */
export async function findChromium({ install = true } = {}) {
  const env = fromEnv();
  if (env) return env;
  for (const p of SYSTEM_PATHS) if (existsSync(p)) return p;
  const pw = await fromPlaywright();
  if (pw) return pw;
  if (install && aptInstall()) {
    for (const p of SYSTEM_PATHS) if (existsSync(p)) return p;
  }
  return null;
}

export function chromiumVersion(path) {
  try {
    return execFileSync(path, ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown version';
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const p = await findChromium({ install: process.argv.includes('--install') });
  if (!p) {
    console.error(HOW_TO_GET_ONE);
    process.exit(1);
  }
  console.log(p);
}
