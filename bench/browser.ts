/**
 * `npm run bench:browser [-- --record]` — the browser runtime's figures, in headless Chromium
 * against the built app's runtime lab page (lab.html). One figure per line, `name: value`:
 *
 *   mips-ft-off, mips-ft-on   the bench guest in a vm worker, warm: the machine alone; the primary
 *                             of a pair in free run (the backup replaying in its own worker)
 *   ft-ratio                  on / off (target ≥ 0.98)
 *   mips-two-alone, ft-ratio-two-busy   the control: two machines alone in two workers at once, and
 *                             FT against that (a pair is two busy workers whatever FT costs)
 *   raw-rtt-idle-us           the bare round trip between workers that were asleep (the platform's wake-up cost)
 *   ack-rtt-us, raw-rtt-us    a log batch's ack round trip on the logging channel (free run, no
 *                             modelled delay) against a bare MessageChannel round trip between two
 *                             workers (target ≤ 2×)
 *   channel-entries-per-s     log entries made, encoded, posted and decoded through a MessageChannel,
 *                             warm (the median of passes 2 to 8); -cold the first pass
 *   failover-ms               kill → the backup serving (free run), and failover-timeout-ms, the setting
 *   vmotion-pause-ms          the primary's pause to snapshot and send a 16 MiB guest
 *   lockstep-pace             counter guest with 3 clients, virtual seconds per wall second (target ≥ 1),
 *                             over virtual seconds 3 to 10 of a run; lockstep-pace-cold its first 3 s;
 *                             lockstep-pace-kv(-cold) and lockstep-pace-ticker(-cold) the other lecture guests
 *   snapshot-ms, restore-ms   time travel: the counter guest's cluster snapshotted, and restored (fresh workers)
 *   travel-ms                 the slider: back to 5.5 s of a 10 s run from the nearest checkpoint;
 *                             travel-from-start-ms the same moment by a fresh run from time 0
 *
 * `--record` appends the figures to bench/results.md.
 */
import type { TraceEvent } from '../src/sim/trace';
import { record, serveApp } from './serve';

const PORT = 4191;

