/**
 * The disassembler against GNU objdump 2.40 (`objdump -d`, default aliases). The expected text is
 * committed, so this test needs no RISC-V toolchain; to regenerate it after a guest changes:
 *
 *   node scripts/objdump-fixtures.mjs      (needs riscv64-unknown-elf-{objdump,as,ld,objcopy})
 *
 * testing/objdump-fixtures.txt is every instruction of the shipped guests (public/guests/*.elf and
 * public/guests/isa/*.elf): all of them must match, with no exceptions. testing/objdump-edge-
 * fixtures.txt is a synthetic program of edge cases (aliases, HINTs, reserved encodings, every
 * named CSR, seeded samples); it matches except for the three listed EXCEPTIONS.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { disassemble, disassembleAt, type Disassembly } from './disasm';
import { expandCompressed } from './rvc';

interface Row { file: string; pc: number; hex: string; objdump: string; }

function readFixture(name: string): Row[] {
  const rows: Row[] = [];
  let file = '';
  for (const line of readFileSync(new URL(`./testing/${name}`, import.meta.url), 'utf8').split('\n')) {
    if (line.startsWith('# file ')) file = line.slice(7);
    if (line === '' || line.startsWith('#')) continue;
    const [addr, hex, objdump] = line.split('\t');
    rows.push({ file, pc: parseInt(addr, 16), hex, objdump });
  }
  return rows;
}

/**
 * objdump's spelling of what it cannot decode (`.4byte 0xf00b`, `.2byte 0x6000`, `.word` for data
 * in .text) is our `unknown 0x0000f00b`: the API's one deliberate difference in spelling.
 */
function expectedText(row: Row): string {
  const m = /^\.(?:2byte|4byte|word|short) 0x([0-9a-f]+)$/.exec(row.objdump);
  return m === null ? row.objdump : `unknown 0x${m[1].padStart(row.hex.length, '0')}`;
}

function decodeRow(row: Row): Disassembly {
  const v = parseInt(row.hex, 16);
  return disassemble(v & 0xffff, v >>> 16, row.pc);
}

/** The row's instruction as little-endian bytes, for disassembleAt. */
function rowBytes(row: Row): Uint8Array {
  const v = parseInt(row.hex, 16);
  return new Uint8Array([v, v >>> 8, v >>> 16, v >>> 24].slice(0, row.hex.length / 2));
}

function describeMismatch(row: Row, got: Disassembly, want: string): string {
  return `${row.file} ${row.pc.toString(16)} ${row.hex}: objdump "${want}", ours "${got.text}" (length ${got.length})`;
}

interface Exception { why: string; applies: (row: Row) => boolean; }

/**
 * Where we knowingly print `unknown` and objdump 2.40 decodes: encodings the RV32IMAC machine-mode
 * hart rejects as illegal (rvc.ts, hart.ts), so the disassembly says what the hart will do. They
 * occur only in the edge fixture; each must be hit at least once, so the list cannot go stale.
 */
const EXCEPTIONS: Exception[] = [
  {
    why: 'RV32 shift with shamt[5] = 1: slli/srli/srai (spec §2.4.1) and c.slli/c.srli/c.srai ' +
      '(§16.5, "RV32 NSE") are reserved on RV32; objdump decodes them as RV64 shifts',
    applies: ({ objdump }) => /^(sll|srl|sra|c\.slli) .*,0x[23][0-9a-f]$/.test(objdump), // shamt 32..63
  },
  {
    why: 'c.addi16sp with a zero immediate (0x6101) is reserved (§16.5, "RES"); objdump prints add sp,sp,0',
    applies: ({ hex }) => hex === '6101',
  },
  {
    why: 'uret, sret, dret and sfence.vma belong to modes this machine does not have (M-mode only); ' +
      'the hart raises illegal instruction',
    applies: ({ objdump }) => /^(uret|sret|dret|sfence\.vma)\b/.test(objdump),
  },
];

