import { describe, expect, it } from 'vitest';
import { LogReceiver, LogSender, EARLY_BATCHES_MAX } from './reliable';
import { encodeBatch, type LogEntry } from './log';

/** Batch k holds seqs 2k+1, 2k+2 at icounts 10·seq. */
function batch(k: number): { first: number; last: number; entries: LogEntry[]; bytes: ArrayBuffer } {
  const entries: LogEntry[] = [2 * k + 1, 2 * k + 2].map((seq) => ({ seq, icount: seq * 10, kind: 'progress' }));
  return { first: entries[0].seq, last: entries[1].seq, entries, bytes: encodeBatch(entries) };
}

describe('LogSender', () => {
  it('keeps batches until acked, resends from a seq on request, and after the timeout with back-off', () => {
    const s = new LogSender(1_000);
    for (let k = 0; k < 3; k++) s.sent(batch(k), 0);
    expect(s.unackedBatches).toBe(3);
    s.acked(2, 100);
    expect(s.unackedBatches).toBe(2);
    expect(s.resendFrom(4, 200).map((b) => b.first)).toEqual([3, 5]);
    expect(s.due(500)).toEqual([]);
    expect(s.due(1_200).map((b) => b.first)).toEqual([3, 5]);
    // Nothing got through: the next timeout is twice as long.
    expect(s.due(2_300)).toEqual([]);
    expect(s.due(3_200).map((b) => b.first)).toEqual([3, 5]);
    s.acked(6, 3_300);
    expect(s.unackedBatches).toBe(0);
    expect(s.nextDueUs()).toBeNull();
  });

  it('forgets its batches for a primary gone alone, and starts a new sequence for a new backup, keeping its count of resends', () => {
    const s = new LogSender(1_000);
    for (let k = 0; k < 2; k++) s.sent(batch(k), 0);
    s.acked(2, 100);
    expect(s.due(1_200).map((b) => b.first)).toEqual([3]);
    s.forget();
    expect(s.unackedBatches).toBe(0);
    expect(s.nextDueUs()).toBeNull();
    expect(s.due(10_000)).toEqual([]);
    expect(s.resends).toBe(1);
    s.restart();
    s.sent(batch(0), 20_000); // seq 1 again: a new pair's first batch
    s.acked(2, 20_100); // covers it: the old pair's ack count is gone
    expect(s.unackedBatches).toBe(0);
    expect(s.resends).toBe(1);
  });

  it('refuses a batch that does not follow the previous one', () => {
    const s = new LogSender(1_000);
    s.sent(batch(0), 0);
    expect(() => s.sent(batch(2), 0)).toThrow(/does not follow/);
  });
});

describe('LogReceiver', () => {
  it('accepts in order, holds early batches behind a gap and joins them up when it fills', () => {
    const r = new LogReceiver(0, 1_000);
    expect(r.receive(batch(0).bytes, 0)).toMatchObject({ kind: 'accepted' });
    const gap = r.receive(batch(2).bytes, 10);
    expect(gap).toEqual({ kind: 'gap', expected: 3, first: 5, askFrom: 3 });
    // A second early batch behind the same gap does not ask again within the timeout.
    expect(r.receive(batch(3).bytes, 20)).toMatchObject({ kind: 'gap', askFrom: null });
    const filled = r.receive(batch(1).bytes, 30);
    expect(filled.kind === 'accepted' && filled.entries.map((e) => e.seq)).toEqual([3, 4, 5, 6, 7, 8]);
    expect(r.receivedSeq).toBe(8);
    expect(r.heldEarly).toBe(0);
  });

  it('drops duplicates and trims overlaps entry by entry', () => {
    const r = new LogReceiver(0, 1_000);
    r.receive(batch(0).bytes, 0);
    expect(r.receive(batch(0).bytes, 1)).toEqual({ kind: 'duplicate', first: 1, last: 2 });
    const overlap = encodeBatch([2, 3, 4].map((seq) => ({ seq, icount: seq * 10, kind: 'progress' as const })));
    const got = r.receive(overlap, 2);
    expect(got.kind === 'accepted' && got.entries.map((e) => e.seq)).toEqual([3, 4]);
  });

  it('rejects a batch whose icounts go back across batches, changing nothing', () => {
    const r = new LogReceiver(0, 1_000);
    r.receive(batch(1).bytes.slice(0), 0); // early: held
    r.receive(batch(0).bytes, 0);
    const back = encodeBatch([{ seq: 5, icount: 1, kind: 'progress' }]);
    expect(() => r.receive(back, 0)).toThrow(/goes back/);
    expect(r.receivedSeq).toBe(4);
  });

  it('holds at most EARLY_BATCHES_MAX early batches', () => {
    const r = new LogReceiver(0, 1_000);
    for (let k = 1; k <= EARLY_BATCHES_MAX + 10; k++) r.receive(batch(k).bytes, k);
    expect(r.heldEarly).toBe(EARLY_BATCHES_MAX);
  });
});
