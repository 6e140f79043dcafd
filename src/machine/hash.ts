/**
 * The machine state hash: fast, non-cryptographic, 64 bits as two independent 32-bit lanes.
 *
 * The FT backup compares it with the primary's at `hash` log entries (docs/design.md §4), so it must be
 * cheap enough to take every few million instructions. RAM dominates the state, so each 4 KiB page's
 * hash is cached and recomputed only when Memory.dirty says the page was written since the last
 * look (the hart marks pages on stores, DMA marks them through Memory.write); a new Memory is all
 * zeros with no page dirty, and the cache starts with the hash of a page of zeros. RAM enters as
 * the sum of the page hashes each placed at its index, kept up to date as pages are rehashed (so a
 * hash costs the pages written since the last one); then the cpu words and the device state
 * follow. The cache trusts dirty tracking; a write that bypasses it (straight into Memory's views)
 * is invisible until a `full` hash rereads every page, which is what a check that must not be
 * fooled asks for.
 *
 * Mixing: each lane folds one 32-bit word per step with a multiply and a rotate (the xxHash32 round
 * shape, Math.imul for exact 32-bit products), with different primes and seeds per lane so a
 * collision needs both lanes to collide; murmur3's fmix32 finishes each lane.
 */
import { PAGE_SHIFT, type Memory } from './memory';

const PRIME1 = 0x9e37_79b1;
const PRIME2 = 0x85eb_ca77;
const PRIME3 = 0xc2b2_ae3d;
const PRIME4 = 0x27d4_eb2f;
const SEED_LO = 0x5157_4f31;
const SEED_HI = 0x0123_4567;
const PAGE_WORDS = 1 << (PAGE_SHIFT - 2);

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85eb_ca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2_ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A running two-lane hash over a stream of 32-bit words. */
export class WordHasher {
  private lo = SEED_LO;
  private hi = SEED_HI;
  private words = 0;

  word(w: number): void {
    let lo = Math.imul(this.lo ^ w, PRIME1);
    this.lo = (lo << 13) | (lo >>> 19);
    lo = Math.imul(this.hi + w, PRIME3);
    this.hi = ((lo << 17) | (lo >>> 15)) ^ PRIME4;
    this.words++;
  }

  words32(ws: ArrayLike<number>): void {
    for (let i = 0; i < ws.length; i++) this.word(ws[i]);
  }

  /** Bytes, length first, packed little-endian four to a word. */
  bytes(b: Uint8Array): void {
    this.word(b.length);
    for (let i = 0; i < b.length; i += 4) {
      this.word(b[i] | ((b[i + 1] ?? 0) << 8) | ((b[i + 2] ?? 0) << 16) | ((b[i + 3] ?? 0) << 24));
    }
  }

  digest(): string {
    const lo = fmix32(this.lo ^ this.words);
    const hi = fmix32(this.hi ^ Math.imul(this.words, PRIME2));
    return hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0');
  }
}

/**
 * Hashes one page of RAM (by word index into Memory.i32) into out[2*page], out[2*page+1]. The
 * page's hash is of its contents alone; the RAM's sum places it (placedLo/placedHi). So every
 * page of zeros has one hash, known before any page is read (ZERO_PAGE).
 */
function hashPage(i32: Int32Array, page: number, out: Uint32Array): void {
  let lo = SEED_LO;
  let hi = SEED_HI;
  const end = (page + 1) * PAGE_WORDS;
  for (let i = page * PAGE_WORDS; i < end; i++) {
    const w = i32[i];
    lo = Math.imul(lo ^ w, PRIME1);
    lo = (lo << 13) | (lo >>> 19);
    hi = Math.imul(hi + w, PRIME3);
    hi = ((hi << 17) | (hi >>> 15)) ^ PRIME4;
  }
  out[2 * page] = fmix32(lo);
  out[2 * page + 1] = fmix32(hi);
}

/** The two lanes of a page of zeros. */
const ZERO_PAGE = ((): Uint32Array => {
  const out = new Uint32Array(2);
  hashPage(new Int32Array(PAGE_WORDS), 0, out);
  return out;
})();

/** Feeds plain device state into the hasher in a fixed order (objects by their key order). */
export function hashValue(h: WordHasher, v: unknown): void {
  if (v === null || v === undefined) { h.word(0x6e75_6c6c); return; }
  switch (typeof v) {
    case 'number':
      h.word(1);
      h.word(v % 0x1_0000_0000);
      h.word(Math.floor(v / 0x1_0000_0000));
      return;
    case 'boolean': h.word(v ? 3 : 2); return;
    case 'string':
      h.word(7);
      h.word(v.length);
      for (let i = 0; i < v.length; i++) h.word(v.charCodeAt(i));
      return;
    case 'object':
      if (v instanceof Uint8Array) { h.word(4); h.bytes(v); return; }
      if (Array.isArray(v)) { h.word(5); h.word(v.length); v.forEach((x) => hashValue(h, x)); return; }
      h.word(6);
      for (const k in v as Record<string, unknown>) {
        if (!Object.prototype.hasOwnProperty.call(v, k)) continue;
        hashValue(h, k);
        hashValue(h, (v as Record<string, unknown>)[k]);
      }
      return;
    default:
      throw new TypeError(`state hash: cannot hash a ${typeof v}`);
  }
}