describe('disassemble against objdump: the shipped guests', () => {
  const rows = readFixture('objdump-fixtures.txt');

  it('reads every guest ELF from the fixture', () => {
    const files = new Set(rows.map((r) => r.file));
    expect([...files].sort()).toEqual([
      'public/guests/bench.elf', 'public/guests/counter.elf', 'public/guests/isa/bench-loop.elf',
      'public/guests/isa/rv32mi.elf', 'public/guests/isa/rv32ua.elf', 'public/guests/isa/rv32uc.elf',
      'public/guests/isa/rv32ui.elf', 'public/guests/isa/rv32um.elf', 'public/guests/kv.elf',
      'public/guests/ticker.elf',
    ]);
    expect(rows.length).toBeGreaterThan(5000);
  });

  it('matches objdump on every instruction, with no exceptions', () => {
    const mismatches: string[] = [];
    for (const row of rows) {
      const got = decodeRow(row), want = expectedText(row);
      if (got.text !== want || got.length * 2 !== row.hex.length) mismatches.push(describeMismatch(row, got, want));
    }
    expect(mismatches.slice(0, 20)).toEqual([]);
    expect(mismatches.length).toBe(0);
  });

  it('disassembleAt reads the same instructions from little-endian bytes', () => {
    const mismatches = rows.filter((row) => disassembleAt(rowBytes(row), 0, row.pc).text !== expectedText(row));
    expect(mismatches.map((r) => `${r.pc.toString(16)} ${r.hex}`).slice(0, 20)).toEqual([]);
  });
});

describe('disassemble against objdump: synthetic edge cases', () => {
  const rows = readFixture('objdump-edge-fixtures.txt');

  it('matches objdump except where an exception says the encoding is illegal here', () => {
    const mismatches: string[] = [];
    const hits = EXCEPTIONS.map(() => 0);
    for (const row of rows) {
      const got = decodeRow(row);
      const e = EXCEPTIONS.findIndex((ex) => ex.applies(row));
      let want = expectedText(row);
      if (e >= 0) {
        expect(want, `exception ${e} covers ${row.hex}, which objdump does not decode`).not.toMatch(/^unknown/);
        hits[e]++;
        want = `unknown 0x${row.hex}`;
      }
      if (got.text !== want || got.length * 2 !== row.hex.length) mismatches.push(describeMismatch(row, got, want));
    }
    expect(mismatches.slice(0, 20)).toEqual([]);
    expect(mismatches.length).toBe(0);
    expect(hits.every((n) => n > 0), `every exception is used: ${hits.join(', ')}`).toBe(true);
    expect(hits.reduce((a, b) => a + b, 0)).toBeLessThan(rows.length / 20); // 124 of 6296 at last regeneration
  });

  it('covers every CSR name objdump knows', () => {
    const named = rows.filter((r) => /^(csr|rd(cycle|time|instret))/.test(r.objdump) && !/,0x[0-9a-f]+(,|$)/.test(r.objdump));
    expect(named.length).toBeGreaterThan(400);
  });
});

describe('disassemble: hand-picked encodings (checked with objdump 2.40)', () => {
  const cases: [number, string][] = [
    [0xff010113, 'add sp,sp,-16'], // addi: binutils 2.40 prints immediate ALU ops by the register name
    [0x1141, 'add sp,sp,-16'], // c.addi sp,-16
    [0x00008067, 'ret'], [0x8082, 'ret'], // jalr zero,0(ra); c.jr ra
    [0x80001537, 'lui a0,0x80001'],
    [0x00c12503, 'lw a0,12(sp)'], [0x00a12623, 'sw a0,12(sp)'],
    [0x4501, 'li a0,0'], [0x852e, 'mv a0,a1'], [0x0001, 'nop'], [0x00000013, 'nop'],
    [0x0005, 'c.nop 1'], [0x0502, 'c.slli64 a0'], // RVC HINTs keep objdump's c. spelling
    [0x02c5c533, 'div a0,a1,a2'],
    [0x34202573, 'csrr a0,mcause'], [0x30529073, 'csrw mtvec,t0'], [0x30045073, 'csrw mstatus,8'],
    [0xc0102573, 'rdtime a0'], [0x7c002573, 'csrr a0,0x7c0'],
    [0x06c4252f, 'amoadd.w.aqrl a0,a2,(s0)'], [0x1004252f, 'lr.w a0,(s0)'], [0x18c4252f, 'sc.w a0,a2,(s0)'],
    [0x0ff0000f, 'fence'], [0x0330000f, 'fence rw,rw'], [0x8330000f, 'fence.tso'], [0x0000100f, 'fence.i'],
    [0x00000073, 'ecall'], [0x00100073, 'ebreak'], [0x9002, 'ebreak'], [0x30200073, 'mret'], [0x10500073, 'wfi'],
    [0x0000f00b, 'unknown 0x0000f00b'], // custom-0
    [0x10200073, 'unknown 0x10200073'], // sret: no S-mode here
  ];
  it.each(cases.map(([v, text]) => ({ hex: v.toString(16), v, text })))('$hex is $text', ({ v, text }) => {
    const length = (v & 3) === 3 ? 4 : 2;
    expect(disassemble(v & 0xffff, v >>> 16, 0x80000000)).toEqual({ text, length });
  });

  it('prints pc-relative targets as absolute hex, wrapping at 2^32 like objdump', () => {
    expect(disassemble(0x0ee3, 0xfe05, 0x80000010).text).toBe('beqz a0,8000000c'); // beq a0,zero,-4
    expect(disassemble(0xf0ef, 0xff1f, 0x80000010).text).toBe('jal 80000000'); // jal ra,-16
    expect(disassemble(0xbffd, 0, 0).text).toBe('j fffffffe'); // c.j -2 at address 0
  });

  it('reads only the halfword for a compressed instruction', () => {
    expect(disassemble(0x8082, 0x1234, 0)).toEqual(disassemble(0x8082, 0, 0));
    expect(disassembleAt(new Uint8Array([0x82, 0x80]), 0, 0)).toEqual({ text: 'ret', length: 2 });
    expect(disassembleAt(new Uint8Array([0, 0, 0x13, 0x01, 0x01, 0xff]), 2, 0)).toEqual({ text: 'add sp,sp,-16', length: 4 });
  });
});

