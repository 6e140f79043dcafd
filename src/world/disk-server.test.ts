import { describe, expect, it } from 'vitest';
import { DiskServer } from './disk-server';
import type { DiskRequestMsg } from './disk-messages';

function blocks(count: number, fill: number): Uint8Array {
  return new Uint8Array(count * 512).fill(fill);
}

const write = (sector: number, count: number, data: Uint8Array, id = 1, vm = 'A'): DiskRequestMsg =>
  ({ kind: 'disk-write', vm, id, sector, count, data });
const read = (sector: number, count: number, id = 2, vm = 'A'): DiskRequestMsg => ({ kind: 'disk-read', vm, id, sector, count });

describe('DiskServer', () => {
  it('reads back what was written; unwritten blocks read as zeros', () => {
    const d = new DiskServer(16);
    const data = blocks(2, 0);
    data[0] = 1; data[511] = 2; data[512] = 3; data[1023] = 4;
    expect(d.handle(write(5, 2, data, 7), 0)).toEqual({ kind: 'disk-write-ok', vm: 'A', id: 7 });
    data.fill(0xee); // the server copied the data at write
    const r = d.handle(read(4, 4, 8, 'B'), 1);
    expect(r.kind).toBe('disk-read-ok');
    if (r.kind !== 'disk-read-ok') return;
    expect(r).toMatchObject({ vm: 'B', id: 8 });
    expect(r.data.length).toBe(4 * 512);
    expect(r.data.subarray(0, 512).every((b) => b === 0)).toBe(true);
    expect([r.data[512], r.data[1023], r.data[1024], r.data[1535]]).toEqual([1, 2, 3, 4]);
    expect(r.data.subarray(1536).every((b) => b === 0)).toBe(true);
    expect(d.counters()).toMatchObject({ reads: 1, writes: 1, blocksRead: 4, blocksWritten: 2 });
  });

  it('answers out-of-range, wrong-length and zero-count requests with an error reply, changing nothing', () => {
    const d = new DiskServer(8);
    expect(d.handle(read(7, 2, 3), 0)).toMatchObject({ kind: 'disk-error', id: 3, error: 'out-of-range', detail: expect.stringMatching(/7..8.*0..7/) });
    expect(d.handle(write(8, 1, blocks(1, 1)), 0)).toMatchObject({ kind: 'disk-error', error: 'out-of-range' });
    expect(d.handle(write(0, 2, blocks(1, 1)), 0)).toMatchObject({ kind: 'disk-error', error: 'bad-length', detail: expect.stringMatching(/512 bytes, expected 1024/) });
    expect(d.handle(read(0, 0), 0)).toMatchObject({ kind: 'disk-error', error: 'bad-request' });
    expect(d.handle(read(-1, 1), 0)).toMatchObject({ kind: 'disk-error', error: 'out-of-range' });
    expect(d.peekBlock(0).every((b) => b === 0)).toBe(true);
    expect(d.counters()).toMatchObject({ errors: 5, writes: 0, reads: 0 });
  });

  it('answers in arrival order: each read sees exactly the writes that arrived before it', () => {
    const d = new DiskServer(4);
    const seen: number[] = [];
    const script: DiskRequestMsg[] = [read(1, 1), write(1, 1, blocks(1, 10)), read(1, 1), write(1, 1, blocks(1, 20)), write(1, 1, blocks(1, 30)), read(1, 1)];
    for (const req of script) {
      const r = d.handle(req, 0);
      if (r.kind === 'disk-read-ok') seen.push(r.data[0]);
    }
    expect(seen).toEqual([0, 10, 30]);
  });

  it('test-and-set: the first caller wins, the second loses, the winner asking again still wins', () => {
    const d = new DiskServer(4);
    expect(d.testAndSet('B', 0, 100)).toEqual({ kind: 'tas-reply', vm: 'B', epoch: 0, won: true, holder: 'B', reason: 'set' });
    expect(d.testAndSet('A', 0, 110)).toEqual({ kind: 'tas-reply', vm: 'A', epoch: 0, won: false, holder: 'B', reason: 'held' });
    expect(d.testAndSet('B', 0, 120)).toMatchObject({ won: true, reason: 'already-holder' });
    expect(d.flag()).toEqual({ holder: 'B', epoch: 0 });
    expect(d.flagEvents()).toEqual([
      { kind: 'tas', vm: 'B', epoch: 0, atUs: 100, won: true, reason: 'set' },
      { kind: 'tas', vm: 'A', epoch: 0, atUs: 110, won: false, reason: 'held' },
      { kind: 'tas', vm: 'B', epoch: 0, atUs: 120, won: true, reason: 'already-holder' },
    ]);
  });

  it('resetFlag lets a new pair pick a winner; a request from the old epoch loses', () => {
    const d = new DiskServer(4);
    d.testAndSet('B', 0, 0);
    const epoch = d.resetFlag(50);
    expect(epoch).toBe(1);
    expect(d.testAndSet('A', 0, 60)).toMatchObject({ won: false, reason: 'stale-epoch', holder: null, epoch: 1 });
    expect(d.testAndSet('C', 1, 70)).toMatchObject({ won: true, reason: 'set', holder: 'C' });
    expect(d.testAndSet('B', 1, 80)).toMatchObject({ won: false, reason: 'held', holder: 'C' });
    expect(d.flagEvents().map((e) => e.kind)).toEqual(['tas', 'reset', 'tas', 'tas', 'tas']);
  });

  it('handle() routes tas-request to the flag', () => {
    const d = new DiskServer(4);
    expect(d.handle({ kind: 'tas-request', vm: 'A', epoch: 0 }, 5)).toMatchObject({ kind: 'tas-reply', won: true });
  });

  it('snapshot/restore round trips blocks, flag and log, and the snapshot does not alias live state', () => {
    const d = new DiskServer(32);
    d.handle(write(3, 2, blocks(2, 9)), 0);
    d.handle(write(30, 1, blocks(1, 4)), 0);
    d.testAndSet('A', 0, 1);
    const snap = d.snapshot();
    d.handle(write(3, 1, blocks(1, 1)), 2);
    d.resetFlag(3);
    expect(snap.blocks.map(([s]) => s)).toEqual([3, 4, 30]);
    expect(snap.blocks[0][1][0]).toBe(9);
    const e = new DiskServer(32);
    e.restore(structuredClone(snap));
    expect(e.snapshot()).toEqual(snap);
    expect(e.peekBlock(3)[0]).toBe(9);
    expect(e.flag()).toEqual({ holder: 'A', epoch: 0 });
    expect(() => new DiskServer(8).restore(snap)).toThrow(/32 blocks/);
  });
});
