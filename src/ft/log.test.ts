import { describe, expect, it } from 'vitest';
import {
  BatchBuffers,
  decodeBatch,
  encodeBatch,
  entryWireBytes,
  LogFormatError,
  BATCH_HEADER_WORDS,
  ENTRY_HEADER_WORDS,
  type LogEntry,
} from './log';
import { XorShift32 } from './testing/xorshift';

const SAMPLE: LogEntry[] = [
  { seq: 1, icount: 10, kind: 'timer' },
  { seq: 2, icount: 10, kind: 'nondet', source: 'time-lo', value: 0xdeadbeef },
  { seq: 3, icount: 2 ** 33 + 5, kind: 'net-rx', bytes: new Uint8Array([1, 2, 3, 4, 5]) },
  { seq: 4, icount: 2 ** 33 + 5, kind: 'disk-done', id: 7, data: new Uint8Array(512).fill(9) },
  { seq: 5, icount: 2 ** 33 + 6, kind: 'disk-done', id: 8 },
  { seq: 6, icount: 2 ** 33 + 7, kind: 'progress' },
  { seq: 7, icount: 2 ** 33 + 7, kind: 'hash', hash: 'a1b2c3d4' },
  { seq: 8, icount: 2 ** 33 + 9, kind: 'control', op: 1, bytes: new Uint8Array([42]) },
];

describe('log batch encoding', () => {
  it('round-trips every kind, including icounts past 2^32', () => {
    const back = decodeBatch(encodeBatch(SAMPLE));
    expect(back).toEqual(SAMPLE);
  });

  it('sizes match entryWireBytes', () => {
    const buf = encodeBatch(SAMPLE);
    const sum = SAMPLE.reduce((s, e) => s + entryWireBytes(e), 0);
    expect(buf.byteLength).toBe(BATCH_HEADER_WORDS * 4 + sum);
  });

  it('checks continuity with what the receiver holds', () => {
    const buf = encodeBatch(SAMPLE);
    expect(() => decodeBatch(buf, { nextSeq: 1, lastIcount: 0 })).not.toThrow();
    expect(() => decodeBatch(buf, { nextSeq: 2, lastIcount: 0 })).toThrow(/seq 1 does not follow 1/);
    expect(() => decodeBatch(buf, { nextSeq: 1, lastIcount: 11 })).toThrow(/goes back/);
  });

  it('rejects gaps and icounts going back inside a batch', () => {
    const gap = SAMPLE.map((e) => (e.seq === 5 ? { ...e, seq: 9 } : e));
    expect(() => decodeBatch(encodeBatch(gap))).toThrow(/does not follow/);
    const back = SAMPLE.map((e) => (e.seq === 6 ? { ...e, icount: 3 } : e));
    expect(() => decodeBatch(encodeBatch(back))).toThrow(/goes back/);
  });

  it('rejects bad kinds, truncation and payload where none belongs', () => {
    const buf = encodeBatch(SAMPLE);
    const words = new Int32Array(buf.slice(0));
    words[BATCH_HEADER_WORDS + 3] = 99;
    expect(() => decodeBatch(words.buffer)).toThrow(/unknown kind code 99/);
    expect(() => decodeBatch(buf.slice(0, buf.byteLength - 4))).toThrow(LogFormatError);
    const timerWithPayload = new Int32Array(buf.slice(0));
    timerWithPayload[BATCH_HEADER_WORDS + 6] = 4; // timer claims 4 payload bytes
    expect(() => decodeBatch(timerWithPayload.buffer)).toThrow(LogFormatError);
  });

  it('never returns a partial batch under random mutation (fuzz)', () => {
    const seed = 1234;
    const rng = new XorShift32(seed);
    const good = new Uint8Array(encodeBatch(SAMPLE));
    let rejected = 0;
    for (let trial = 0; trial < 3000; trial++) {
      const m = good.slice();
      const flips = 1 + rng.int(4);
      for (let f = 0; f < flips; f++) m[rng.int(m.length)] ^= 1 << rng.int(8);
      const cut = rng.int(10) === 0 ? m.slice(0, rng.int(m.length) & ~3) : m;
      try {
        const out = decodeBatch(cut.buffer as ArrayBuffer);
        // Accepted: then it is a whole, self-consistent batch.
        expect(out.length, `seed ${seed} trial ${trial}`).toBe(SAMPLE.length);
        out.forEach((e, i) => i > 0 && expect(e.seq).toBe(out[i - 1].seq + 1));
      } catch (err) {
        expect(err, `seed ${seed} trial ${trial}`).toBeInstanceOf(LogFormatError);
        rejected++;
      }
    }
    expect(rejected).toBeGreaterThan(1000);
  });

  it('header words are where the format says', () => {
    const words = new Int32Array(encodeBatch(SAMPLE.slice(2, 3)));
    const w = BATCH_HEADER_WORDS;
    expect([words[w], words[w + 1], words[w + 2], words[w + 6]]).toEqual([3, 5, 2, 5]);
    expect(words.length).toBe(BATCH_HEADER_WORDS + ENTRY_HEADER_WORDS + 2);
  });
});

