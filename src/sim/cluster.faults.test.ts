/**
 * The logging channel never wedges: the counter guest under client load while the channel loses a
 * batch, loses an ack with the log buffer full, reorders, loses everything for 50 ms, or is cut for
 * 20 ms and healed. Each run must drain, hold every checker (liveness included) and keep serving
 * clients after the fault.
 */
import { describe, expect, it } from 'vitest';
import { Cluster, type ClusterConfig } from './cluster';
import { guestClusterConfig } from './guests';
import { readGuestElf } from './guest-files';
import { parseScript } from './script';
import type { LoggingMsg } from '../ft/channels';

const counterElf = readGuestElf('counter');
const benchElf = readGuestElf('bench');

function counterCluster(seed: number, over: Partial<ClusterConfig> = {}): Cluster {
  const base = guestClusterConfig('counter', counterElf, seed, 3);
  return new Cluster({ ...base, ...over, ft: { ...base.ft, ...over.ft } });
}

/** Runs to `untilUs` with `fault` applied at `atUs`, then finishes and checks everything. */
function runWithFault(c: Cluster, atUs: number, fault: () => void, untilUs = 1_000_000): { opsAfter: number } {
  c.run(atUs);
  fault();
  c.run(untilUs);
  const where = `seed ${c.cfg.seed}`;
  const s = c.finish();
  expect(s.drained, where).toBe(true);
  expect(c.violations(), where).toEqual([]);
  expect(s.sync, where).toBe('in-sync');
  const opsAfter = c.trace.filter((e) => e.ev === 'client-completed' && e.tUs > atUs + 100_000).length;
  expect(opsAfter, `${where}: client operations continue after the fault`).toBeGreaterThan(100);
  return { opsAfter };
}

const isType = (type: LoggingMsg['type']) => (m: unknown) => (m as LoggingMsg).type === type;

describe('the logging channel recovers from every fault short of failure', () => {
  it('one lost log batch: the backup sees the gap and asks; the primary resends', () => {
    const c = counterCluster(31);
    runWithFault(c, 300_000, () => c.link('A', 'log').dropNext('A', isType('log')));
    expect(c.trace.some((e) => e.ev === 'msg-lost' && e.reason === 'fault')).toBe(true);
    expect(c.trace.some((e) => e.ev === 'log-sent' && e.resent)).toBe(true);
  });

  it('a lost ack while the log buffer is full: the primary resends, the backup acks again', () => {
    const base = guestClusterConfig('bench', benchElf, 32);
    const c = new Cluster({ ...base, backupSpeedIps: 1_000_000, ft: { ...base.ft, logBufferBytesMax: 600, lagThresholdUs: 10_000_000, lagCapUs: 20_000_000 } });
    c.run(300_000);
    expect(c.host('A').state).toBe('blocked');
    c.link('A', 'log').dropNext('B', isType('ack'));
    const before = c.host('A').machine.icount;
    c.run(1_000_000);
    const s = c.finish();
    expect(s.drained).toBe(true);
    expect(c.violations()).toEqual([]);
    expect(c.host('A').machine.icount).toBeGreaterThan(before + 500_000);
  });

  it('a reordering logging channel', () => {
    const c = counterCluster(33, { loggingLink: { delayUs: 100, jitterUs: 400, inOrder: false } });
    runWithFault(c, 200_000, () => undefined);
    expect(c.trace.filter((e) => e.ev === 'log-gap').length).toBeGreaterThan(5);
  });

  it('100% loss both ways for 50 ms', () => {
    const c = counterCluster(34);
    runWithFault(c, 300_000, () => {
      c.link('A', 'log').configure({ lossRate: 1 });
      c.run(350_000);
      c.link('A', 'log').configure({ lossRate: 0 });
    });
    expect(c.summary().resends).toBeGreaterThan(0);
  });

  it('a 20 ms cut of the logging channel, then heal (a fault script)', () => {
    const c = counterCluster(35, { script: parseScript('partition logging at 0.3s; heal at 0.32s') });
    runWithFault(c, 320_000, () => undefined);
    expect(c.trace.filter((e) => e.ev === 'fault').map((e) => (e as { action: string }).action)).toEqual(['partition logging at 0.3s', 'heal at 0.32s']);
    expect(c.trace.some((e) => e.ev === 'msg-lost' && e.reason === 'partitioned')).toBe(true);
  });

  it('seed sweep: random loss on both directions of the channel, every checker holds', () => {
    for (const seed of [40, 41, 42, 43]) {
      const c = counterCluster(seed, { loggingLink: { delayUs: 80, jitterUs: 60, inOrder: seed % 2 === 0, lossRate: 0.05 } });
      c.run(600_000);
      const s = c.finish();
      expect(s.drained, `seed ${seed}`).toBe(true);
      expect(c.violations(), `seed ${seed}`).toEqual([]);
      expect(s.clientOps, `seed ${seed}`).toBeGreaterThan(100);
    }
  });
});

describe('liveness', () => {
  it('an output held for ever with nothing cut is reported as a wedge, and drain() says so', () => {
    // One lost batch, every resend request lost too, and resend timeouts of a minute: an output
    // stays held. The liveness check must see it (heartbeats still flow: nobody suspects a failure).
    const c = counterCluster(36, { ft: { resendTimeoutUs: 60_000_000, ackRepeatIntervalUs: 60_000_000 }, clients: 1 });
    c.run(200_000);
    c.link('A', 'log').dropNext('A', isType('log'));
    for (let i = 0; i < 1000; i++) c.link('A', 'log').dropNext('B', isType('resend'));
    c.run(3_000_000);
    expect(c.drain(200_000)).toBe(false);
    const v = c.violations().map((x) => x.what);
    expect(v.some((w) => /held for|made no progress/.test(w))).toBe(true);
    expect(v.some((w) => /did not drain/.test(w))).toBe(true);
  });
});
