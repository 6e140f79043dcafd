import { serveApp } from './serve';
const PORT = 4195;
async function main(): Promise<void> {
  const served = await serveApp(PORT, '/');
  const page = await served.browser.newPage({ viewport: { width: 1600, height: 1000 } });
  await page.goto(`http://127.0.0.1:${PORT}/?seed=8`);
  await page.waitForTimeout(3500);
  await page.getByTestId('kill-primary').click();
  await page.waitForTimeout(1500);
  await page.getByTestId('pause').click();
  await page.waitForTimeout(500);
  await page.screenshot({ path: '/tmp/before.png' });
  const s = page.getByTestId('scrubber');
  await s.fill('2300000');
  await s.dispatchEvent('keyup');
  const t0 = Date.now();
  await page.waitForFunction(() => Math.abs(window.ftDebug.snapshot().nowUs - 2300000) < 1, undefined, { timeout: 30000 });
  console.log('travel wall ms', Date.now() - t0);
  await page.waitForTimeout(500);
  await page.screenshot({ path: '/tmp/after.png' });
  await served.close();
}
main().catch((e) => { console.error(e); process.exit(1); });
