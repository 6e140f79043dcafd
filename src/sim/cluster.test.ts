/**
 * The acceptance runs: every shipped guest under FT in the simulator, checked on the trace; flow
 * control and throttling against a slow backup; determinism of the whole run.
 */
import { describe, expect, it } from 'vitest';
import { Cluster } from './cluster';
import { checkHashes, checkOutputRule, checkSuppressedMatchesReleased } from './checkers';
import { GUEST_NAMES, guestClusterConfig, type GuestName } from './guests';
import { readGuestElf } from './guest-files';
import { serializeTrace, type TraceEvent } from './trace';

const elfs = new Map<GuestName, Uint8Array>(GUEST_NAMES.map((g) => [g, readGuestElf(g)]));

function guestCluster(name: GuestName, seed: number, over: Partial<ConstructorParameters<typeof Cluster>[0]> = {}): Cluster {
  const base = guestClusterConfig(name, elfs.get(name) as Uint8Array, seed);
  return new Cluster({ ...base, ...over, ft: { ...base.ft, ...over.ft } });
}

function samples(trace: readonly TraceEvent[]): Extract<TraceEvent, { ev: 'sample' }>[] {
  return trace.filter((e): e is Extract<TraceEvent, { ev: 'sample' }> => e.ev === 'sample');
}

describe('every guest, 5 virtual seconds under FT', () => {
  for (const guest of GUEST_NAMES) {
    it(`${guest}: hashes match, suppressed == released, Output Rule held`, () => {
      const seed = 7;
      const c = guestCluster(guest, seed);
      c.run(5_000_000);
      const s = c.finish();
      expect(s.drained, `seed ${seed}: drained`).toBe(true);
      expect(c.trace[c.trace.length - 1].ev).toBe('summary');
      const where = `guest ${guest} seed ${seed}`;
      expect(checkHashes(c.trace), where).toEqual([]);
      expect(checkSuppressedMatchesReleased(c.trace), where).toEqual([]);
      expect(checkOutputRule(c.trace), where).toEqual([]);
      expect(c.violations(), where).toEqual([]);
      expect(s.sync, where).toBe('in-sync');
      expect(s.hashesChecked, where).toBeGreaterThanOrEqual(5);
      if (guest === 'counter' || guest === 'kv') {
        expect(s.clientOps, where).toBeGreaterThan(500);
        expect(s.outputStalls.count, where).toBeGreaterThan(500);
      }
      if (guest === 'ticker') expect(s.released, where).toBeGreaterThan(20);
      if (guest === 'bench') expect(s.icounts.primary, where).toBeGreaterThan(15_000_000);
    });
  }
});

describe('the checkers can fail', () => {
  it('Output Rule off: outputs go out before the ack and the checker says so, from the trace alone', () => {
    const c = guestCluster('counter', 3, { ft: { outputRule: false }, loggingLink: { delayUs: 2_000, jitterUs: 0 } });
    c.run(500_000);
    c.finish();
    const v = checkOutputRule(c.trace);
    expect(v.length).toBeGreaterThan(10);
    // Disk writes are judged like packets: the counter writes its value before it replies.
    expect(v.some((x) => /disk-write/.test(x.what))).toBe(true);
    expect(v.some((x) => /net-tx/.test(x.what))).toBe(true);
    expect(c.violations().length).toBeGreaterThan(10);
  });
});

describe('flow control and throttling', () => {
  it('a tiny log buffer and a slow backup: the primary stops and resumes', () => {
    const seed = 11;
    const c = guestCluster('bench', seed, { backupSpeedIps: 1_000_000, ft: { logBufferBytesMax: 600, lagThresholdUs: 10_000_000, lagCapUs: 20_000_000 } });
    c.run(2_000_000);
    expect(c.drain()).toBe(true);
    const s = c.summary();
    expect(s.blockedStalls.count, `seed ${seed}`).toBeGreaterThan(20);
    expect(c.trace.filter((e) => e.ev === 'unblocked').length).toBe(s.blockedStalls.count);
    // Held back to about the backup's pace (1M ips) instead of its own 4M.
    expect(s.icounts.primary).toBeLessThan(3_000_000);
    expect(checkHashes(c.trace)).toEqual([]);
  });

  it('a half-speed backup: CPU share falls, lag stays under threshold + bound', () => {
    const seed = 5;
    const thresholdUs = 50_000;
    const c = guestCluster('bench', seed, { backupSpeedIps: 2_000_000, ft: { lagThresholdUs: thresholdUs, throttleStep: 0.05, throttleIntervalUs: 10_000 } });
    c.run(4_000_000);
    const s = c.summary();
    // Bound (src/sim/README.md, "Throttling"), lag in the backup's time: while the share steps
    // down from 1 to r = 0.5 the first overshoot is (Δ/r)·(1−r)(1−r+δ)/(2δ) = 55 ms, plus 2Δ/r
    // for the adjustment interval and the ack's age.
    const r = 0.5;
    const boundUs = ((10_000 / r) * (1 - r) * (1 - r + 0.05)) / (2 * 0.05) + (2 * 10_000) / r;
    expect(s.maxLagUs, `seed ${seed}`).toBeLessThanOrEqual(thresholdUs + boundUs);
    expect(s.maxLagUs).toBeGreaterThan(thresholdUs); // the loop was exercised
    const late = samples(c.trace).filter((x) => x.tUs > 1_000_000);
    const meanShare = late.reduce((a, x) => a + x.share, 0) / late.length;
    expect(meanShare).toBeGreaterThan(0.4);
    expect(meanShare).toBeLessThan(0.62);
    expect(s.cpuShareMin).toBeGreaterThanOrEqual(0.3); // slow, not slamming to the floor
    expect(c.drain()).toBe(true);
    expect(checkHashes(c.trace)).toEqual([]);
  });
});

describe('the lag cap', () => {
  it('a 1%-speed backup: the lag stays under the cap, from the first slice on', () => {
    const seed = 9;
    const c = guestCluster('bench', seed, { backupSpeedIps: 40_000 });
    c.run(3_000_000);
    const s = c.finish();
    expect(s.maxLagUs, `seed ${seed}`).toBeLessThanOrEqual(c.ft.lagCapUs);
    expect(s.maxLagUs, `seed ${seed}`).toBeGreaterThan(c.ft.lagCapUs * 0.8); // the cap, not luck, held it
    expect(s.blockedStalls.count).toBeGreaterThan(10);
    expect(c.violations()).toEqual([]);
  });
});

describe('determinism', () => {
  it('same seed twice → identical traces', () => {
    const a = guestCluster('counter', 21);
    a.run(1_000_000);
    const b = guestCluster('counter', 21);
    b.run(1_000_000);
    expect(a.trace.length).toBeGreaterThan(1000);
    expect(serializeTrace(a.trace)).toBe(serializeTrace(b.trace));
  });

  it('different seeds → different timer delivery points', () => {
    const timerIcounts = (seed: number): number[] => {
      const c = guestCluster('ticker', seed);
      c.run(1_000_000);
      return c.trace.flatMap((e) => (e.ev === 'log-sent' ? e.entries.filter((x) => x[2] === 'timer').map((x) => x[1]) : []));
    };
    const a = timerIcounts(1);
    const b = timerIcounts(2);
    expect(a.length).toBeGreaterThan(5);
    expect(a).not.toEqual(b);
    expect(timerIcounts(1)).toEqual(a);
  });
});
