/**
 * The browser runtime (issue: a Web Worker per VM, MessageChannel links, lockstep): through the
 * runtime lab page, real vm workers and a world worker run the counter guest with clients.
 */
import { expect, test, type Page } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster } from '../src/sim/cluster';
import { guestClusterConfig } from '../src/sim/guests';
import { readGuestElf } from '../src/sim/guest-files';
import { parseScript } from '../src/sim/script';
import { CLUSTER_DEFAULTS } from '../src/sim/cluster-config';
import { serializeTrace, type TraceEvent } from '../src/sim/trace';

async function start(page: Page, seed: number, script = ''): Promise<void> {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto('/lab.html');
  await page.waitForFunction(() => window.ftLab !== undefined);
  await page.evaluate(({ seed, script }) => window.ftLab.start({ guest: 'counter', seed, clients: 3, script }), { seed, script });
  expect(errors).toEqual([]);
}

const run = (page: Page, untilUs: number): Promise<number> => page.evaluate((t) => window.ftLab.run(t), untilUs);
const act = (page: Page, text: string): Promise<void> => page.evaluate((t) => window.ftLab.act(t), text);
const events = (page: Page): Promise<TraceEvent[]> => page.evaluate(() => window.ftLab.events());

test('kill the primary: the backup goes live within the failure timeout and no acknowledged increment is lost', async ({ page }) => {
  await start(page, 11);
  await run(page, 300_000);
  await act(page, 'kill primary');
  await run(page, 1_000_000);
  expect(await page.evaluate(() => window.ftLab.roles())).toEqual({ A: 'crashed', B: 'live' });
  const ev = await events(page);
  const crashed = ev.find((e) => e.ev === 'crashed' && e.vm === 'A')!;
  const live = ev.find((e) => e.ev === 'went-live' && e.vm === 'B')!;
  expect(live.tUs - crashed.tUs).toBeLessThanOrEqual(300_000 + 5_000);
  const after = ev.filter((e) => e.ev === 'client-completed' && e.tUs > live.tUs && e.vm === 'world');
  expect(after.length).toBeGreaterThan(20);
  expect(await page.evaluate(() => window.ftLab.linearizability())).toBe('ok');
  expect(await page.evaluate(() => window.ftLab.violations())).toEqual([]);
  expect(await page.evaluate(() => window.ftLab.errors())).toEqual([]);
});

test('next entry: each press runs to the next log batch the primary sends; a VM serving alone logs nothing, and the press says so', async ({ page }) => {
  await start(page, 14);
  await run(page, 100_000);
  const sentSoFar = async (): Promise<number[]> => (await events(page)).filter((e) => e.ev === 'log-sent').map((e) => (e as { last: number }).last);
  let before = await sentSoFar();
  for (let i = 0; i < 5; i++) {
    const t0 = await page.evaluate(() => window.ftLab.now());
    const r = await page.evaluate(() => window.ftLab.stepEntry());
    const after = await sentSoFar();
    expect(r.found).toBe(true);
    expect(after.length).toBeGreaterThan(before.length);
    // It stops at the first window that brings one (a window may bring a few at once).
    expect(after.length - before.length).toBeLessThanOrEqual(4);
    expect(r.nowUs - t0).toBeLessThan(1_000_000);
    before = after;
  }
  await act(page, 'kill backup');
  await run(page, (await page.evaluate(() => window.ftLab.now())) + 600_000); // the primary goes on alone
  expect((await page.evaluate(() => window.ftLab.roles())).A).toBe('live');
  const t0 = await page.evaluate(() => window.ftLab.now());
  const r = await page.evaluate(() => window.ftLab.stepEntry());
  expect(r.found).toBe(false);
  expect(r.nowUs - t0).toBeGreaterThanOrEqual(1_000_000);
  expect(await page.evaluate(() => window.ftLab.errors())).toEqual([]);
});

test('partition the logging channel: exactly one VM serves', async ({ page }) => {
  await start(page, 12);
  await run(page, 250_000);
  await act(page, 'partition logging');
  await run(page, 1_200_000);
  const roles = Object.values(await page.evaluate(() => window.ftLab.roles())).sort();
  expect(roles).toEqual(['halted', 'live']);
  expect(await page.evaluate(() => window.ftLab.violations())).toEqual([]);
  expect(await page.evaluate(() => window.ftLab.linearizability())).toBe('ok');
});

