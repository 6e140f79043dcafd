import { chromium } from '@playwright/test';
const b = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
async function measure(hide) {
  const p = await b.newPage({ viewport: { width: 1280, height: 720 } });
  await p.goto('http://127.0.0.1:4173/');
  await p.locator('[data-testid="vm-card"][data-vm="B"]').waitFor();
  if (hide) await p.addStyleTag({ content: `${hide} { display: none !important; }` });
  if (process.env.FREE) await p.getByTestId('free-run').click();
  if (process.env.PAUSE) await p.getByTestId('pause').click();
  await p.waitForTimeout(1500);
  const cdp = await p.context().newCDPSession(p);
  await cdp.send('Performance.enable');
  const m = async () => Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map(x => [x.name, x.value]));
  const a = await m(); const t0 = Date.now();
  await p.waitForTimeout(5000);
  const z = await m(); const s = (Date.now() - t0) / 1000;
  const pct = (k) => (100 * (z[k] - a[k]) / s).toFixed(1);
  console.log((hide ?? 'all').padEnd(40), 'task', pct('TaskDuration'), 'script', pct('ScriptDuration'), 'layout', pct('LayoutDuration'), 'style', pct('RecalcStyleDuration'));
  await p.close();
}
for (const h of (process.env.HIDE ?? 'all|.dashboard|.app').split('|')) await measure(h === 'all' ? null : h);
await b.close();
