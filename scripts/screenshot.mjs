// Takes a screenshot of the running app: `node scripts/screenshot.mjs URL OUT.png [width height]`.
// Used to look at the UI and to refresh the README's picture.
import { chromium } from '@playwright/test';
import { findChromium, HOW_TO_GET_ONE } from './find-chromium.mjs';

const [url = 'http://127.0.0.1:4173/', out = 'screenshot.png', w = '1440', h = '900'] = process.argv.slice(2);
const executablePath = await findChromium({ install: false });
if (!executablePath) {
  console.error(HOW_TO_GET_ONE);
  process.exit(1);
}
const browser = await chromium.launch({
  executablePath,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
});
const page = await browser.newPage({ viewport: { width: Number(w), height: Number(h) } });
await page.goto(url);
await page.waitForTimeout(1500);
await page.screenshot({ path: out, fullPage: true });
await browser.close();
console.log(`wrote ${out}`);
