/**
 * Lockstep's checkpoints for time travel (docs/design.md §7.1): a cluster snapshot at the first
 * window boundary at or past every whole virtual second, so the slider restores the nearest one and
 * runs on from it instead of running the whole run again.
 *
 * A snapshot is small (sparse RAM: ~70 KB a VM for the lecture guests) but for one thing that grows
 * with the run: the clients' operation logs, which the linearizability checker needs whole — 46
 * bytes an operation, ~20 KB a virtual second for the counter guest under load. Kept in every
 * checkpoint that would grow as the square of the run. Every row of a client's log but its last is
 * final, though, so the store keeps each log once, the newest checkpoint's, and of every
 * checkpoint only its row count and its last row (`sliceOps`, op-log.ts).
 */
import type { ClusterSnapshot } from '../sim/conductor-types';
import type { WorldSnapshot } from '../world/world';
import { concatOps, sliceOps, type OpLogSnapshot } from '../world/op-log';

export const CHECKPOINT_EVERY_US = 1_000_000;
/** The last minute keeps every checkpoint: going back a little is the common case. */
export const CHECKPOINTS_RECENT_US = 60_000_000;
/**
 * Older than that, at most this many, evenly spaced: past it the spacing doubles and every other
 * one goes. So every moment of a run has a checkpoint not far before it: in a 50-minute lecture,
 * one every 16 s beyond the last minute, ~245 in all.
 */
export const CHECKPOINTS_OLD_MAX = 200;

interface Kept {
  atUs: number;
  /** The snapshot with its clients' operation logs emptied… */
  snap: ClusterSnapshot;
  /** …and, by client, how many rows each had, and its last row. */
  ops: { count: number; last: OpLogSnapshot }[];
}

export class Checkpoints {
  private kept: Kept[] = [];
  /** Checkpoints older than the last minute are kept at every this many whole seconds. */
  private oldEvery = 1;
  /** By client: the newest checkpoint's whole operation log; every other takes its final rows from it. */
  private base: OpLogSnapshot[] = [];

  /** Their virtual times, oldest first. */
  get times(): number[] {
    return this.kept.map((k) => k.atUs);
  }

  get size(): number {
    return this.kept.length;
  }

  /** Keeps a snapshot taken at `snap.nowUs` (the newest: any at or after it go), then thins the rest. */
  add(snap: ClusterSnapshot): void {
    const world = worldOf(snap);
    this.base = world.clients.map((c) => c.ops);
    const ops = world.clients.map((c) => ({ count: c.ops.op.length, last: sliceOps(c.ops, Math.max(0, c.ops.op.length - 1), c.ops.op.length) }));
    const light: ClusterSnapshot = {
      ...snap,
      nodes: { ...snap.nodes, world: { ...snap.nodes.world, inner: { ...world, clients: world.clients.map((c) => ({ ...c, ops: sliceOps(c.ops, 0, 0) })) } } },
    };
    this.dropFrom(snap.nowUs);
    this.kept.push({ atUs: snap.nowUs, snap: light, ops });
    [this.kept, this.oldEvery] = thinCheckpoints(this.kept, snap.nowUs, this.oldEvery);
  }

  /** The newest checkpoint at or before `tUs`, whole, and every later one dropped (null: there is none). */
  rewindTo(tUs: number): ClusterSnapshot | null {
    let i = this.kept.length - 1;
    while (i >= 0 && this.kept[i].atUs > tUs) i--;
    if (i < 0) return null;
    this.kept.length = i + 1;
    return this.whole(this.kept[i]);
  }

  /** Drops every checkpoint after `tUs` (a future that may not happen again). */
  dropAfter(tUs: number): void {
    while (this.kept.length > 0 && this.kept[this.kept.length - 1].atUs > tUs) this.kept.pop();
  }

  private dropFrom(tUs: number): void {
    while (this.kept.length > 0 && this.kept[this.kept.length - 1].atUs >= tUs) this.kept.pop();
  }

  private whole(k: Kept): ClusterSnapshot {
    const world = worldOf(k.snap);
    const clients = world.clients.map((c, i) => {
      const { count, last } = k.ops[i];
      const base = this.base[i];
      if (count > 0 && !(base && base.op.length >= count - 1)) throw new Error(`checkpoint at ${k.atUs} µs: client ${i + 1}'s operation log is shorter than its ${count - 1} final rows`);
      return { ...c, ops: count === 0 ? last : concatOps(base, count - 1, last) };
    });
    return { ...k.snap, nodes: { ...k.snap.nodes, world: { ...k.snap.nodes.world, inner: { ...world, clients } } } };
  }
}

function worldOf(snap: ClusterSnapshot): WorldSnapshot {
  const w = snap.nodes.world?.inner as WorldSnapshot | undefined;
  if (!w || !Array.isArray(w.clients)) throw new Error('a cluster snapshot without the world\'s clients');
  return w;
}

/**
 * The checkpoints to keep at `nowUs`, oldest first, and the spacing of the old ones: every one of
 * the last minute stays; older ones stay at every `oldEvery` whole seconds (time 0 always), and
 * `oldEvery` doubles while more than CHECKPOINTS_OLD_MAX are older.
 */
export function thinCheckpoints<T extends { atUs: number }>(all: readonly T[], nowUs: number, oldEvery: number): [T[], number] {
  const second = (c: T): number => Math.floor(c.atUs / CHECKPOINT_EVERY_US);
  const recent = (c: T): boolean => c.atUs > nowUs - CHECKPOINTS_RECENT_US;
  let every = oldEvery;
  let kept = all.filter((c) => recent(c) || second(c) % every === 0);
  while (kept.filter((c) => !recent(c)).length > CHECKPOINTS_OLD_MAX) {
    every *= 2;
    kept = kept.filter((c) => recent(c) || second(c) % every === 0);
  }
  return [kept, every];
}