/** A page's hash placed at its index: what the RAM's sum adds up (two lanes, each mod 2^32). */
function placedLo(page: number, lo: number): number {
  return fmix32(lo ^ Math.imul(page + 1, PRIME1));
}
function placedHi(page: number, hi: number): number {
  return fmix32(hi ^ Math.imul(page + 1, PRIME2));
}

/**
 * Caches per-page hashes of one Memory and folds them with cpu and device state. RAM enters as the
 * sum of every page's hash placed at its index (placedLo/placedHi), kept up to date page by page:
 * a hash costs the pages written since the last one, not a pass over every page's hash.
 */
export class StateHasher {
  private readonly pageHashes: Uint32Array;
  private sumLo = 0;
  private sumHi = 0;
  /** Pages rehashed by the last call, for measurements. */
  lastPagesRehashed = 0;

  /**
   * The cache starts as a RAM of zeros, which a new Memory is: only pages written since (marked
   * dirty) are read, so a machine's first hash costs its loaded pages, not its RAM size.
   */
  constructor(private readonly mem: Memory) {
    this.pageHashes = new Uint32Array(2 * (mem.size >>> PAGE_SHIFT));
    for (let p = 0; p < this.pageHashes.length; p += 2) {
      this.pageHashes[p] = ZERO_PAGE[0];
      this.pageHashes[p + 1] = ZERO_PAGE[1];
    }
    this.resum();
  }

  /** The RAM sums from the cache, from scratch. */
  private resum(): void {
    let lo = 0;
    let hi = 0;
    const ph = this.pageHashes;
    for (let p = 0; 2 * p < ph.length; p++) {
      lo = (lo + placedLo(p, ph[2 * p])) | 0;
      hi = (hi + placedHi(p, ph[2 * p + 1])) | 0;
    }
    this.sumLo = lo;
    this.sumHi = hi;
  }

  /** A copy of the cache and of the dirty map it goes with (a snapshot carries them). */
  cache(): { pages: Uint32Array; dirty: Uint8Array } {
    return { pages: this.pageHashes.slice(), dirty: this.mem.dirty.slice() };
  }

  /**
   * Takes a cache and dirty map from a snapshot of this very RAM (Memory.replace just wrote it).
   * One of the wrong size is refused and the whole RAM stays dirty, to be reread.
   */
  adopt(c: { pages: Uint32Array; dirty: Uint8Array }): boolean {
    if (!(c.pages instanceof Uint32Array) || !(c.dirty instanceof Uint8Array)) return false;
    if (c.pages.length !== this.pageHashes.length || c.dirty.length !== this.mem.dirty.length) return false;
    this.pageHashes.set(c.pages);
    this.mem.dirty.set(c.dirty);
    this.resum();
    return true;
  }

  /** With `full`, every page is reread (and its cached hash refreshed), dirty or not. */
  hash(cpuWords: Int32Array, devices: Record<string, unknown>, full = false): string {
    this.refreshPages(full);
    const h = new WordHasher();
    h.word(this.pageHashes.length >>> 1);
    h.word(this.sumLo);
    h.word(this.sumHi);
    h.words32(cpuWords);
    hashValue(h, devices);
    return h.digest();
  }

  /** Rehashes the dirty pages (every page with `full`), moving the sums by each page's change. */
  private refreshPages(full: boolean): void {
    const { dirty, i32, writtenSinceCopy, written } = this.mem;
    const ph = this.pageHashes;
    let rehashed = 0;
    let lo = this.sumLo;
    let hi = this.sumHi;
    for (let p = 0; p < dirty.length; p++) {
      if (dirty[p] === 0 && !full) continue;
      lo = (lo - placedLo(p, ph[2 * p])) | 0;
      hi = (hi - placedHi(p, ph[2 * p + 1])) | 0;
      hashPage(i32, p, ph);
      lo = (lo + placedLo(p, ph[2 * p])) | 0;
      hi = (hi + placedHi(p, ph[2 * p + 1])) | 0;
      if (writtenSinceCopy !== null && dirty[p] !== 0) writtenSinceCopy[p] = 1;
      // A full reread also finds what bypassed dirty tracking: any page may hold it.
      written[p] |= full ? 1 : dirty[p];
      dirty[p] = 0;
      rehashed++;
    }
    this.sumLo = lo;
    this.sumHi = hi;
    this.lastPagesRehashed = rehashed;
  }
}
