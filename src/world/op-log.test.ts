import { describe, expect, it } from 'vitest';
import { OP_LOG_BYTES_PER_OP, OpLog } from './op-log';
import { Recent } from './recent';
import { OP_COUNTER_INC, OP_KV_GET, OP_KV_PUT, STATUS_NOT_FOUND, STATUS_OK } from './wire';

/** A log of `n` operations; every third one completed, every fifth given up, times fractional. */
function filled(n: number): OpLog {
  const log = new OpLog(7);
  for (let i = 0; i < n; i++) {
    const seq = log.append(OP_KV_PUT, i % 5, 0xffff_0000 + i, i * 10.5);
    log.noteSent(seq, i * 10.5);
    if (i % 3 === 0) {
      log.noteSent(seq, i * 10.5 + 3);
      log.complete(seq, i * 10.5 + 7.25, 0xffff_ffff - i, i % 2 ? STATUS_NOT_FOUND : STATUS_OK);
    } else if (i % 5 === 0) log.markGaveUp(seq);
  }
  return log;
}

describe('OpLog', () => {
  it('numbers operations from seq 1 and reads back every field exactly after growing', () => {
    const log = filled(1000);
    expect(log.length).toBe(1000);
    expect(log.record(1)).toEqual({
      client: 7, seq: 1, op: OP_KV_PUT, key: 0, arg: 0xffff_0000, invokeUs: 0, returnUs: 7.25, result: 0xffff_ffff,
      status: STATUS_OK, attempts: 2, lastSentUs: 3, gaveUp: false,
    });
    expect(log.record(1000)).toEqual({
      client: 7, seq: 1000, op: OP_KV_PUT, key: 4, arg: 0xffff_0000 + 999, invokeUs: 999 * 10.5, returnUs: 999 * 10.5 + 7.25,
      result: 0xffff_ffff - 999, status: STATUS_NOT_FOUND, attempts: 2, lastSentUs: 999 * 10.5 + 3, gaveUp: false,
    });
    expect(log.record(999)).toMatchObject({ returnUs: null, result: null, status: null, attempts: 1, gaveUp: false });
    expect(log.record(996)).toMatchObject({ returnUs: null, result: null, status: null, gaveUp: true });
    expect(log.entries().map((e) => e.seq)).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
    expect(log.records()[499]).toEqual(log.record(500));
  });

  it('answers sameResult only for a completed operation with the same value and status', () => {
    const log = new OpLog(1);
    const a = log.append(OP_COUNTER_INC, 0, 0, 0);
    const b = log.append(OP_KV_GET, 1, 0, 1);
    log.complete(a, 5, 0, STATUS_OK);
    expect(log.sameResult(a, 0, STATUS_OK)).toBe(true);
    expect(log.sameResult(a, 0, STATUS_NOT_FOUND)).toBe(false);
    expect(log.sameResult(a, 1, STATUS_OK)).toBe(false);
    expect(log.sameResult(b, 0, STATUS_OK)).toBe(false); // never completed: result 0 is not "the value 0"
  });

  it('costs OP_LOG_BYTES_PER_OP per operation, at most twice that while it has room to grow', () => {
    expect(OP_LOG_BYTES_PER_OP).toBe(46);
    for (const n of [64, 65, 1000, 4096, 5000]) {
      const bytes = filled(n).retainedBytes();
      expect(bytes, `${n} operations`).toBeGreaterThanOrEqual(n * OP_LOG_BYTES_PER_OP);
      expect(bytes, `${n} operations`).toBeLessThan(2 * n * OP_LOG_BYTES_PER_OP);
    }
  });

  it('snapshots as typed arrays sliced to length, independent of the log, and restores exactly', () => {
    const log = filled(100);
    const snap = log.snapshot();
    expect(snap.op).toBeInstanceOf(Uint8Array);
    expect(snap.invokeUs).toBeInstanceOf(Float64Array);
    expect(Object.values(snap).every((col) => col.length === 100)).toBe(true);
    log.append(OP_COUNTER_INC, 0, 0, 5000);
    log.complete(3, 1, 2, 3);
    const copy = new OpLog(7);
    copy.restore(structuredClone(snap));
    expect(copy.records()).toEqual(filled(100).records());
    copy.append(OP_COUNTER_INC, 0, 0, 5000); // a restored log grows like any other
    expect(copy.length).toBe(101);
  });

  it('refuses a malformed snapshot before changing anything, and values that do not fit the wire', () => {
    const log = filled(10);
    const before = log.records();
    const short = { ...log.snapshot(), key: new Uint32Array(9) };
    expect(() => log.restore(short)).toThrow(/column key is not a Uint32Array of 10 rows/);
    const wrongType = { ...log.snapshot(), returnUs: new Uint32Array(10) as unknown as Float64Array };
    expect(() => log.restore(wrongType)).toThrow(/column returnUs is not a Float64Array/);
    expect(log.records()).toEqual(before);
    expect(() => log.append(256, 0, 0, 0)).toThrow(/does not fit/);
    expect(() => log.append(OP_KV_PUT, -1, 0, 0)).toThrow(/does not fit/);
    expect(() => log.complete(1, 0, 2 ** 32, 0)).toThrow(/does not fit/);
    expect(() => log.record(11)).toThrow(/no operation with seq 11/);
    expect(log.has(0)).toBe(false);
  });
});

describe('Recent', () => {
  it('keeps the last `capacity` items, oldest first', () => {
    const r = new Recent<number>(3);
    expect(r.toArray()).toEqual([]);
    for (let i = 1; i <= 7; i++) r.push(i);
    expect(r.toArray()).toEqual([5, 6, 7]);
    expect(r.length).toBe(3);
    expect(new Recent(3, [1, 2, 3, 4]).toArray()).toEqual([2, 3, 4]);
    expect(() => new Recent(0)).toThrow(/capacity 0/);
  });
});