test('FT VMotion after a failure: a third worker becomes the backup and its hashes match', async ({ page }) => {
  await start(page, 13);
  await run(page, 200_000);
  await act(page, 'kill primary');
  await run(page, 700_000);
  await act(page, 'vmotion');
  await run(page, 1_500_000);
  // Paired again, the VM that served alone is a primary.
  expect(await page.evaluate(() => window.ftLab.roles())).toEqual({ A: 'crashed', B: 'primary', C: 'backup' });
  const ev = await events(page);
  expect(ev.filter((e) => e.ev === 'hash-ok' && e.vm === 'C').length).toBeGreaterThan(3);
  expect(ev.some((e) => e.ev === 'divergence')).toBe(false);
  expect(await page.evaluate(() => window.ftLab.violations())).toEqual([]);
});

test('a lockstep run is the same in two page loads, and the same as `npm run sim`', async ({ page }) => {
  const seed = 21;
  const script = 'kill backup at 100ms; vmotion at 600ms; kill primary at 900ms';
  const untilUs = 1_400_000;
  const once = async (): Promise<string> => {
    await start(page, seed, script);
    await run(page, untilUs);
    return page.evaluate((t) => window.ftLab.trace(t), untilUs);
  };
  const first = await once();
  await page.reload();
  const second = await once();
  expect(first.split('\n').length).toBeGreaterThan(1500);
  expect(first).toContain('"vm":"C","ev":"went-live"'); // the VMotion-born backup took over
  expect(firstDifference(first, second)).toBe('equal');
  const base = guestClusterConfig('counter', readGuestElf('counter'), seed, 3);
  const sim = new Cluster({ ...CLUSTER_DEFAULTS, ...base, script: parseScript(script) });
  sim.run(untilUs);
  const expected = serializeTrace(sim.trace.filter((e) => e.tUs < untilUs));
  expect(firstDifference(expected, first)).toBe('equal');
  // And the command itself: `npm run sim -- … --export-trace FILE` writes the same lines.
  const file = join(mkdtempSync(join(tmpdir(), 'ft-trace-')), 'trace.jsonl');
  const cli = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/sim.ts', '--guest', 'counter', '--seed', String(seed), '--clients', '3',
    '--duration', `${untilUs}us`, '--script', script, '--export-trace', file], { encoding: 'utf8' });
  expect(cli.status, cli.stderr).toBe(0);
  expect(firstDifference(readFileSync(file, 'utf8'), first)).toBe('equal');
});

test('a run steered by hand is a script: `npm run sim` with it gives the same trace', async ({ page }) => {
  await start(page, 31);
  await run(page, 250_000);
  await act(page, 'send client 2');
  await run(page, 400_000);
  await act(page, 'kill primary');
  await run(page, 900_000);
  const script = await page.evaluate(() => window.ftLab.script());
  expect(script).toMatch(/^send client 2 at \d+us; kill primary at \d+us$/);
  const lockstep = await page.evaluate(() => window.ftLab.trace(900_000));
  const base = guestClusterConfig('counter', readGuestElf('counter'), 31, 3);
  const sim = new Cluster({ ...CLUSTER_DEFAULTS, ...base, script: parseScript(script) });
  sim.run(900_000);
  expect(firstDifference(serializeTrace(sim.trace.filter((e) => e.tUs < 900_000)), lockstep)).toBe('equal');
});

function firstDifference(a: string, b: string): string {
  const x = a.split('\n');
  const y = b.split('\n');
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    if (x[i] !== y[i]) return `line ${i}:\n  ${x[i]}\n  ${y[i]}\n  after ${x[i - 1]}`;
  }
  return 'equal';
}

test('a vm worker that throws is reported crashed with its error, and the others go on', async ({ page }) => {
  await page.goto('/lab.html');
  await page.waitForFunction(() => window.ftLab !== undefined);
  await page.evaluate(() => window.ftLab.start({ guest: 'counter', seed: 41, clients: 3, faultyWorker: 'B' }));
  await run(page, 800_000);
  expect(await page.evaluate(() => window.ftLab.roles())).toEqual({ A: 'live', B: 'crashed' });
  const errors = await page.evaluate(() => window.ftLab.errors());
  expect(errors.join('\n')).toContain('injected fault in the worker');
  // It answered nothing but windows, so the checkpoint at time 0 got no answer: skipped and said, not wedged.
  expect(errors.join('\n')).toMatch(/checkpoint at 0\.000 s skipped .*no answer in 2000 ms/);
  const ev = await events(page);
  expect(ev.find((e) => e.ev === 'guest-stopped' && e.vm === 'B')).toMatchObject({ reason: 'worker-failed' });
  expect(ev.filter((e) => e.ev === 'client-completed').length).toBeGreaterThan(20);
});