describe('disassemble never throws', () => {
  it('gives unimp for the all-zero halfword and unknown for other illegal encodings', () => {
    expect(disassemble(0, 0, 0)).toEqual({ text: 'unimp', length: 2 });
    expect(disassemble(0xffff, 0xffff, 0)).toEqual({ text: 'unknown 0xffffffff', length: 4 });
    expect(disassemble(0x4002, 0, 0)).toEqual({ text: 'unknown 0x4002', length: 2 }); // c.lwsp rd = 0: reserved
    expect(disassemble(0x6501, 0, 0)).toEqual({ text: 'unknown 0x6501', length: 2 }); // c.lui imm = 0: reserved
    expect(disassemble(0x9c01, 0, 0)).toEqual({ text: 'unknown 0x9c01', length: 2 }); // c.subw: RV64 only
    expect(disassemble(0x2000, 0, 0)).toEqual({ text: 'unknown 0x2000', length: 2 }); // c.fld: no D
  });

  it('decodes every halfword, with any high half, to some text of the right length', () => {
    const bad: string[] = [];
    for (const hi of [0, 0xffff, 0x8000, 0x1234]) {
      for (let lo = 0; lo < 0x10000; lo++) {
        const d = disassemble(lo, hi, 0x80000000);
        const length = (lo & 3) === 3 ? 4 : 2;
        if (d.length !== length || d.text === '' || /undefined|NaN/.test(d.text)) bad.push(`${hi.toString(16)}:${lo.toString(16)} ${d.text}`);
      }
    }
    expect(bad.slice(0, 10)).toEqual([]);
  });

  it('tolerates out-of-range arguments and reads past the end of a byte view as zero', () => {
    expect(() => disassemble(NaN, NaN, NaN)).not.toThrow();
    expect(() => disassemble(-1, -1, -1)).not.toThrow();
    expect(disassemble(0x1_0013, 0xf_0000, 0)).toEqual({ text: 'nop', length: 4 });
    expect(disassembleAt(new Uint8Array(0), 5, 0)).toEqual({ text: 'unimp', length: 2 });
    expect(disassembleAt(new Uint8Array([0x13]), 0, 0)).toEqual({ text: 'nop', length: 4 });
  });
});

describe('disassemble agrees with the hart on compressed legality', () => {
  it('calls a halfword unknown/unimp exactly when rvc.ts has no expansion for it', () => {
    const disagree: string[] = [];
    for (let c = 0; c < 0x10000; c++) {
      if ((c & 3) === 3) continue;
      const text = disassemble(c, 0, 0).text;
      const illegalHere = text === 'unimp' || text.startsWith('unknown');
      if (illegalHere !== (expandCompressed(c) === 0)) disagree.push(`${c.toString(16)}: ${text}`);
    }
    expect(disagree.slice(0, 10)).toEqual([]);
  });
});
