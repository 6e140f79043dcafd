import { describe, expect, it } from 'vitest';
import { completedOnly, mergeHistories, mergeOwnedHistories, type HistoryEntry } from './history';
import { OP_COUNTER_INC } from './wire';

function op(client: number, seq: number, invokeUs: number, returnUs: number | null): HistoryEntry {
  return {
    client, seq, op: OP_COUNTER_INC, key: 0, arg: 0, invokeUs, returnUs,
    result: returnUs === null ? null : seq, status: returnUs === null ? null : 0,
  };
}

describe('mergeHistories', () => {
  it('merges clients in invocation order, ties broken by client then seq', () => {
    const a = [op(1, 1, 0, 10), op(1, 2, 20, null)];
    const b = [op(2, 1, 5, 8), op(2, 2, 20, 30)];
    const merged = mergeHistories([a, b]);
    expect(merged.map((e) => [e.client, e.seq])).toEqual([[1, 1], [2, 1], [1, 2], [2, 2]]);
    expect(completedOnly(merged).map((e) => [e.client, e.seq])).toEqual([[1, 1], [2, 1], [2, 2]]);
  });

  it('copies entries, so the merged list does not alias the inputs', () => {
    const a = [op(1, 1, 0, 10)];
    const merged = mergeHistories([a]);
    merged[0].result = 99;
    expect(a[0].result).toBe(1);
  });

  it('rejects an operation that appears twice', () => {
    expect(() => mergeHistories([[op(1, 1, 0, 5)], [op(1, 1, 0, 5)]])).toThrow(/client 1 seq 1 appears twice/);
  });

  it('rejects an operation that returns before it was invoked', () => {
    expect(() => mergeHistories([[op(1, 1, 10, 5)]])).toThrow(/returns at 5 µs before/);
  });

  it('rejects a (client, seq) the wire could not carry', () => {
    expect(() => mergeHistories([[op(1.5, 1, 0, 5)]])).toThrow(/client 1.5 seq 1 is not a wire/);
    expect(() => mergeHistories([[op(1, 2 ** 32, 0, 5)]])).toThrow(/is not a wire/);
  });

  it('mergeOwnedHistories: the same order and checks, without copying the entries', () => {
    const a = [op(1, 1, 0, 10), op(1, 2, 20, null)];
    const b = [op(2, 1, 5, 8), op(65535, 4_000_000_000, 20, 30)];
    const merged = mergeOwnedHistories([a, b]);
    expect(merged).toEqual(mergeHistories([a, b]));
    expect(merged[0]).toBe(a[0]);
    expect(() => mergeOwnedHistories([[op(3, 9, 0, 5)], [op(3, 9, 1, 5)]])).toThrow(/client 3 seq 9 appears twice/);
  });
});