test('time travel: back to a snapshot, fresh workers go on exactly as the first time', async ({ page }) => {
  await start(page, 51, 'kill primary at 500ms');
  await run(page, 300_000);
  const snap = await page.evaluate(() => window.ftLab.snapshot());
  await run(page, 900_000);
  const first = await page.evaluate(() => window.ftLab.trace());
  await page.evaluate((i) => window.ftLab.restore(i), snap);
  expect(await page.evaluate(() => window.ftLab.now())).toBe(300_000);
  await run(page, 900_000);
  const again = await page.evaluate(() => window.ftLab.trace());
  expect(first).toContain('"ev":"went-live"');
  expect(firstDifference(first, again)).toBe('equal');
});

test('time travel from a checkpoint: back to a moment, the actions before it again, and the run forks there as the simulator runs its cut script', async ({ page }) => {
  const seed = 52;
  await start(page, seed, 'partition logging at 2200ms');
  await run(page, 1_300_000);
  await act(page, 'send client 1');
  await run(page, 2_600_000);
  await act(page, 'kill backup');
  await run(page, 3_000_000);
  const moment = 1_700_000;
  const before = await page.evaluate((t) => window.ftLab.trace(t), moment);
  expect(await page.evaluate(() => window.ftLab.checkpoints())).toEqual(expect.arrayContaining([0]));
  const r = await page.evaluate((t) => window.ftLab.travel(t), moment);
  // From the checkpoint at the last whole second before it, not from the start.
  expect(r.fromUs).toBeGreaterThanOrEqual(1_000_000);
  expect(r.fromUs).toBeLessThanOrEqual(moment);
  expect(r.nowUs).toBe(moment);
  expect(firstDifference(before, await page.evaluate((t) => window.ftLab.trace(t), moment))).toBe('equal');
  const script = await page.evaluate(() => window.ftLab.script());
  expect(script, 'the partition and the kill were after the moment: the fork forgets them').toMatch(/^send client 1 at 13\d{5}us$/);
  expect((await page.evaluate(() => window.ftLab.checkpoints())).every((t) => t <= moment)).toBe(true);
  await run(page, 3_000_000);
  expect(await page.evaluate(() => window.ftLab.roles())).toEqual({ A: 'primary', B: 'backup' });
  const base = guestClusterConfig('counter', readGuestElf('counter'), seed, 3);
  const sim = new Cluster({ ...CLUSTER_DEFAULTS, ...base, script: parseScript(script) });
  sim.run(3_000_000);
  expect(firstDifference(serializeTrace(sim.trace.filter((e) => e.tUs < 3_000_000)), await page.evaluate(() => window.ftLab.trace(3_000_000))), `seed ${seed}`).toBe('equal');
  // Refused, and nothing changes: forward in time, or in free run.
  await expect(page.evaluate(() => window.ftLab.travel(9_000_000))).rejects.toThrow(/time travel goes back/);
  expect(await page.evaluate(() => window.ftLab.now())).toBe(3_000_000);
});

test('free run: the jittered logging channel stays in order (no gap, no resend), and the pair stays a pair', async ({ page }) => {
  await start(page, 13); // the default logging link: 50 µs with 20 µs of jitter, in order
  await run(page, 1_000);
  await page.evaluate(() => window.ftLab.freeRun());
  await page.waitForTimeout(3_000);
  const ev = await events(page);
  // In order: the backup never saw a gap, so it never asked for a resend. (A resend on the
  // primary's timeout, when an ack is late, is the reliable channel at work: duplicates may come.)
  expect(ev.filter((e) => e.ev === 'log-gap' || e.ev === 'resend-requested')).toEqual([]);
  expect(ev.filter((e) => e.ev === 'log-sent' && e.vm === 'A').length).toBeGreaterThan(50);
  // The guest's clock is the host's: the counter's replies keep coming, and both VMs stay a pair.
  expect(ev.filter((e) => e.ev === 'client-completed').length).toBeGreaterThan(30);
  expect(await page.evaluate(() => window.ftLab.roles())).toEqual({ A: 'primary', B: 'backup' });
  expect(ev.filter((e) => e.ev === 'divergence')).toEqual([]);
  expect(ev.filter((e) => e.ev === 'hash-ok' && e.vm === 'B').length).toBeGreaterThan(10);
  // (Not violations(): they judge a drained run, and free run never stops — the backup's latest
  // suppressed outputs and hash checks are still on their way in its next report.)
  expect(await page.evaluate(() => window.ftLab.linearizability())).toBe('ok');
});

