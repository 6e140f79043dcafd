/**
 * Failures in the simulator (docs/design.md §4.9–4.10): the lecture's increment example killed at
 * every point of the Output Rule, split brain prevented by test-and-set, pending disk writes
 * re-issued, FT VMotion and a second failover, and failover time = detection + replay.
 */
import { describe, expect, it } from 'vitest';
import { Cluster, type ClusterConfig } from './cluster';
import { guestClusterConfig } from './guests';
import { readGuestElf } from './guest-files';
import { parseScript } from './script';
import type { TraceEvent } from './trace';
import { checkLinearizable } from './linearizability';

const counterElf = readGuestElf('counter');

function counter(seed: number, over: Partial<ClusterConfig> = {}): Cluster {
  const base = guestClusterConfig('counter', counterElf, seed, over.clients ?? 3);
  return new Cluster({ ...base, ...over, ft: { ...base.ft, ...over.ft } });
}

type Done = Extract<TraceEvent, { ev: 'client-completed' }>;
const completions = (c: Cluster): Done[] => c.trace.filter((e): e is Done => e.ev === 'client-completed');

/** Sends one increment and runs until it completes (retrying through any failover). */
function increment(c: Cluster, limitUs = 3_000_000): number {
  const before = completions(c).length;
  c.clientSend(1);
  const end = c.now + limitUs;
  while (completions(c).length === before && c.now < end) c.run(c.now + 5_000);
  const done = completions(c);
  if (done.length === before) throw new Error(`increment did not complete by ${c.now} µs (seed ${c.cfg.seed})`);
  return done[done.length - 1].result;
}

/** Every completed operation of a client got a distinct value (no two requests saw the same count). */
function distinctResults(c: Cluster): void {
  const bySeq = new Map<number, number>();
  for (const d of completions(c)) bySeq.set(d.seq, d.result);
  const values = [...bySeq.values()];
  expect(new Set(values).size, `seed ${c.cfg.seed}: ${values.join(',')}`).toBe(values.length);
}

type KillPoint = 'before the entry is sent' | 'after it is sent, before the ack' | 'after the ack, before the reply is released' | 'after the reply is released';

/**
 * The lecture's example: the counter at 10, one client increments, and the primary dies at one
 * point of the increment's way through the Output Rule.
 */
function killDuring(point: KillPoint, seed: number): { cluster: Cluster; next: number; afterNext: number } {
  const c = counter(seed, { clients: 1, load: false });
  c.run(50_000);
  for (let i = 1; i <= 10; i++) expect(increment(c)).toBe(i);
  let armed = true;
  const kill = (now: boolean): void => {
    armed = false;
    if (now) c.apply({ kind: 'kill', vm: 'A' });
    else c.at(c.now, { kind: 'kill', vm: 'A' });
  };
  c.listeners.push((e) => {
    if (!armed || e.vm !== 'A') return;
    if (point === 'before the entry is sent' && e.ev === 'output-held') kill(false); // never: see below
    if (point === 'after it is sent, before the ack' && e.ev === 'log-sent' && e.entries.some((x) => x[2] === 'net-rx')) kill(false);
    if (point === 'after the ack, before the reply is released' && e.ev === 'output-released' && e.out === 'net-tx') kill(true);
    if (point === 'after the reply is released' && e.ev === 'output-released' && e.out === 'net-tx') kill(false);
  });
  if (point === 'before the entry is sent') {
    // The request reaches A; A takes it into its bounce buffer and runs the slice that logs it —
    // and dies before that slice ends, so the entry never leaves.
    c.clientSend(1);
    const req = c.link('A', 'net').inFlight.find((m) => m.to === 'A');
    expect(req).toBeDefined();
    c.at((req as { deliverUs: number }).deliverUs + 0.001, { kind: 'kill', vm: 'A' });
    armed = false;
    const before = completions(c).length;
    while (completions(c).length === before && c.now < 5_000_000) c.run(c.now + 5_000);
  }
  const next = point === 'before the entry is sent' ? completions(c)[completions(c).length - 1].result : increment(c);
  const afterNext = increment(c);
  return { cluster: c, next, afterNext };
}

describe('the increment example: kill the primary at every point of the Output Rule', () => {
  const points: KillPoint[] = ['before the entry is sent', 'after it is sent, before the ack', 'after the ack, before the reply is released', 'after the reply is released'];
  for (const point of points) {
    it(`killed ${point}: the next increments return 11 and 12, no value twice`, () => {
      const seed = 50 + points.indexOf(point);
      const { cluster: c, next, afterNext } = killDuring(point, seed);
      expect(next, `seed ${seed}`).toBe(11);
      expect(afterNext, `seed ${seed}`).toBe(12);
      expect(c.roles).toMatchObject({ A: 'crashed', B: 'live' });
      distinctResults(c);
      const s = c.finish();
      expect(c.violations(), `seed ${seed}`).toEqual([]);
      expect(s.failovers).toHaveLength(1);
    });
  }
});

