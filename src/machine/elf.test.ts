import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ElfError, parseElf, withElfWord } from './elf';

const ISA_DIR = fileURLToPath(new URL('../../public/guests/isa/', import.meta.url));
const real = (name: string): Uint8Array => new Uint8Array(readFileSync(ISA_DIR + name));

/** A copy of `bytes` with `edit` applied through a little-endian DataView. */
function mutate(bytes: Uint8Array, edit: (v: DataView, b: Uint8Array) => void): Uint8Array {
  const copy = bytes.slice();
  edit(new DataView(copy.buffer), copy);
  return copy;
}

function elfError(bytes: Uint8Array): string {
  try {
    parseElf(bytes);
  } catch (e) {
    expect(e).toBeInstanceOf(ElfError);
    return (e as Error).message;
  }
  throw new Error('parseElf accepted a bad file');
}

describe('parseElf on real cross-compiled executables', () => {
  it('finds entry, loadable segments and the tohost symbol', () => {
    const image = parseElf(real('rv32ui.elf'));
    expect(image.entry).toBe(0x8000_0000);
    expect(image.symbols.get('tohost')).toBe(0x8000_1000);
    expect(image.symbols.get('_start')).toBe(0x8000_0000);
    expect(image.segments.length).toBeGreaterThan(0);
    const text = image.segments.find((s) => s.vaddr === 0x8000_0000);
    expect(text?.data.length).toBeGreaterThan(0);
    // The first instruction is `auipc t0, ...` (la t0, unexpected_trap): opcode 0x17.
    expect((text!.data[0] & 0x7f)).toBe(0x17);
  });

  it('reports a bss segment with memsz beyond its file bytes', () => {
    const image = parseElf(real('bench-loop.elf'));
    expect(image.segments.some((s) => s.memsz > s.data.length)).toBe(true);
  });

  it('works without a symbol table', () => {
    const bytes = mutate(real('rv32ui.elf'), (v) => {
      v.setUint32(32, 0, true); // e_shoff = 0: no section headers
      v.setUint16(48, 0, true);
    });
    const image = parseElf(bytes);
    expect(image.symbols.size).toBe(0);
    expect(image.segments.length).toBeGreaterThan(0);
  });

  it('copies segment bytes, so later changes to the file do not leak in', () => {
    const bytes = real('rv32ui.elf');
    const image = parseElf(bytes);
    const before = image.segments[0].data[0];
    bytes.fill(0);
    expect(image.segments[0].data[0]).toBe(before);
  });
});

describe('parseElf rejects malformed files with a message saying what is wrong', () => {
  const good = real('rv32ui.elf');

  it('bad magic', () => {
    expect(elfError(new TextEncoder().encode('#!/bin/sh\necho hi\n'))).toMatch(/not an ELF file \(bad magic/);
    expect(elfError(new Uint8Array(0))).toMatch(/bad magic/);
  });
  it('truncated identification and header', () => {
    expect(elfError(good.slice(0, 8))).toMatch(/truncated ELF identification/);
    expect(elfError(good.slice(0, 40))).toMatch(/truncated ELF header/);
  });
  it('ELFCLASS64', () => {
    expect(elfError(mutate(good, (_v, b) => { b[4] = 2; }))).toMatch(/ELFCLASS64/);
  });
  it('big-endian', () => {
    expect(elfError(mutate(good, (_v, b) => { b[5] = 2; }))).toMatch(/not little-endian/);
  });
  it('wrong machine', () => {
    expect(elfError(mutate(good, (v) => v.setUint16(18, 62, true)))).toMatch(/e_machine is 62, not RISC-V \(243\)/);
  });
  it('not ET_EXEC', () => {
    expect(elfError(mutate(good, (v) => v.setUint16(16, 3, true)))).toMatch(/e_type is 3, not an executable/);
  });
  it('truncated program header table', () => {
    const phoff = new DataView(good.buffer, good.byteOffset).getUint32(28, true);
    expect(elfError(good.slice(0, phoff + 10))).toMatch(/truncated program header table/);
  });
  it('segment outside the file', () => {
    const bytes = mutate(good, (v) => {
      const phoff = v.getUint32(28, true);
      v.setUint32(phoff + 4, good.length - 4, true); // p_offset near the end, filesz unchanged
      v.setUint32(phoff + 16, 64, true);
      v.setUint32(phoff + 20, 64, true);
    });
    expect(elfError(bytes)).toMatch(/segment 0 lies outside the file/);
  });
  it('filesz larger than memsz', () => {
    const bytes = mutate(good, (v) => {
      const phoff = v.getUint32(28, true);
      v.setUint32(phoff + 20, 0, true);
      v.setUint32(phoff + 16, 8, true);
    });
    expect(elfError(bytes)).toMatch(/p_filesz 8 exceeds p_memsz 0/);
  });
  it('zero segments', () => {
    expect(elfError(mutate(good, (v) => v.setUint16(44, 0, true)))).toMatch(/zero segments/);
    const noLoad = mutate(good, (v) => {
      const phoff = v.getUint32(28, true);
      const n = v.getUint16(44, true);
      for (let i = 0; i < n; i++) v.setUint32(phoff + i * 32, 4, true); // PT_NOTE everywhere
    });
    expect(elfError(noLoad)).toMatch(/zero loadable segments/);
  });
  it('truncated section table', () => {
    const shoff = new DataView(good.buffer, good.byteOffset).getUint32(32, true);
    expect(elfError(good.slice(0, shoff + 20))).toMatch(/truncated section table/);
  });
  it('every truncation of a real file is rejected with an ElfError (the section table ends the file)', () => {
    for (let len = 0; len < good.length; len += 13) {
      expect(() => parseElf(good.slice(0, len)), `length ${len}`).toThrow(ElfError);
    }
  });
});

describe('withElfWord', () => {
  const bench = new Uint8Array(readFileSync(fileURLToPath(new URL('../../public/guests/bench.elf', import.meta.url))));

  it("sets a guest parameter's word in the loaded data, and nothing else", () => {
    const addr = parseElf(bench).symbols.get('bench_rounds') as number;
    const patched = withElfWord(bench, 'bench_rounds', 12_345);
    const seg = parseElf(patched).segments.find((g) => addr >= g.vaddr && addr < g.vaddr + g.data.length)!;
    expect(new DataView(seg.data.buffer, seg.data.byteOffset).getUint32(addr - seg.vaddr, true)).toBe(12_345);
    expect([...patched].filter((b, i) => b !== bench[i]).length).toBeLessThanOrEqual(4);
    expect(bench).not.toEqual(patched); // the input is left as it was
  });

  it('refuses a symbol the file does not have', () => {
    expect(() => withElfWord(bench, 'no_such_symbol', 1)).toThrow(/no symbol no_such_symbol/);
  });
});
