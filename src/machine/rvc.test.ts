import { describe, expect, it } from 'vitest';
import { expandCompressed, rvcTable } from './rvc';

/**
 * Golden pairs: each compressed instruction and the 32-bit instruction it stands for, both
 * assembled by riscv64-unknown-elf-as (binutils) from the spec's expansions (ch. 16 tables).
 */
const GOLDEN: [string, number, number][] = [
  ['c.addi4spn s0, sp, 4', 0x0040, 0x00410413],
  ['c.addi4spn a5, sp, 1020', 0x1ffc, 0x3fc10793],
  ['c.lw a0, 0(a1)', 0x4188, 0x0005a503],
  ['c.lw s1, 124(a5)', 0x5fe4, 0x07c7a483],
  ['c.lw a2, 64(s0)', 0x4030, 0x04042603],
  ['c.sw a0, 4(a1)', 0xc1c8, 0x00a5a223],
  ['c.sw a5, 124(s0)', 0xdc7c, 0x06f42e23],
  ['c.nop', 0x0001, 0x00000013],
  ['c.addi a0, -32', 0x1501, 0xfe050513],
  ['c.addi t6, 31', 0x0ffd, 0x01ff8f93],
  ['c.jal .+2046', 0x2ffd, 0x7fe000ef],
  ['c.jal .-2048', 0x3001, 0x801ff0ef],
  ['c.li a0, -1', 0x557d, 0xfff00513],
  ['c.li s11, 17', 0x4dc5, 0x01100d93],
  ['c.addi16sp sp, -512', 0x7101, 0xe0010113],
  ['c.addi16sp sp, 496', 0x617d, 0x1f010113],
  ['c.addi16sp sp, 16', 0x6141, 0x01010113],
  ['c.lui a0, 1', 0x6505, 0x00001537],
  ['c.lui t0, 0xfffe0', 0x7281, 0xfffe02b7],
  ['c.lui s1, 31', 0x64fd, 0x0001f4b7],
  ['c.srli a0, 1', 0x8105, 0x00155513],
  ['c.srli s1, 31', 0x80fd, 0x01f4d493],
  ['c.srai a5, 7', 0x879d, 0x4077d793],
  ['c.andi a0, -1', 0x997d, 0xfff57513],
  ['c.andi s0, 15', 0x883d, 0x00f47413],
  ['c.sub s0, a5', 0x8c1d, 0x40f40433],
  ['c.xor a1, a2', 0x8db1, 0x00c5c5b3],
  ['c.or a3, a4', 0x8ed9, 0x00e6e6b3],
  ['c.and s1, s0', 0x8ce1, 0x0084f4b3],
  ['c.j .+2046', 0xaffd, 0x7fe0006f],
  ['c.j .-2048', 0xb001, 0x801ff06f],
  ['c.j .-2', 0xbffd, 0xfffff06f],
  ['c.beqz a0, .+254', 0xcd7d, 0x0e050f63],
  ['c.beqz s0, .-256', 0xd001, 0xf00400e3],
  ['c.bnez a5, .+6', 0xe399, 0x00079363],
  ['c.bnez s1, .-2', 0xfcfd, 0xfe049fe3],
  ['c.slli a0, 1', 0x0506, 0x00151513],
  ['c.slli t6, 31', 0x0ffe, 0x01ff9f93],
  ['c.lwsp a0, 0(sp)', 0x4502, 0x00012503],
  ['c.lwsp ra, 252(sp)', 0x50fe, 0x0fc12083],
  ['c.jr ra', 0x8082, 0x00008067],
  ['c.jr t6', 0x8f82, 0x000f8067],
  ['c.mv a0, a1', 0x852e, 0x00b00533],
  ['c.mv s11, t6', 0x8dfe, 0x01f00db3],
  ['c.ebreak', 0x9002, 0x00100073],
  ['c.jalr a0', 0x9502, 0x000500e7],
  ['c.add a0, a1', 0x952e, 0x00b50533],
  ['c.add t6, s0', 0x9fa2, 0x008f8fb3],
  ['c.swsp a0, 0(sp)', 0xc02a, 0x00a12023],
  ['c.swsp ra, 252(sp)', 0xdf86, 0x0e112e23],
];

/** Encodings the spec reserves or that need F/D or RV64 (illegal on this RV32IMAC hart). */
const ILLEGAL: [string, number][] = [
  ['all zeros (defined illegal)', 0x0000],
  ['c.addi4spn with nzuimm = 0', 0x0004],
  ['c.fld', 0x2000],
  ['c.flw', 0x6000],
  ['quadrant 0 reserved', 0x8000],
  ['c.fsd', 0xa000],
  ['c.fsw', 0xe000],
  ['c.addi16sp with nzimm = 0', 0x6101],
  ['c.lui with nzimm = 0', 0x6081],
  ['c.srli with shamt[5] = 1 (RV32 NSE)', 0x9005],
  ['c.srai with shamt[5] = 1', 0x9405],
  ['c.subw (RV64)', 0x9c01],
  ['c.addw (RV64)', 0x9c21],
  ['c.slli with shamt[5] = 1', 0x1006],
  ['c.fldsp', 0x2002],
  ['c.lwsp with rd = 0', 0x4002],
  ['c.flwsp', 0x6002],
  ['c.jr with rs1 = 0', 0x8002],
  ['c.fsdsp', 0xa002],
  ['c.fswsp', 0xe002],
];

describe('RV32C expansion', () => {
  for (const [name, c, expanded] of GOLDEN) {
    it(`${name} expands like binutils`, () => {
      expect((expandCompressed(c) >>> 0).toString(16)).toBe((expanded >>> 0).toString(16));
    });
  }

  for (const [name, c] of ILLEGAL) {
    it(`${name} (0x${c.toString(16)}) is illegal`, () => {
      expect(expandCompressed(c)).toBe(0);
    });
  }

  it('covers all three quadrants in the golden set', () => {
    const quadrants = new Set(GOLDEN.map(([, c]) => c & 3));
    expect([...quadrants].sort()).toEqual([0, 1, 2]);
  });

  it('the table agrees with expandCompressed and marks 32-bit encodings (low bits 11) illegal', () => {
    const table = rvcTable();
    expect(table.length).toBe(0x10000);
    for (let c = 0; c < 0x10000; c += 7) expect(table[c]).toBe(expandCompressed(c));
    expect(table[0x0013]).toBe(0);
    expect(rvcTable()).toBe(table);
  });

  it('every legal expansion is a 32-bit encoding', () => {
    const table = rvcTable();
    for (let c = 0; c < 0x10000; c++) if (table[c] !== 0) expect(table[c] & 3).toBe(3);
  });
});
