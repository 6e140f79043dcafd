/**
 * The lockstep conductor runs each node on its own, window by window, and merges what they did:
 * its trace must be the simulator's, event for event, for every guest and fault.
 */
import { describe, expect, it } from 'vitest';
import { Cluster, type ClusterConfig } from './cluster';
import { Conductor, type NodeHandle } from './conductor';
import type { WindowReport } from './node';
import { localNodes } from './local-nodes';
import { guestClusterConfig, type GuestName } from './guests';
import { readGuestElf } from './guest-files';
import { parseScript } from './script';
import { CLUSTER_DEFAULTS } from './cluster-config';
import { serializeTrace, type TraceEvent } from './trace';

function config(guest: GuestName, seed: number, script: string, over: Partial<ClusterConfig> = {}): ClusterConfig {
  const base = guestClusterConfig(guest, readGuestElf(guest), seed, 3);
  return { ...CLUSTER_DEFAULTS, ...base, ...over, script: parseScript(script) };
}

const before = (t: number) => (e: TraceEvent): boolean => e.tUs < t;

async function both(cfg: ClusterConfig, untilUs: number): Promise<{ sim: string; lockstep: string; conductor: Conductor }> {
  const cluster = new Cluster(cfg);
  cluster.run(untilUs);
  const conductor = new Conductor(cfg, localNodes(cfg));
  await conductor.run(untilUs);
  return { sim: serializeTrace(cluster.trace.filter(before(untilUs))), lockstep: serializeTrace(conductor.trace.filter(before(untilUs))), conductor };
}

function firstDifference(a: string, b: string): string {
  const x = a.split('\n');
  const y = b.split('\n');
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    if (x[i] !== y[i]) return `line ${i}:\n  sim:      ${x[i]}\n  lockstep: ${y[i]}\n  before:   ${x[i - 1]}`;
  }
  return 'equal';
}

describe('the lockstep conductor gives the simulator\'s run', () => {
  const cases: [GuestName, number, string][] = [
    ['counter', 1, ''],
    ['kv', 2, ''],
    ['ticker', 3, ''],
    ['counter', 4, 'kill primary at 200ms'],
    ['counter', 5, 'kill backup at 150ms; vmotion at 400ms'],
    ['counter', 6, 'partition logging at 120ms; heal at 300ms'],
    ['kv', 7, 'kill primary at 100ms; vmotion at 350ms; kill primary at 600ms'],
    ['counter', 8, 'cut A clients at 100ms; heal at 200ms'],
    ['counter', 10, 'load off at 100ms; send client 1 at 300ms; load on at 500ms'],
    ['counter', 15, 'flip primary 0x80f00000 at 200ms'],
  ];
  for (const [guest, seed, script] of cases) {
    it(`${guest}, seed ${seed}${script ? `, ${script}` : ''}: the same trace`, async () => {
      const { sim, lockstep, conductor } = await both(config(guest, seed, script), 800_000);
      expect(sim.length).toBeGreaterThan(1000);
      expect(firstDifference(sim, lockstep), `seed ${seed}`).toBe('equal');
      expect(conductor.windows, 'lookahead makes windows longer than the smallest link delay').toBeLessThan(800_000 / 50);
    });
  }
});

describe('a window stops where what its node sent could come back', () => {
  it('runs a node that sends nothing to the end of its window, and one that sends no further than its packets\' way back', async () => {
    const cfg = config('counter', 16, '');
    const inner = localNodes(cfg);
    const windows: { endUs: number; returnUs: Record<string, number>; r: WindowReport }[] = [];
    const watch = <H extends NodeHandle>(h: H): H => ({
      ...h,
      runWindow: async (endUs: number, expect: Record<number, number>, returnUs: Record<string, number>) => {
        const r = await h.runWindow(endUs, expect, returnUs);
        windows.push({ endUs, returnUs, r });
        return r;
      },
    });
    const conductor = new Conductor(cfg, { world: () => watch(inner.world()), host: (spec) => watch(inner.host(spec)) });
    await conductor.run(300_000);
    let quiet = 0;
    let stopped = 0;
    for (const { endUs, returnUs, r } of windows) {
      let back = Infinity;
      for (const [peer, t] of Object.entries(r.earliestTo)) back = Math.min(back, t + (returnUs[peer] ?? Infinity));
      expect(r.doneUs).toBe(Math.min(endUs, back));
      if (back === Infinity) quiet++;
      else if (back < endUs) stopped++;
    }
    expect(quiet, 'windows that sent nothing ran to their end').toBeGreaterThan(0);
    expect(stopped, 'windows that sent stopped where it could come back').toBeGreaterThan(0);
  });
});