test('pace: slow motion holds virtual time to a tenth of the wall clock, and real time never runs ahead of it', async ({ page }) => {
  await start(page, 61);
  await run(page, 1_000);
  const slow = await page.evaluate(async () => {
    const lab = window.ftLab;
    const v0 = await lab.now();
    const t0 = performance.now();
    await lab.play(0.1);
    await lab.sleep(1_000);
    await lab.pause();
    return { virtualUs: (await lab.now()) - v0, wallUs: (performance.now() - t0) * 1000 };
  });
  expect(slow.virtualUs).toBeLessThanOrEqual(slow.wallUs * 0.1 * 1.05 + 1_000);
  expect(slow.virtualUs).toBeGreaterThan(slow.wallUs * 0.1 * 0.5);
  const real = await page.evaluate(async () => {
    const lab = window.ftLab;
    const v0 = await lab.now();
    const t0 = performance.now();
    await lab.play(1);
    await lab.sleep(1_000);
    await lab.pause();
    return { virtualUs: (await lab.now()) - v0, wallUs: (performance.now() - t0) * 1000 };
  });
  expect(real.virtualUs).toBeLessThanOrEqual(real.wallUs * 1.05 + 20_000);
  expect(real.virtualUs).toBeGreaterThan(100_000); // it ran
});

test('a page busy for 1.5 s does not stop the run: the conductor has its own worker', async ({ page }) => {
  await start(page, 71);
  await run(page, 1_000);
  const advancedUs = await page.evaluate(async () => {
    const lab = window.ftLab;
    const v0 = await lab.now();
    const running = lab.run(v0 + 5_000_000);
    const end = performance.now() + 1_500;
    while (performance.now() < end) {
      // the page is busy (a long frame): nothing here lets the event loop run
    }
    const v1 = await lab.now();
    await running;
    return v1 - v0;
  });
  // Had the conductor shared the page's thread, nothing would have run during the busy 1.5 s; how
  // much did run depends on the machine's load, so the bar is low (tens of lockstep rounds).
  expect(advancedUs).toBeGreaterThan(20_000);
});

test('bad input gets a clear error and the run keeps going: an unknown guest, bytes that are not an ELF, an unknown action', async ({ page }) => {
  await start(page, 81);
  await run(page, 200_000);
  const errors = await page.evaluate(async () => {
    const out: string[] = [];
    const tryIt = async (f: () => Promise<unknown>): Promise<void> => {
      try {
        await f();
        out.push('no error');
      } catch (e) {
        out.push((e as Error).message);
      }
    };
    await tryIt(() => window.ftLab.act('explode the disk'));
    await tryIt(() => window.ftLab.restore(99));
    return out;
  });
  expect(errors[0]).toMatch(/unknown action "explode the disk"/);
  expect(errors[1]).toMatch(/no snapshot 99/);
  expect(await run(page, 400_000)).toBe(400_000); // the run goes on
  expect(await page.evaluate(() => window.ftLab.roles())).toEqual({ A: 'primary', B: 'backup' });
  // A fresh start with bad bytes or an unknown guest is refused before any worker starts.
  const refused = await page.evaluate(async () => {
    const out: string[] = [];
    for (const o of [{ guest: 'counter', elf: new Uint8Array([0x7f, 0x45, 0x4c, 0x47, 1, 2, 3]) }, { guest: 'doom', elf: new Uint8Array(8) }]) {
      try {
        await window.ftLab.startWith(o);
        out.push('no error');
      } catch (e) {
        out.push((e as Error).message);
      }
    }
    return out;
  });
  expect(refused[0]).toMatch(/ELF/i);
  expect(refused[1]).toMatch(/unknown guest "doom"/);
});
