/**
 * Guest RAM: one ArrayBuffer with byte, halfword and word views (little-endian hosts only, as are
 * all the browsers and Node builds this runs on), and a dirty bitmap of 4 KiB pages so the state
 * hash only rereads pages written since the last hash.
 *
 * The hart reads and writes the views directly on its hot path and marks pages itself; everything
 * else (devices doing DMA, the loader, Machine.injectRamWrite) goes through `write`/`read`, which
 * also tell the hart to drop any cached decodings of the bytes they change. A write straight into
 * the views from outside the hart marks nothing: only a full state hash will see it.
 */

import type { SparseRam } from './types';

export const PAGE_SHIFT = 12;
export const PAGE_BYTES = 1 << PAGE_SHIFT;

export class MemoryError extends Error {
  override name = 'MemoryError';
}

export class Memory {
  readonly base: number;
  readonly size: number;
  buffer: ArrayBuffer;
  u8: Uint8Array;
  u16: Uint16Array;
  i32: Int32Array;
  /** 1 per page written since the hash last looked at it. */
  readonly dirty: Uint8Array;
  /**
   * While a snapshot's RAM is copied ahead (Machine.precopySnapshot), 1 per page written since the
   * copy began whose dirty mark the state hash has since cleared: with `dirty`, what must be copied
   * again. Null otherwise.
   */
  writtenSinceCopy: Uint8Array | null = null;
  /**
   * 1 per page that may hold anything but zeros: written at some time, its dirty mark since
   * cleared by the state hash. With `dirty` it covers every page ever written, so a sparse
   * snapshot or restore looks only at those, never at untouched pages (reading a page this
   * process never touched costs a page fault: 50 ms for 16 MiB on a slow host).
   */
  readonly written: Uint8Array;
  /** Called after a write from outside the hart (DMA, loader, restore) with the byte range. */
  onExternalWrite: ((offset: number, length: number) => void) | null = null;

  constructor(base: number, size: number) {
    if (size % PAGE_BYTES !== 0 || size <= 0) throw new MemoryError(`RAM size ${size} is not a positive multiple of ${PAGE_BYTES}`);
    this.base = base >>> 0;
    this.size = size;
    this.buffer = new ArrayBuffer(size);
    this.u8 = new Uint8Array(this.buffer);
    this.u16 = new Uint16Array(this.buffer);
    this.i32 = new Int32Array(this.buffer);
    // All zeros, as a new StateHasher's cache assumes: no page is dirty until written.
    this.dirty = new Uint8Array(size >>> PAGE_SHIFT);
    this.written = new Uint8Array(size >>> PAGE_SHIFT);
  }

  get pages(): number {
    return this.size >>> PAGE_SHIFT;
  }

  /** True when [addr, addr+length) lies inside RAM. */
  contains(addr: number, length: number): boolean {
    const off = ((addr >>> 0) - this.base) >>> 0;
    return off < this.size && length <= this.size - off;
  }

  /** Copy bytes out of guest memory (DMA out). Throws MemoryError when out of range. */
  read(addr: number, length: number): Uint8Array {
    const off = this.offsetOf(addr, length);
    return this.u8.slice(off, off + length);
  }

  /** Copy bytes into guest memory (DMA in, loader). Throws MemoryError when out of range. */
  write(addr: number, bytes: Uint8Array): void {
    const off = this.offsetOf(addr, bytes.length);
    this.u8.set(bytes, off);
    this.markDirty(off, bytes.length);
    this.onExternalWrite?.(off, bytes.length);
  }

  markDirty(offset: number, length: number): void {
    if (length <= 0) return;
    const first = offset >>> PAGE_SHIFT;
    const last = (offset + length - 1) >>> PAGE_SHIFT;
    for (let p = first; p <= last; p++) this.dirty[p] = 1;
  }