describe('a run with the user\'s actions is a script', () => {
  it('actions taken between windows come back as a script that the simulator replays exactly', async () => {
    const cfg = config('counter', 9, '');
    const conductor = new Conductor(cfg, localNodes(cfg));
    await conductor.step();
    await conductor.run(123_456.5); // mid-window, not a whole microsecond
    await conductor.act({ kind: 'send', client: 2 });
    await conductor.run(300_000);
    await conductor.act({ kind: 'kill', vm: 'primary' });
    await conductor.run(900_000);
    const script = conductor.runScript();
    expect(script).toMatch(/^send client 2 at 123457us; kill primary at \d+us$/);
    const sim = new Cluster({ ...cfg, script: parseScript(script) });
    sim.run(900_000);
    const a = serializeTrace(sim.trace.filter(before(900_000)));
    const b = serializeTrace(conductor.trace.filter(before(900_000)));
    expect(firstDifference(a, b)).toBe('equal');
  });
});

describe('time travel: the whole cluster snapshotted at a window boundary and restored', () => {
  const cases: [GuestName, number, string][] = [
    ['counter', 11, 'kill primary at 300ms; vmotion at 600ms'],
    ['kv', 12, 'partition logging at 250ms; heal at 500ms'],
    ['ticker', 13, ''],
    ['counter', 14, 'kill primary at 150ms; vmotion at 300ms'], // C exists at the snapshot
  ];
  for (const [guest, seed, script] of cases) {
    it(`${guest}, seed ${seed}${script ? `, ${script}` : ''}: a restored cluster goes on exactly as the original did`, async () => {
      const cfg = config(guest, seed, script);
      const original = new Conductor(cfg, localNodes(cfg));
      await original.run(400_000);
      const snap = await original.snapshot();
      await original.run(900_000);
      const restored = await Conductor.restore(cfg, localNodes(cfg), snap, original.trace);
      expect(restored.now).toBe(snap.nowUs);
      await restored.run(900_000);
      expect(firstDifference(serializeTrace(original.trace), serializeTrace(restored.trace)), `seed ${seed}`).toBe('equal');
      expect(restored.violations()).toEqual(original.violations());
      expect(restored.roles).toEqual(original.roles);
    });
  }
});

describe('time travel with a fork: back to a moment after a snapshot, the actions between applied again', () => {
  it('counter, seed 21: the moment is the old run\'s, and from there the run is the simulator\'s of the cut script', async () => {
    const cfg = config('counter', 21, 'partition logging at 650ms; heal at 800ms');
    const original = new Conductor(cfg, localNodes(cfg));
    await original.run(200_000);
    const snap = await original.snapshot();
    await original.run(310_000.25);
    await original.act({ kind: 'send', client: 1 });
    await original.run(420_000);
    await original.act({ kind: 'kill', vm: 'backup' });
    await original.run(700_000);
    await original.act({ kind: 'vmotion' }); // after the moment: forgotten with the partition and heal
    await original.run(900_000);
    const moment = 500_000;

    const forked = await Conductor.restore(cfg, localNodes(cfg), snap, original.trace, { beforeUs: moment, userSteps: original.actions });
    await forked.run(moment);
    const upTo = (c: Conductor): string => serializeTrace(c.trace.filter(before(moment)));
    expect(firstDifference(upTo(original), upTo(forked)), 'seed 21: the same moment').toBe('equal');
    expect(forked.runScript()).toMatch(/^send client 1 at 310001us; kill backup at 42\d{4}us$/);
    expect(forked.roles.B).toBe('crashed');

    // From the moment on it is a run of its own: the simulator's with the cut script.
    await forked.run(900_000);
    const sim = new Cluster({ ...cfg, script: parseScript(forked.runScript()) });
    sim.run(900_000);
    expect(firstDifference(serializeTrace(sim.trace.filter(before(900_000))), serializeTrace(forked.trace.filter(before(900_000)))), 'seed 21').toBe('equal');
    expect(forked.trace.some((e) => e.ev === 'fault' && e.tUs >= moment), 'nothing scripted or done after the moment').toBe(false);
    expect(forked.roles, 'A went live alone: no partition, no new backup').toEqual({ A: 'live', B: 'crashed' });
    expect(original.trace.some((e) => e.ev === 'fault' && e.tUs >= moment), 'the old run had faults after it').toBe(true);
  });
});
