/**
 * Test harness: a Hart on a small RAM with a scriptable bus, and an ELF loader that mirrors what
 * the machine does (copy each segment, zero-fill to memsz).
 */
import { Hart } from '../hart';
import { Memory } from '../memory';
import type { Mmio } from '../bus';
import type { ElfImage } from '../elf';
import { RAM_BASE } from '../memmap';

/** A bus with one 4-byte scratch device at 0x1000_0000 and nothing else; records every access. */
export class TestBus implements Mmio {
  static readonly DEVICE = 0x1000_0000;
  value = 0;
  readonly log: string[] = [];
  onStore: ((addr: number, value: number) => void) | null = null;
  load(addr: number, size: 1 | 2 | 4): number | null {
    if (addr !== TestBus.DEVICE) return null;
    this.log.push(`load ${size}`);
    return this.value;
  }
  store(addr: number, size: 1 | 2 | 4, value: number): boolean {
    if (addr !== TestBus.DEVICE) return false;
    this.log.push(`store ${size} ${value >>> 0}`);
    this.value = value;
    this.onStore?.(addr, value);
    return true;
  }
}

export interface Rig {
  hart: Hart;
  mem: Memory;
  bus: TestBus;
}

/** A hart at RAM_BASE with `words` (32-bit instructions) at the start of RAM. */
export function rigWithProgram(words: number[], ramBytes = 64 * 1024): Rig {
  const mem = new Memory(RAM_BASE, ramBytes);
  const bus = new TestBus();
  const hart = new Hart(mem, bus);
  mem.onExternalWrite = (off, len) => hart.invalidate(off, len);
  const bytes = new Uint8Array(words.length * 4);
  words.forEach((w, i) => new DataView(bytes.buffer).setUint32(i * 4, w >>> 0, true));
  mem.write(RAM_BASE, bytes);
  hart.reset(RAM_BASE);
  return { hart, mem, bus };
}

/** Load an ELF image into RAM the way the machine does; returns the hart reset to the entry. */
export function rigWithElf(image: ElfImage, ramBytes = 1024 * 1024): Rig {
  const mem = new Memory(RAM_BASE, ramBytes);
  const bus = new TestBus();
  const hart = new Hart(mem, bus);
  mem.onExternalWrite = (off, len) => hart.invalidate(off, len);
  for (const seg of image.segments) {
    mem.write(seg.vaddr, seg.data);
    if (seg.memsz > seg.data.length) mem.write(seg.vaddr + seg.data.length, new Uint8Array(seg.memsz - seg.data.length));
  }
  hart.reset(image.entry);
  hart.tohostAddr = image.symbols.get('tohost') ?? -1;
  return { hart, mem, bus };
}
