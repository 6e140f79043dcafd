/** Lockstep's checkpoints for time travel (checkpoints.ts): which are kept, and what each holds. */
import { describe, expect, it } from 'vitest';
import { CHECKPOINTS_OLD_MAX, CHECKPOINTS_RECENT_US, CHECKPOINT_EVERY_US, Checkpoints, thinCheckpoints } from './checkpoints';
import { Conductor } from '../sim/conductor';
import { localNodes } from '../sim/local-nodes';
import { guestClusterConfig } from '../sim/guests';
import { readGuestElf } from '../sim/guest-files';
import { CLUSTER_DEFAULTS } from '../sim/cluster-config';
import type { WorldSnapshot } from '../world/world';
import type { ClusterSnapshot } from '../sim/conductor-types';

/** A run of `seconds` virtual seconds, a checkpoint taken just past each whole second, thinned as it goes. */
function run(seconds: number): { kept: number[]; every: number } {
  let kept: { atUs: number }[] = [];
  let every = 1;
  for (let s = 0; s <= seconds; s++) {
    const atUs = s * CHECKPOINT_EVERY_US + (s === 0 ? 0 : 137); // the first boundary at or past it
    [kept, every] = thinCheckpoints([...kept, { atUs }], atUs, every);
  }
  return { kept: kept.map((c) => c.atUs), every };
}

const gaps = (xs: number[]): number[] => xs.slice(1).map((x, i) => x - xs[i]);

describe('time travel keeps a checkpoint near every moment of a long run', () => {
  it('a short run keeps them all', () => {
    const { kept, every } = run(90);
    expect(kept.length).toBe(91);
    expect(every).toBe(1);
  });

  it('a 50-minute lecture: the last minute at one a second, older ones evenly spaced, time 0 always', () => {
    const nowUs = 3000 * CHECKPOINT_EVERY_US + 137;
    const { kept, every } = run(3000);
    expect(kept[0]).toBe(0);
    const old = kept.filter((t) => t <= nowUs - CHECKPOINTS_RECENT_US);
    const recent = kept.filter((t) => t > nowUs - CHECKPOINTS_RECENT_US);
    expect(old.length).toBeLessThanOrEqual(CHECKPOINTS_OLD_MAX);
    expect(old.length).toBeGreaterThan(CHECKPOINTS_OLD_MAX / 2);
    expect(recent.length).toBe(60);
    expect(Math.max(...gaps(recent))).toBe(CHECKPOINT_EVERY_US);
    // Evenly spaced: no moment is much further than `every` seconds after a checkpoint.
    expect(every).toBe(16);
    expect(Math.max(...gaps(kept))).toBeLessThan((every + 1) * CHECKPOINT_EVERY_US);
    expect(kept).toEqual([...kept].sort((a, b) => a - b));
  });
});

describe('a checkpoint gives back its snapshot whole, the clients\' logs shared with the newest', () => {
  it('counter, seed 3: each of three checkpoints comes back equal to the snapshot taken, and keeps one row a client', async () => {
    const cfg = { ...CLUSTER_DEFAULTS, ...guestClusterConfig('counter', readGuestElf('counter'), 3, 3), keepTrace: false, script: [] };
    const c = new Conductor(cfg, localNodes(cfg));
    const store = new Checkpoints();
    const taken: ClusterSnapshot[] = [];
    for (const t of [0, 400_000, 800_000, 1_200_000]) {
      await c.run(t);
      const snap = await c.snapshot();
      taken.push(structuredClone(snap));
      store.add(snap);
    }
    const rows = (s: ClusterSnapshot): number[] => (s.nodes.world.inner as WorldSnapshot).clients.map((x) => x.ops.op.length);
    expect(rows(taken[3]).every((n) => n > 50), 'the clients did work').toBe(true);
    expect(store.times).toEqual(taken.map((s) => s.nowUs));
    // What each keeps of the logs: nothing but the last row.
    const inside = (store as unknown as { kept: { snap: ClusterSnapshot; ops: { last: { op: Uint8Array } }[] }[] }).kept;
    for (const k of inside) {
      expect(rows(k.snap)).toEqual([0, 0, 0]);
      expect(k.ops.every((o) => o.last.op.length <= 1)).toBe(true);
    }
    // Newest first, as travel goes: each comes back equal to what was taken, and the later ones go.
    for (const i of [2, 1, 0]) {
      const back = store.rewindTo(taken[i].nowUs + 1);
      expect(back, `checkpoint ${i}`).toEqual(taken[i]);
      expect(store.size).toBe(i + 1);
    }
    expect(store.rewindTo(-1)).toBeNull();
  });
});