async function main(): Promise<void> {
  const served = await serveApp(PORT, '/lab.html');
  try {
    const page = await served.browser.newPage();
    page.on('pageerror', (e) => console.error('page error:', e.message));
    await page.goto(`http://127.0.0.1:${PORT}/lab.html`);
    await page.waitForFunction(() => window.ftLab !== undefined);
    const figures: [string, number, string][] = [];
    const put = (name: string, value: number, what: string): void => {
      figures.push([name, value, what]);
      console.log(`${name}: ${Number.isInteger(value) ? value : value.toFixed(value < 10 ? 3 : 1)}`);
    };

    // Steady state, as FT's cost is meant: each worker runs the guest once to warm up (V8's
    // optimizing compiler, the translated regions) and is measured on the next run.
    const warm = (runs: Record<string, number>[]): Record<string, number> => runs[runs.length - 1];
    // The long bench guest of mips-ft-on below: 2 G instructions to warm up, then 2 G measured.
    const LONG = { bench_rounds: 15_000 };
    const off = warm(await page.evaluate((set) => window.ftLab.cpu('bench', true, 2, 2_000_000_000, set), LONG));
    put('mips-ft-off', off.mips, 'bench guest (20× its rounds), the machine alone in a vm worker, 2 G instructions after a warm-up run of 2 G in the same worker');
    // The control: two machines alone in two workers at once — what two busy workers get from this
    // machine's cores, FT or not (a primary and its backup are two busy workers).
    const two = (await page.evaluate((set) => Promise.all([window.ftLab.cpu('bench', true, 2, 2_000_000_000, set), window.ftLab.cpu('bench', true, 2, 2_000_000_000, set)]), LONG)).map(warm);
    put('mips-two-alone', (two[0].mips + two[1].mips) / 2, 'control: two bench machines alone in two workers at once, MIPS of each (warm, as above)');

    // The bench guest with 20× its rounds (about 6 G instructions), so the pair is measured warm as
    // the machine alone is: 8 s of warm-up (two fresh workers compiling at once on two cores warm
    // up for seconds), then the rate over 4 s while the guest still runs.
    const on = await page.evaluate(async (set) => {
      const lab = window.ftLab;
      await lab.start({ guest: 'bench', set, seed: 1, clients: 0, loggingLink: { delayUs: 0, jitterUs: 0 } });
      await lab.run(1_000);
      await lab.freeRun();
      await lab.sleep(8_000);
      const samples: [number, number][] = [];
      for (let i = 0; i <= 16; i++) {
        samples.push([performance.now(), (await lab.views())[0].icount]);
        await lab.sleep(250);
      }
      let last = samples.length - 1;
      while (last > 1 && samples[last][1] === samples[last - 1][1]) last--;
      return { mips: (samples[last][1] - samples[0][1]) / ((samples[last][0] - samples[0][0]) * 1000), roles: await lab.roles() };
    }, LONG);
    put('mips-ft-on', on.mips, 'bench guest (20× its rounds), primary of a pair in free run, over 4 s after 8 s of warm-up');
    put('ft-ratio', on.mips / off.mips, 'mips-ft-on / mips-ft-off');
    put('ft-ratio-two-busy', on.mips / ((two[0].mips + two[1].mips) / 2), 'control: mips-ft-on / mips-two-alone (FT against two busy workers without FT)');
    const ack = await page.evaluate(async () => {
      const lab = window.ftLab;
      await lab.start({ guest: 'counter', seed: 2, clients: 3, loggingLink: { delayUs: 0, jitterUs: 0 } });
      await lab.run(1_000);
      await lab.freeRun();
      await lab.sleep(6_000);
      return await lab.events();
    });
    // The last 3 s of 6: warm, as the other figures are (fresh workers take seconds to warm up).
    const endUs = Math.max(...ack.map((e) => e.tUs));
    const rtts = ackRtts(ack.filter((e) => e.tUs >= endUs - 3_000_000));
    put('ack-rtt-us', median(rtts), `median over ${rtts.length} log batches of the counter guest under 3 clients: sent → acknowledged, free run, no modelled delay, the last 3 s of 6`);
    const raw = await page.evaluate(() => window.ftLab.probe('rtt', 5_000));
    put('raw-rtt-us', raw.rttUs, 'bare MessageChannel round trip between two workers, back to back, mean of 5000');
    const idle = await page.evaluate(() => window.ftLab.probe('rtt-idle', 500));
    put('raw-rtt-idle-us', idle.rttUs, 'the same with 2 ms between pings, so both workers sleep in between (thread wake-ups), mean of 500');
    const entries = await page.evaluate(() => window.ftLab.probe('entries', 1_000));
    put('channel-entries-per-s', entries.warmPerS, 'nondet entries in batches of 1000 through one MessageChannel between two workers: made, encoded, posted (transferred) and decoded, 1 000 000 a pass; the median of passes 2 to 8');
    put('channel-entries-per-s-cold', entries.coldPerS, 'the same, the first pass of fresh workers');

    const fo = await page.evaluate(async () => {
      const lab = window.ftLab;
      await lab.start({ guest: 'counter', seed: 3, clients: 3 });
      await lab.run(1_000);
      await lab.freeRun();
      await lab.sleep(600);
      await lab.act('kill primary');
      await lab.sleep(800);
      const ev = await lab.events();
      const crashed = ev.find((e) => e.ev === 'crashed' && e.vm === 'A');
      const live = ev.find((e) => e.ev === 'went-live' && e.vm === 'B');
      return { failoverUs: live && crashed ? live.tUs - crashed.tUs : NaN, roles: await lab.roles() };
    });
    put('failover-ms', fo.failoverUs / 1000, 'counter guest, 3 clients, free run: kill → the backup goes live');
    put('failover-timeout-ms', 300, 'the failure timeout setting');
    const snap = await page.evaluate(() => window.ftLab.probe('snapshot', 20_000_000));
    put('vmotion-pause-ms', snap.pauseMs, `FT VMotion's pause: snapshot of the bench guest's ${(snap.ramBytes / 1048576).toFixed(0)} MiB machine taken and posted`);

    // Lockstep's pace as a lecture sees it: the first 3 s of a fresh run, while its workers warm up
    // (in Node as in Chromium the same run's first virtual second costs about four times its fifth,
    // for the same work), then virtual seconds 3 to 10.
    for (const guest of ['counter', 'kv', 'ticker'] as const) {
      const p = await page.evaluate(async (g) => {
        const lab = window.ftLab;
        await lab.start({ guest: g, seed: 5, clients: 3 });
        const t0 = performance.now();
        await lab.run(3_000_000);
        const t1 = performance.now();
        const w1 = await lab.windows();
        await lab.run(10_000_000);
        const t2 = performance.now();
        return { cold: 3 / ((t1 - t0) / 1000), steady: 7 / ((t2 - t1) / 1000), coldRounds: w1, rounds: (await lab.windows()) - w1 };
      }, guest);
      const name = guest === 'counter' ? 'lockstep-pace' : `lockstep-pace-${guest}`;
      const what = `${guest} guest${guest === 'ticker' ? '' : ', 3 clients'}, as fast as the workers go`;
      put(name, p.steady, `${what}: virtual s 3 to 10 of a run (${p.rounds} rounds)`);
      put(`${name}-cold`, p.cold, `${what}: the first 3 virtual s from a fresh start (${p.coldRounds} rounds)`);
    }
    // Time travel: a snapshot of the whole cluster (sparse RAM, docs/design.md §3.6) and back to it
    // three times, each with fresh workers.
    const tt = await page.evaluate(async () => {
      const lab = window.ftLab;
      await lab.start({ guest: 'counter', seed: 5, clients: 3 });
      await lab.run(2_000_000);
      let t = performance.now();
      const snap = await lab.snapshot();
      const snapshotMs = performance.now() - t;
      await lab.run(3_000_000);
      const restores: number[] = [];
      for (let k = 0; k < 3; k++) {
        t = performance.now();
        await lab.restore(snap);
        restores.push(performance.now() - t);
        await lab.run(2_500_000);
      }
      // The slider: back to 5.5 s of a 10 s run — the checkpoint at 5 s restored, and on to 5.5 s;
      // against what it cost before checkpoints, a fresh pair run from the start to 5.5 s.
      await lab.run(10_000_000);
      const kept = (await lab.checkpoints()).length;
      t = performance.now();
      const travel = await lab.travel(5_500_000);
      const travelMs = performance.now() - t;
      t = performance.now();
      await lab.start({ guest: 'counter', seed: 5, clients: 3 });
      await lab.run(5_500_000);
      const fromStartMs = performance.now() - t;
      return { snapshotMs, restoreMs: restores.reduce((a, b) => a + b, 0) / restores.length, travelMs, fromUs: travel.fromUs, fromStartMs, kept };
    });
    put('snapshot-ms', tt.snapshotMs, 'time travel: the counter guest\'s cluster (3 clients) snapshotted at 2 virtual s');
    put('restore-ms', tt.restoreMs, 'time travel: back to that snapshot from 3 virtual s, fresh workers, the mean of 3');
    put('travel-ms', tt.travelMs, `time travel as the slider does it: back to 5.5 s of a 10 s counter run (${tt.kept} checkpoints kept; restored the one at ${(tt.fromUs / 1e6).toFixed(3)} s and ran on)`);
    put('travel-from-start-ms', tt.fromStartMs, 'the same moment reached the way travel did without checkpoints: a fresh pair run from the start to 5.5 s');
    if (process.argv.includes('--record')) record(figures, 'browser', 'npm run bench:browser');
  } finally {
    await served.close();
  }
}

/** For each log batch the primary sent first (not resent), the time until an ack covered it. */
function ackRtts(events: TraceEvent[]): number[] {
  const sent: { last: number; tUs: number }[] = [];
  const out: number[] = [];
  for (const e of events) {
    if (e.vm !== 'A') continue;
    if (e.ev === 'log-sent' && !e.resent) sent.push({ last: e.last, tUs: e.tUs });
    else if (e.ev === 'ack-received') {
      while (sent.length > 0 && sent[0].last <= e.ackSeq) out.push(e.tUs - (sent.shift() as { tUs: number }).tUs);
    }
  }
  return out;
}

function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