describe('split brain: test-and-set lets exactly one VM go on', () => {
  it('a partitioned logging channel: one VM serves, the other halts, and stays halted after heal', () => {
    const c = counter(60, { script: parseScript('partition logging at 0.3s; heal at 1.5s') });
    c.run(2_500_000);
    const roles = Object.values(c.roles);
    expect(roles.filter((r) => r === 'live')).toHaveLength(1);
    expect(roles.filter((r) => r === 'halted')).toHaveLength(1);
    const opsAfter = completions(c).filter((e) => e.tUs > 1_000_000).length;
    expect(opsAfter).toBeGreaterThan(200);
    c.finish();
    expect(c.violations()).toEqual([]);
    expect(c.summary().tasWinners).toHaveLength(1);
  });

  it('a primary that wins test-and-set after its backup died resends nothing more to it', () => {
    const c = counter(65, { script: parseScript('kill backup at 0.2s') });
    c.run(1_500_000);
    const won = c.trace.find((e) => e.ev === 'tas-answered' && e.vm === 'A' && e.won);
    expect(won, 'seed 65: A never won test-and-set').toBeDefined();
    const resent = c.trace.filter((e) => e.ev === 'log-sent' && e.vm === 'A' && e.resent);
    expect(resent.length, 'seed 65: the dead backup was never resent to').toBeGreaterThan(0); // before it won
    expect(resent.filter((e) => e.tUs > (won as TraceEvent).tUs)).toEqual([]);
    expect(c.summary().vms.find((v) => v.name === 'A')?.role).toBe('live');
  });

  it('with the primary also cut from the disk, the backup serves and the primary never goes on alone', () => {
    const c = counter(61, { script: parseScript('cut A disk at 0.29s; partition logging at 0.3s') });
    c.run(2_000_000);
    expect(c.roles.B).toBe('live');
    expect(c.roles.A).not.toBe('live');
    expect(c.trace.some((e) => e.ev === 'went-live' && e.vm === 'A')).toBe(false);
    // A keeps asking: the disk server never hears it, so it never wins.
    expect(c.trace.filter((e) => e.ev === 'tas-requested' && e.vm === 'A').length).toBeGreaterThan(3);
    expect(completions(c).filter((e) => e.tUs > 1_000_000 && e.fromVm === 'B').length).toBeGreaterThan(100);
    c.finish();
    expect(c.violations()).toEqual([]);
  });
});

describe('pending disk I/O', () => {
  it('killed with disk writes in flight: the disk ends as the primary alone would have left it', () => {
    // Kill the primary right after it issues a disk write, before the write completes.
    const c = counter(62, { clients: 2 });
    let killedAt = -1;
    c.listeners.push((e) => {
      if (killedAt < 0 && e.tUs > 300_000 && e.vm === 'A' && e.ev === 'output-released' && e.out === 'disk' && e.disk === 'write') {
        killedAt = e.tUs;
        c.at(c.now, { kind: 'kill', vm: 'A' });
      }
    });
    c.run(1_500_000);
    const s = c.finish();
    expect(killedAt).toBeGreaterThan(0);
    expect(s.reissued, 'the write in flight was issued again by B').toBe(1);
    expect(c.violations()).toEqual([]);
    // The guest keeps its counter in the first word of disk block 0: after the failover the disk
    // holds the last value any client was given — no write was lost or applied twice differently —
    // plus at most the increments still unanswered when the run ended (they may have taken effect).
    const last = Math.max(...completions(c).map((d) => d.result));
    const unanswered = c.world.history().filter((h) => h.returnUs === null).length;
    expect(diskWord(c, 0)).toBeGreaterThanOrEqual(last);
    expect(diskWord(c, 0)).toBeLessThanOrEqual(last + unanswered);
    expect(c.roles.B).toBe('live');
  });
});

/** The first 32-bit word of a disk block, as the disk server holds it. */
function diskWord(c: Cluster, sector: number): number {
  const bytes = c.world.disk.peekBlock(sector);
  return new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
}

describe('FT VMotion', () => {
  it('kill → VMotion → kill again: the service goes on, the history stays right, C matches while it is a backup', () => {
    const c = counter(63, { script: parseScript('kill primary at 0.3s; vmotion at 1s; kill B at 1.6s') });
    c.run(3_000_000);
    expect(c.roles).toMatchObject({ A: 'crashed', B: 'crashed', C: 'live' });
    const hashOkC = c.trace.filter((e) => e.ev === 'hash-ok' && e.vm === 'C').length;
    expect(hashOkC).toBeGreaterThan(5);
    expect(c.trace.some((e) => e.ev === 'snapshot-restored' && e.vm === 'C')).toBe(true);
    expect(completions(c).filter((e) => e.tUs > 2_200_000 && e.fromVm === 'C').length).toBeGreaterThan(100);
    const s = c.finish();
    expect(c.violations()).toEqual([]);
    expect(s.failovers.map((f) => f.vm)).toEqual(['B', 'C']);
    for (const client of [1, 2, 3]) {
      const results = completions(c).filter((d) => d.client === client).map((d) => d.result);
      for (let i = 1; i < results.length; i++) expect(results[i]).toBeGreaterThan(results[i - 1]);
    }
    const all = completions(c);
    expect(new Set(all.map((d) => d.result)).size).toBe(new Set(all.map((d) => `${d.client}/${d.seq}`)).size);
  });
});

