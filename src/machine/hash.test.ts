import { describe, expect, it } from 'vitest';
import { StateHasher, WordHasher, hashValue } from './hash';
import { Memory, PAGE_BYTES } from './memory';
import { RAM_BASE } from './memmap';

const digestOf = (f: (h: WordHasher) => void): string => {
  const h = new WordHasher();
  f(h);
  return h.digest();
};

describe('WordHasher', () => {
  it('is a 64-bit hex digest sensitive to every word, its order and the length', () => {
    const base = digestOf((h) => h.words32([1, 2, 3]));
    expect(base).toMatch(/^[0-9a-f]{16}$/);
    expect(digestOf((h) => h.words32([1, 2, 3]))).toBe(base);
    expect(digestOf((h) => h.words32([1, 2, 4]))).not.toBe(base);
    expect(digestOf((h) => h.words32([2, 1, 3]))).not.toBe(base);
    expect(digestOf((h) => h.words32([1, 2, 3, 0]))).not.toBe(base);
  });

  it('hashes plain device state by value', () => {
    const a = digestOf((h) => hashValue(h, { x: 1, b: new Uint8Array([1, 2]), n: null, t: true }));
    expect(digestOf((h) => hashValue(h, { x: 1, b: new Uint8Array([1, 2]), n: null, t: true }))).toBe(a);
    expect(digestOf((h) => hashValue(h, { x: 1, b: new Uint8Array([1, 3]), n: null, t: true }))).not.toBe(a);
    expect(digestOf((h) => hashValue(h, { x: 2 ** 32 + 1, b: new Uint8Array([1, 2]), n: null, t: true }))).not.toBe(a);
    expect(digestOf((h) => hashValue(h, { x: 1, b: new Uint8Array([1, 2]), n: null, t: false }))).not.toBe(a);
  });
});

describe('StateHasher', () => {
  it('rehashes only dirty pages and agrees with a hash computed from scratch', () => {
    const mem = new Memory(RAM_BASE, 64 * PAGE_BYTES);
    const cached = new StateHasher(mem);
    const cpu = new Int32Array([1, 2, 3]);
    mem.write(RAM_BASE + 9 * PAGE_BYTES, new Uint8Array([7]));
    const first = cached.hash(cpu, {});
    expect(cached.lastPagesRehashed).toBe(1); // a new RAM is zeros: only the written page is read
    mem.dirty.fill(1);
    expect(new StateHasher(mem).hash(cpu, {})).toBe(first); // what reading every page gives
    expect(cached.hash(cpu, {})).toBe(first);
    expect(cached.hash(cpu, {})).toBe(first);
    expect(cached.lastPagesRehashed).toBe(0);
    mem.write(RAM_BASE + 5 * PAGE_BYTES + 8, new Uint8Array([0xff]));
    const second = cached.hash(cpu, {});
    expect(cached.lastPagesRehashed).toBe(1);
    expect(second).not.toBe(first);
    mem.dirty.fill(1);
    expect(new StateHasher(mem).hash(cpu, {})).toBe(second);
  });

  it('a full hash rereads every page, seeing a write that bypassed dirty tracking', () => {
    const mem = new Memory(RAM_BASE, 8 * PAGE_BYTES);
    const hasher = new StateHasher(mem);
    const cpu = new Int32Array(1);
    const before = hasher.hash(cpu, {});
    mem.i32[3 * PAGE_BYTES / 4] = 1; // not through Memory.write: no dirty mark
    expect(hasher.hash(cpu, {})).toBe(before);
    expect(hasher.lastPagesRehashed).toBe(0);
    const full = hasher.hash(cpu, {}, true);
    expect(hasher.lastPagesRehashed).toBe(8);
    expect(full).not.toBe(before);
    mem.dirty.fill(1);
    expect(full).toBe(new StateHasher(mem).hash(cpu, {})); // what a hasher with no cache computes
  });

  it('tells apart the same bytes on different pages, and cpu and device differences', () => {
    const a = new Memory(RAM_BASE, 4 * PAGE_BYTES);
    const b = new Memory(RAM_BASE, 4 * PAGE_BYTES);
    a.write(RAM_BASE, new Uint8Array([1]));
    b.write(RAM_BASE + PAGE_BYTES, new Uint8Array([1]));
    const cpu = new Int32Array(4);
    expect(new StateHasher(a).hash(cpu, {})).not.toBe(new StateHasher(b).hash(cpu, {}));
    const h = new StateHasher(a);
    expect(h.hash(cpu, { d: { x: 1 } })).not.toBe(h.hash(cpu, { d: { x: 2 } }));
    expect(h.hash(new Int32Array([0, 0, 0, 1]), {})).not.toBe(h.hash(cpu, {}));
  });
});