describe('disk-done and hash flags', () => {
  it('a failed disk completion and a full hash round-trip; an unknown flag is rejected', () => {
    const entries: LogEntry[] = [
      { seq: 1, icount: 5, kind: 'disk-done', id: 3, failed: true },
      { seq: 2, icount: 6, kind: 'hash', hash: 'abc', full: true },
      { seq: 3, icount: 7, kind: 'disk-done', id: 4 },
    ];
    expect(decodeBatch(encodeBatch(entries))).toEqual(entries);
    const bad = new Int32Array(encodeBatch(entries.slice(0, 1)));
    bad[BATCH_HEADER_WORDS + 5] = 7;
    expect(() => decodeBatch(bad.buffer)).toThrow(/disk-done flag 7/);
  });
});

describe('batch buffers (reused where the channel crosses threads)', () => {
  it('a batch encoded into a spent buffer full of another batch is byte for byte the fresh encoding', () => {
    const fresh = new Uint8Array(encodeBatch(SAMPLE));
    const pool = new BatchBuffers();
    const dirty = new ArrayBuffer(fresh.length);
    new Uint8Array(dirty).fill(0xa5);
    pool.give(dirty);
    const reused = encodeBatch(SAMPLE, pool.take);
    expect(reused).toBe(dirty);
    expect(new Uint8Array(reused)).toEqual(fresh);
    expect(decodeBatch(reused)).toEqual(decodeBatch(fresh.buffer));
    expect(pool.reused).toBe(1);
  });

  it('takes a spent buffer of the exact length only, and a new one otherwise', () => {
    const pool = new BatchBuffers();
    const a = new ArrayBuffer(64);
    pool.give(a);
    expect(pool.take(68)).not.toBe(a);
    expect(pool.take(64)).toBe(a);
    expect(pool.take(64)).not.toBe(a);
    expect(pool.size).toBe(0);
  });

  it('keeps within its bounds, drops a detached buffer, and refuses an allocator of the wrong length', () => {
    const pool = new BatchBuffers(4, 2);
    for (let i = 0; i < 3; i++) pool.give(new ArrayBuffer(16));
    expect(pool.size).toBe(2); // two of a length
    for (let n = 1; n <= 5; n++) pool.give(new ArrayBuffer(16 + 4 * n));
    expect(pool.size).toBeLessThanOrEqual(4);
    const detached = new ArrayBuffer(32);
    structuredClone(detached, { transfer: [detached] });
    const before = pool.size;
    pool.give(detached);
    expect(pool.size).toBe(before);
    expect(() => encodeBatch(SAMPLE, (n) => new ArrayBuffer(n + 4))).toThrow(/a buffer of/);
  });
});
