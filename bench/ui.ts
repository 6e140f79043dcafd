/**
 * `npm run bench:ui [-- --minutes M] [--record]` — the lecture UI's cost on the page's thread, in
 * headless Chromium against the built app. Three VM cards — the backup B is killed and FT VMotion
 * starts C as A's new backup — with every worker at full speed (free run). One figure per line,
 * `name: value`:
 *
 *   ui-fps                frames the page drew per second over 10 s (target 60)
 *   ui-busy-pct           the main thread's CPU time in tasks over those 10 s, % of wall time (target ≤ 20)
 *   ui-heap-1min-mb       the page's JS heap after a garbage collection, 1 minute in
 *   ui-heap-end-mb        the same after M minutes (default 30)
 *   ui-heap-growth-pct    end against 1 minute (target within 10)
 *   ui-fps-end, ui-busy-pct-end  the frame figures again at the end
 *
 * Headless Chromium draws frames without a display: its frame rate is its compositor's, so the fps
 * figure says the page keeps up, not what a projector shows.
 */
import type { CDPSession, Page } from '@playwright/test';
import { record, serveApp } from './serve';

const PORT = 4192;

function minutesArg(): number {
  const i = process.argv.indexOf('--minutes');
  const m = i >= 0 ? Number(process.argv[i + 1]) : 30;
  if (!(m >= 1)) throw new Error('--minutes must be at least 1');
  return m;
}

async function heapMb(cdp: CDPSession): Promise<number> {
  await cdp.send('HeapProfiler.collectGarbage');
  const h = await cdp.send('Runtime.getHeapUsage');
  return h.usedSize / 1048576;
}

/**
 * Frames drawn and the main thread's busy time over `ms` of wall time: its CPU time in tasks (the
 * metrics in thread ticks), so the figure is the page's own work, not the time its thread waited for
 * a core the workers had.
 */
async function frameCost(page: Page, cdp: CDPSession, ms: number): Promise<{ fps: number; busyPct: number }> {
  const metric = async (): Promise<number> => {
    const { metrics } = await cdp.send('Performance.getMetrics');
    return metrics.find((m) => m.name === 'TaskDuration')?.value ?? NaN;
  };
  const task0 = await metric();
  const t0 = Date.now();
  // A string, not a function: tsx would name the inner callback with a helper the page lacks.
  const frames = await page.evaluate(`new Promise((resolve) => {
    let n = 0;
    const end = performance.now() + ${ms};
    requestAnimationFrame(function tick(t) {
      n++;
      if (t < end) requestAnimationFrame(tick);
      else resolve(n);
    });
  })`) as number;
  const wallS = (Date.now() - t0) / 1000;
  return { fps: frames / wallS, busyPct: (100 * ((await metric()) - task0)) / wallS };
}

async function main(): Promise<void> {
  const minutes = minutesArg();
  const served = await serveApp(PORT);
  const figures: [string, number, string][] = [];
  const put = (name: string, value: number, what: string): void => {
    figures.push([name, value, what]);
    console.log(`${name}: ${value.toFixed(value < 10 ? 2 : 1)}`);
  };
  try {
    const page = await served.browser.newPage({ viewport: { width: 1280, height: 720 } });
    page.on('pageerror', (e) => console.error('page error:', e.message));
    await page.goto(`${served.base}/`);
    const card = (vm: string) => page.locator(`[data-testid="vm-card"][data-vm="${vm}"]`);
    await card('B').waitFor();
    await page.getByTestId('kill-backup').click();
    await page.waitForFunction(() => window.ftDebug.snapshot().vms.some((v) => v.role === 'live'), undefined, { timeout: 20_000 });
    await page.getByTestId('new-backup').click();
    await card('C').waitFor({ timeout: 20_000 });
    await page.getByTestId('free-run').click();
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Performance.enable', { timeDomain: 'threadTicks' });
    const cost = await frameCost(page, cdp, 10_000);
    put('ui-fps', cost.fps, 'three VM cards (A live, B killed, C its new backup), free run, frames per second over 10 s');
    put('ui-busy-pct', cost.busyPct, 'the same 10 s: main-thread CPU time in tasks, % of wall time');
    await page.waitForTimeout(Math.max(0, 60_000 - 10_000));
    const heap1 = await heapMb(cdp);
    put('ui-heap-1min-mb', heap1, 'page JS heap after GC, 1 minute of free run');
    const startMs = Date.now();
    while (Date.now() - startMs < (minutes - 1) * 60_000) {
      await page.waitForTimeout(60_000);
      const s = await page.evaluate(() => window.ftDebug.snapshot());
      console.log(`  ${((Date.now() - startMs) / 60_000 + 1).toFixed(0)} min: virtual ${(s.nowUs / 1e6).toFixed(0)} s, ${s.vms.map((v) => `${v.name} ${v.role} ${v.icount}`).join(', ')}, heap ${(await heapMb(cdp)).toFixed(1)} MB`);
    }
    const heapEnd = await heapMb(cdp);
    put('ui-heap-end-mb', heapEnd, `page JS heap after GC, ${minutes} minutes of free run`);
    put('ui-heap-growth-pct', (100 * (heapEnd - heap1)) / heap1, `heap after ${minutes} minutes against after 1 minute`);
    const after = await frameCost(page, cdp, 10_000);
    put('ui-fps-end', after.fps, `frames per second over 10 s after ${minutes} minutes`);
    put('ui-busy-pct-end', after.busyPct, `main-thread CPU time in tasks after ${minutes} minutes, % of wall time`);
    if (process.argv.includes('--record')) record(figures, 'ui', `npm run bench:ui -- --minutes ${minutes}`);
  } finally {
    await served.close();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
