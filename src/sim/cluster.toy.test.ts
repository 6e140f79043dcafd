/** The cluster on the toy machine: fast checks of the simulator's wiring and the checkers. */
import { describe, expect, it } from 'vitest';
import { Cluster } from './cluster';
import { ToyMachine } from '../ft/testing/toy-machine';
import { checkAll } from './checkers';
import { serializeTrace } from './trace';

function toyCluster(seed: number, over: Partial<ConstructorParameters<typeof Cluster>[0]> = {}): Cluster {
  return new Cluster({ seed, makeMachine: () => new ToyMachine({ wfiEvery: 3_000 }), ft: { hashIntervalInstructions: 200_000 }, ...over });
}

describe('cluster on the toy machine', () => {
  it('replays in sync and passes every checker', () => {
    const seed = 42;
    const c = toyCluster(seed);
    c.run(1_000_000);
    expect(c.drain(), `seed ${seed}`).toBe(true);
    const s = c.summary();
    expect(checkAll(c.trace), `seed ${seed}`).toEqual([]);
    expect(s.sync).toBe('in-sync');
    expect(s.hashesChecked).toBeGreaterThan(2);
    expect(s.released).toBeGreaterThan(10);
  });

  it('same seed → identical trace; different seeds → different traces', () => {
    const a = toyCluster(9);
    a.run(300_000);
    const b = toyCluster(9);
    b.run(300_000);
    const c = toyCluster(10);
    c.run(300_000);
    expect(serializeTrace(a.trace)).toBe(serializeTrace(b.trace));
    expect(serializeTrace(a.trace)).not.toBe(serializeTrace(c.trace));
  });
});