describe('failover time', () => {
  it('kill → serving = detection + replay of the lag + one test-and-set round trip', () => {
    const c = counter(64, { backupSpeedIps: 2_000_000, script: parseScript('kill primary at 0.5s') });
    c.run(1_500_000);
    const [f] = c.summary().failovers;
    expect(f.vm).toBe('B');
    const detectionUs = (f.suspectedUs as number) - (f.faultUs as number);
    const replayUs = (f.replayDoneUs as number) - (f.suspectedUs as number);
    const tasUs = f.liveUs - (f.replayDoneUs as number);
    expect(detectionUs).toBeGreaterThanOrEqual(c.ft.failureTimeoutUs - c.ft.heartbeatIntervalUs);
    expect(detectionUs).toBeLessThanOrEqual(c.ft.failureTimeoutUs + 1_000);
    expect(tasUs).toBeLessThan(2_000); // the disk link's round trip
    expect(f.liveUs - (f.faultUs as number)).toBeCloseTo(detectionUs + replayUs + tasUs, 6);
  });
});

describe('why the Output Rule: the lecture anomaly with it switched off', () => {
  it('the reply leaves before the backup has the entry; the primary dies; the next increment returns 11 again', () => {
    const run = (outputRule: boolean): { results: number[]; lin: ReturnType<typeof checkLinearizable> } => {
      const c = counter(70, { clients: 1, load: false, ft: { outputRule }, loggingLink: { delayUs: 2_000, jitterUs: 0 } });
      c.run(50_000);
      for (let i = 1; i <= 10; i++) increment(c);
      let armed = true;
      c.listeners.push((e) => {
        // The 11th reply leaves A: cut the logging channel (what is in flight is lost) and kill A.
        if (armed && e.vm === 'A' && e.ev === 'output-released' && e.out === 'net-tx') {
          armed = false;
          c.at(c.now, { kind: 'partition', what: 'logging' });
          c.at(c.now, { kind: 'kill', vm: 'A' });
        }
      });
      const results = [increment(c), increment(c)];
      return { results, lin: checkLinearizable(c.world.history(), 'counter') };
    };
    const broken = run(false);
    expect(broken.results).toEqual([11, 11]); // the increment the client saw is lost
    expect(broken.lin.kind).toBe('violation');
    const safe = run(true);
    expect(safe.results).toEqual([11, 12]);
    expect(safe.lin.kind).toBe('ok');
  });
});

describe('the failover bound: after a single failure, service resumes within failure timeout + lag cap', () => {
  const bound = (c: Cluster): number => {
    const s = c.hosts[0].settings;
    return s.failureTimeoutUs + s.lagCapUs + 2 * ((c.cfg.diskLink.delayUs ?? 0) + (c.cfg.diskLink.jitterUs ?? 0));
  };

  for (const fault of ['kill primary', 'kill backup', 'partition logging']) {
    it(`${fault}: a VM serves within the bound, and the liveness checker is satisfied`, () => {
      for (const seed of [1, 2, 3]) {
        const c = counter(seed, { script: parseScript(`${fault} at 300ms`) });
        c.run(1_500_000);
        c.finish();
        const f = c.summary().failovers[0];
        expect(f, `seed ${seed}`).toBeDefined();
        expect(f.liveUs - 300_000, `seed ${seed}`).toBeLessThanOrEqual(bound(c));
        expect(c.violations().filter((v) => v.checker === 'liveness'), `seed ${seed}`).toEqual([]);
      }
    });
  }

  it('a failover held up past the bound (the disk server never hears test-and-set) is a liveness violation', () => {
    const c = counter(4, { script: parseScript('kill primary at 300ms') });
    for (let i = 0; i < 100; i++) c.link('B', 'disk').dropNext('B', (m) => (m as { kind: string }).kind === 'tas-request');
    c.run(1_500_000);
    c.finish();
    const late = c.violations().filter((v) => v.checker === 'liveness' && /no VM serves/.test(v.what));
    expect(late.length, 'seed 4').toBe(1);
    expect(late[0].what).toMatch(/after kill primary at 300\.0 ms: the bound is [\d.]+ ms \(failure timeout/);
  });

  it('a second fault inside the window withdraws the bound (it is no longer a single failure)', () => {
    const c = counter(5, { script: parseScript('kill primary at 300ms; cut B disk at 310ms') });
    c.run(1_500_000);
    c.finish();
    expect(c.violations().filter((v) => /no VM serves/.test(v.what))).toEqual([]);
  });
});
