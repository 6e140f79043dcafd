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
    this.onExternalWrite?.(0, this.size);
  }

  private offsetOf(addr: number, length: number): number {
    if (!this.contains(addr, length)) {
      throw new MemoryError(`guest range 0x${(addr >>> 0).toString(16)}+${length} is outside RAM`);
    }
    return ((addr >>> 0) - this.base) >>> 0;
  }
}