  /** Replace the whole contents (snapshot restore). */
  replace(buffer: ArrayBuffer): void {
    if (buffer.byteLength !== this.size) throw new MemoryError(`snapshot RAM is ${buffer.byteLength} bytes, machine has ${this.size}`);
    this.u8.set(new Uint8Array(buffer));
    this.dirty.fill(1);
    this.written.fill(1);
    this.onExternalWrite?.(0, this.size);
  }

  /** RAM's pages that are not all zeros, copied (a sparse snapshot). */
  sparse(): SparseRam {
    const found: number[] = [];
    for (let p = 0; p < this.pages; p++) if ((this.written[p] | this.dirty[p]) !== 0 && !this.pageIsZero(p)) found.push(p);
    const bytes = new Uint8Array(found.length * PAGE_BYTES);
    found.forEach((p, k) => bytes.set(this.u8.subarray(p * PAGE_BYTES, (p + 1) * PAGE_BYTES), k * PAGE_BYTES));
    return { size: this.size, pages: Uint32Array.from(found), bytes: bytes.buffer };
  }

  /**
   * Replace the whole contents with a sparse snapshot's: its pages copied in, every other page that
   * may hold anything cleared. Checked first; a bad one throws and changes nothing.
   */
  replaceSparse(s: SparseRam): void {
    checkSparse(s, this.size);
    const { pages } = s;
    const src = new Uint8Array(s.bytes);
    let k = 0;
    for (let p = 0; p < this.pages; p++) {
      const at = p * PAGE_BYTES;
      if (k < pages.length && pages[k] === p) {
        this.u8.set(src.subarray(k * PAGE_BYTES, (k + 1) * PAGE_BYTES), at);
        k++;
      } else if ((this.written[p] | this.dirty[p]) !== 0) this.u8.fill(0, at, at + PAGE_BYTES);
      else continue;
      this.dirty[p] = 1;
    }
    this.written.fill(0);
    for (const p of pages) this.written[p] = 1;
    this.onExternalWrite?.(0, this.size);
  }

  private pageIsZero(p: number): boolean {
    const i32 = this.i32;
    for (let w = p << (PAGE_SHIFT - 2), end = w + (PAGE_BYTES >>> 2); w < end; w++) if (i32[w] !== 0) return false;
    return true;
  }

  private offsetOf(addr: number, length: number): number {
    if (!this.contains(addr, length)) {
      throw new MemoryError(`guest range 0x${(addr >>> 0).toString(16)}+${length} is outside RAM`);
    }
    return ((addr >>> 0) - this.base) >>> 0;
  }
}

/** A sparse RAM image that fits RAM of `size` bytes: page numbers ascending and in range, bytes for each. */
export function checkSparse(s: SparseRam, size: number): void {
  if (typeof s !== 'object' || s === null) throw new MemoryError('snapshot RAM is neither an ArrayBuffer nor sparse pages');
  if (s.size !== size) throw new MemoryError(`snapshot RAM is ${s.size} bytes, machine has ${size}`);
  if (!(s.pages instanceof Uint32Array) || !(s.bytes instanceof ArrayBuffer)) throw new MemoryError('sparse snapshot RAM without its page numbers or bytes');
  if (s.bytes.byteLength !== s.pages.length * PAGE_BYTES) throw new MemoryError(`sparse snapshot RAM has ${s.bytes.byteLength} bytes for ${s.pages.length} pages`);
  for (let k = 0; k < s.pages.length; k++) {
    if (s.pages[k] >= size >>> PAGE_SHIFT) throw new MemoryError(`sparse snapshot RAM page ${s.pages[k]} is outside RAM`);
    if (k > 0 && s.pages[k] <= s.pages[k - 1]) throw new MemoryError(`sparse snapshot RAM pages are not ascending at ${k}`);
  }
}

/** The bytes a snapshot's RAM takes. */
export function ramBytes(ram: ArrayBuffer | SparseRam): number {
  return ram instanceof ArrayBuffer ? ram.byteLength : ram.bytes.byteLength;
}
