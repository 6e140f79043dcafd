import { describe, expect, it } from 'vitest';
import * as A from './testing/encode';
import { rigWithProgram, TestBus } from './testing/harness';
import { RAM_BASE } from './memmap';
import { CSR_MCAUSE, CSR_MEPC, CSR_MIE, CSR_MSTATUS, CSR_MTVAL, CSR_MTVEC } from './csr';

const DATA = RAM_BASE + 0x1000;
const HANDLER = RAM_BASE + 0x800;

/** Program with a trap handler at HANDLER that just spins (jal x0, 0), mtvec set first. */
function withHandler(body: number[], handler: number[] = [A.jal(0, 0)]): number[] {
  const words = [...A.li(31, HANDLER), A.csrw(CSR_MTVEC, 31), ...body];
  while (words.length < 0x800 / 4) words.push(A.NOP);
  return [...words, ...handler];
}

/** Run `n` instructions (default: one per word, a straight-line program) and return the hart. */
function runAll(words: number[], n = words.length) {
  const rig = rigWithProgram(words);
  const result = rig.hart.run(n);
  expect(result).toEqual({ retired: n, reason: 'budget' });
  return rig.hart;
}

describe('RV32I', () => {
  it('keeps x0 zero and executes the ALU', () => {
    const h = runAll([A.addi(0, 0, 5), A.addi(1, 0, -7), A.srai(2, 1, 1), A.slli(3, 1, 28), A.sub(4, 0, 1), ...A.li(5, 0xdeadbeef)]);
    expect([h.regs[0], h.regs[1], h.regs[2], h.regs[3], h.regs[4], h.regs[5] >>> 0]).toEqual([0, -7, -4, 0x9000_0000 | 0, 7, 0xdeadbeef]);
  });

  it('auipc adds to its own pc; jal/jalr link the next pc', () => {
    const h = runAll([A.NOP, A.auipc(1, 1), A.jal(2, 8), A.NOP, A.jalr(3, 2, 8)], 4);
    expect(h.regs[1] >>> 0).toBe(RAM_BASE + 4 + 0x1000);
    expect(h.regs[2] >>> 0).toBe(RAM_BASE + 12);
    expect(h.regs[3] >>> 0).toBe(RAM_BASE + 20);
    expect(h.pc).toBe(RAM_BASE + 20);
  });

  it('loads sign- and zero-extend; stores write the right width and mark the page dirty', () => {
    const rig = rigWithProgram([...A.li(10, DATA), ...A.li(1, 0x8081_f2f3), A.sw(1, 10, 0), A.lb(2, 10, 0), A.lbu(3, 10, 0),
      A.lh(4, 10, 2), A.lhu(5, 10, 2), A.sb(0, 10, 1), A.sh(0, 10, 2), A.lw(6, 10, 0)]);
    rig.mem.dirty.fill(0);
    rig.hart.run(12);
    const r = rig.hart.regs;
    expect([r[2], r[3], r[4], r[5], r[6]]).toEqual([-13, 0xf3, 0x8081 - 0x10000, 0x8081, 0xf3]);
    expect(rig.mem.dirty[1]).toBe(1);
    expect(rig.mem.dirty[0]).toBe(0);
  });

  it('branches compare signed and unsigned', () => {
    const h = runAll([A.addi(1, 0, -1), A.addi(2, 0, 1), A.blt(1, 2, 8), A.addi(5, 0, 1), A.bgeu(2, 1, 8), A.addi(6, 0, 1)], 5);
    expect([h.regs[5], h.regs[6]]).toEqual([0, 1]);
    expect(h.pc).toBe(RAM_BASE + 24);
  });
});

describe('M extension (spec Table 7.1 corner cases)', () => {
  const cases: [string, (rd: number, a: number, b: number) => number, number, number, number][] = [
    ['mul', A.mul, 0x7fff_ffff, 2, -2],
    ['mulh', A.mulh, -0x8000_0000, -0x8000_0000, 0x4000_0000],
    ['mulhsu', A.mulhsu, -1, -1, -1],
    ['mulhu', A.mulhu, -1, -1, -2],
    ['div by zero', A.div, 7, 0, -1],
    ['divu by zero', A.divu, 7, 0, -1],
    ['rem by zero', A.rem, -7, 0, -7],
    ['remu by zero', A.remu, 7, 0, 7],
    ['div overflow', A.div, -0x8000_0000, -1, -0x8000_0000],
    ['rem overflow', A.rem, -0x8000_0000, -1, 0],
    ['div rounds toward zero', A.div, -7, 2, -3],
    ['rem takes the dividend sign', A.rem, -7, 2, -1],
    ['divu unsigned', A.divu, -1, 2, 0x7fff_ffff],
  ];
  for (const [name, op, a, b, expected] of cases) {
    it(name, () => {
      const h = runAll([...A.li(1, a), ...A.li(2, b), op(3, 1, 2)]);
      expect(h.regs[3]).toBe(expected);
    });
  }
});

describe('A extension', () => {
  it('LR/SC succeeds once, then fails without a new reservation', () => {
    const h = runAll([...A.li(10, DATA), A.addi(1, 0, 9), A.amo(2, 2, 10, 0), A.amo(3, 3, 10, 1), A.amo(3, 4, 10, 1), A.lw(5, 10, 0)]);
    expect([h.regs[3], h.regs[4], h.regs[5]]).toEqual([0, 1, 9]);
  });

  it('an external write (RAM replaced by a snapshot restore) keeps the reservation', () => {
    const rig = rigWithProgram([...A.li(10, DATA), A.amo(2, 2, 10, 0), A.amo(3, 3, 10, 0)]);
    rig.hart.run(3);
    rig.mem.replace(rig.mem.buffer.slice(0));
    rig.hart.run(1);
    expect(rig.hart.regs[3]).toBe(0);
  });

  const amos: [string, number, number, number, number][] = [
    ['amoswap', 1, 5, 9, 9], ['amoadd', 0, 5, 9, 14], ['amoxor', 4, 5, 9, 12], ['amoand', 12, 5, 9, 1],
    ['amoor', 8, 5, 9, 13], ['amomin', 16, -5, 9, -5], ['amomax', 20, -5, 9, 9],
    ['amominu', 24, -5, 9, 9], ['amomaxu', 28, -5, 9, -5],
  ];
  for (const [name, f5, init, src, after] of amos) {
    it(`${name} returns the old value and stores the result`, () => {
      const h = runAll([...A.li(10, DATA), ...A.li(1, init), A.sw(1, 10, 0), ...A.li(2, src), A.amo(f5, 3, 10, 2), A.lw(4, 10, 0)]);
      expect([h.regs[3], h.regs[4]]).toEqual([init, after]);
    });
  }

  it('a misaligned AMO raises store/AMO address misaligned (cause 6)', () => {
    const rig = rigWithProgram(withHandler([...A.li(10, DATA + 2), A.amo(0, 3, 10, 0)]));
    rig.hart.run(6);
    expect(rig.hart.csr.mcause).toBe(6);
    expect(rig.hart.csr.mtval >>> 0).toBe(DATA + 2);
  });
});

describe('misaligned loads and stores', () => {
  /** Bytes 0x10, 0x11, ... 0x1f at DATA, so every misaligned read has a known little-endian value. */
  function ramRig(body: number[]) {
    const rig = rigWithProgram([...A.li(10, DATA), ...body]);
    rig.mem.write(DATA, Uint8Array.from({ length: 16 }, (_, i) => 0x10 + i));
    return rig;
  }

  it('LW/LH/LHU at every misaligned offset read little-endian bytes, sign- or zero-extended', () => {
    const rig = ramRig([A.lw(1, 10, 1), A.lw(2, 10, 2), A.lw(3, 10, 3), A.lh(4, 10, 5), A.lhu(5, 10, 7), A.lh(6, 10, 15)]);
    rig.mem.write(DATA + 15, new Uint8Array([0xf0, 0x80]));
    expect(rig.hart.run(8)).toEqual({ retired: 8, reason: 'budget' });
    const r = rig.hart.regs;
    expect([r[1], r[2], r[3], r[4], r[5], r[6]]).toEqual([0x1413_1211, 0x1514_1312, 0x1615_1413, 0x1615, 0x1817, 0x80f0 - 0x10000]);
  });

  it('SW/SH at misaligned offsets write exactly their bytes, little-endian', () => {
    const rig = ramRig([...A.li(1, 0xa1b2_c3d4), A.sw(1, 10, 1), A.sh(1, 10, 7), A.sw(1, 10, 11)]);
    expect(rig.hart.run(7).retired).toBe(7);
    expect([...rig.mem.read(DATA, 16)]).toEqual([0x10, 0xd4, 0xc3, 0xb2, 0xa1, 0x15, 0x16, 0xd4, 0xc3, 0x19, 0x1a, 0xd4, 0xc3, 0xb2, 0xa1, 0x1f]);
  });

  it('compressed c.lw/c.sw with a misaligned base complete too', () => {
    // li s1, DATA+1; li a5, 0x01020304; c.sw a5, 0(s1); c.lw a4, 0(s1)
    const rig = rigWithProgram([...A.li(9, DATA + 1), ...A.li(15, 0x0102_0304), 0x4098_c09c]);
    expect(rig.hart.run(6).retired).toBe(6);
    expect(rig.hart.regs[14]).toBe(0x0102_0304);
    expect([...rig.mem.read(DATA, 5)]).toEqual([0, 4, 3, 2, 1]);
  });

  it('a store straddling two pages marks both dirty, and one inside a page only that page', () => {
    const rig = rigWithProgram([...A.li(10, RAM_BASE + 0x3000 - 2), A.sw(10, 10, 0), A.sh(10, 10, -5)]);
    rig.mem.dirty.fill(0);
    rig.hart.run(4);
    expect([...rig.mem.dirty.subarray(0, 5)]).toEqual([0, 0, 1, 1, 0]);
    expect(new DataView(rig.mem.buffer).getUint32(0x3000 - 2, true)).toBe((RAM_BASE + 0x3000 - 2) >>> 0);
  });

  it('a misaligned store over cached code is seen the next time the code runs', () => {
    // loop at T: addi x5, x5, 1; after the first pass, sw at T-1 rewrites its low three bytes to
    // addi x5, x5, 15 (the NOP before it keeps its top byte 0x00).
    const T = RAM_BASE + 4 * 5;
    const patched = A.addi(5, 5, 15);
    expect(patched >>> 24).toBe(0);
    const prog = [...A.li(10, T - 1), ...A.li(11, patched << 8), A.NOP, A.addi(5, 5, 1), A.sw(11, 10, 0), A.jal(0, -8)];
    const rig = rigWithProgram(prog);
    rig.hart.run(6 + 2 + 1); // first pass (+1), store, jump back, then the patched addi (+15)
    expect(rig.hart.regs[5]).toBe(16);
    expect(rig.mem.read(T - 4, 4)).toEqual(new Uint8Array([0x13, 0, 0, 0]));
  });

  it('a misaligned store over the last byte of a cached instruction is seen', () => {
    // sh at T+3 writes the top byte of addi x5, x5, 1 at T (imm 1 → 17) and, unchanged, the low
    // byte of the sh itself after it.
    const T = RAM_BASE + 4 * 4;
    const prog = [...A.li(10, T + 3), ...A.li(11, 0x2301), A.addi(5, 5, 1), A.sh(11, 10, 0), A.jal(0, -8)];
    expect(A.addi(5, 5, 17) ^ A.addi(5, 5, 1)).toBe(0x0100_0000);
    expect(A.sh(11, 10, 0) & 0xff).toBe(0x23);
    const rig = rigWithProgram(prog);
    rig.hart.run(4 + 3 + 1);
    expect(rig.hart.regs[5]).toBe(18);
  });

  it('a misaligned store whose last byte lands on the next page invalidates cached code there', () => {
    // Code on page 2 (from 0x2000): addi x5, x5, 1; sw; jal back to the addi. The sw at 0x1ffd
    // (page 1, which holds no code) ends on the addi's low byte, rd bit 0 included: addi x4, x5, 1.
    const rig = rigWithProgram([...A.li(10, RAM_BASE + 0x1ffd), ...A.li(11, 0x1300_0000), A.jal(0, 0x2000 - 16)]);
    const code = [A.addi(5, 5, 1), A.sw(11, 10, 0), A.jal(0, -8)];
    rig.mem.write(RAM_BASE + 0x2000, new Uint8Array(new Uint32Array(code).buffer));
    expect(A.addi(4, 5, 1) ^ A.addi(5, 5, 1)).toBe(0x80); // only the byte the store changes differs
    rig.hart.run(5 + 3 + 1);
    expect([rig.hart.regs[5], rig.hart.regs[4]]).toEqual([1, 2]);
  });

  it('a misaligned device access traps without touching the bus; LR and AMOs still trap', () => {
    const rig = rigWithProgram(withHandler([...A.li(10, TestBus.DEVICE + 2), A.lw(1, 10, 0)]));
    rig.hart.run(6);
    expect(rig.hart.csr.mcause).toBe(4);
    expect(rig.bus.log).toEqual([]);
    for (const [f5, cause] of [[2, 4], [3, 6], [1, 6]]) {
      const amo = rigWithProgram(withHandler([...A.li(10, DATA + 1), A.amo(f5, 3, 10, 0)]));
      amo.hart.run(6);
      expect([amo.hart.csr.mcause, amo.hart.csr.mtval >>> 0]).toEqual([cause, DATA + 1]);
    }
  });
});

describe('C extension in the hart', () => {
  it('runs compressed code: c.li, c.addi, c.jal links pc + 2', () => {
    // c.li a0, -1 ; c.addi a0, 3 ; c.jal +4 ; c.nop ; c.nop
    const halves = [0x557d, 0x050d, 0x2011, 0x0001, 0x0001, 0x0001];
    const words = [];
    for (let i = 0; i < halves.length; i += 2) words.push(halves[i] | (halves[i + 1] << 16));
    const rig = rigWithProgram(words);
    expect(rig.hart.run(3).retired).toBe(3);
    expect(rig.hart.regs[10]).toBe(2);
    expect(rig.hart.regs[1] >>> 0).toBe(RAM_BASE + 6);
    expect(rig.hart.pc).toBe(RAM_BASE + 8);
  });

  it('a 32-bit instruction at a 2-byte boundary executes', () => {
    const addi = A.addi(5, 0, 42);
    const rig = rigWithProgram([0x0001 | ((addi & 0xffff) << 16), addi >>> 16]);
    rig.hart.run(2);
    expect(rig.hart.regs[5]).toBe(42);
    expect(rig.hart.pc).toBe(RAM_BASE + 6);
  });

  it('an illegal compressed instruction traps with the 16 bits in mtval', () => {
    const prog = withHandler([0x0001_6000]); // c.flw (no F extension), then c.nop
    const rig = rigWithProgram(prog);
    rig.hart.run(4);
    expect(rig.hart.csr.mcause).toBe(2);
    expect(rig.hart.csr.mtval).toBe(0x6000);
    expect(rig.hart.csr.mepc >>> 0).toBe(RAM_BASE + 12);
  });
});

describe('Zicsr and counters', () => {
  it('csrrw/csrrs/csrrc and the immediate forms', () => {
    const h = runAll([A.addi(1, 0, 0xf0), A.csr(1, 0, 0x340, 1), A.addi(2, 0, 0x0f), A.csr(2, 3, 0x340, 2),
      A.csr(7, 4, 0x340, 3), A.csr(5, 5, 0x340, 31), A.csrr(6, 0x340)]);
    expect([h.regs[3], h.regs[4], h.regs[5], h.regs[6]]).toEqual([0xf0, 0xff, 0xfc, 31]);
  });

  it('instret/cycle read icount before the instruction; instreth the high word', () => {
    const rig = rigWithProgram([A.NOP, A.csrr(1, 0xc02), A.csrr(2, 0xc00), A.csrr(3, 0xc82), A.csrr(4, 0xb02)]);
    rig.hart.icount = 0x1_0000_0005;
    rig.hart.run(5);
    expect([rig.hart.regs[1], rig.hart.regs[2], rig.hart.regs[3], rig.hart.regs[4]]).toEqual([6, 7, 1, 9]);
  });

  it('a written minstret is what the next instruction reads; icount and mcycle do not move', () => {
    const rig = rigWithProgram([...A.li(1, 1000), A.csrw(0xb02, 1), A.csrr(2, 0xb02), A.csrr(3, 0xc02), A.NOP, A.csrr(4, 0xc00), A.csrr(5, 0xb82)]);
    rig.hart.run(8);
    const r = rig.hart.regs;
    expect([r[2], r[3], r[4], r[5]]).toEqual([1000, 1001, 6, 0]);
    expect(rig.hart.icount).toBe(8);
  });

  it('csrrw on mcycle returns the old view and writes the new one', () => {
    const h = runAll([...A.li(1, -1), A.csr(1, 2, 0xb80, 1), A.csrr(3, 0xc80), A.csr(1, 4, 0xb00, 0), A.csrr(5, 0xb00)]);
    expect([h.regs[2], h.regs[3], h.regs[4], h.regs[5]]).toEqual([0, -1, 4, 0]);
  });

  it('counter offsets are CPU state: in stateWords and carried by snapshot/restore', () => {
    const rig = rigWithProgram([...A.li(1, 77), A.csrw(0xb00, 1), A.csrr(2, 0xb00)]);
    const plain = rigWithProgram([...A.li(1, 77), A.NOP, A.csrr(2, 0xb00)]);
    rig.hart.run(3);
    plain.hart.run(3);
    expect(Array.from(rig.hart.stateWords())).not.toEqual(Array.from(plain.hart.stateWords()));
    plain.hart.restore(rig.hart.snapshot());
    plain.hart.run(1);
    expect(plain.hart.regs[2]).toBe(77);
  });

  it('trigger and PMP CSRs are accessible: no triggers, PMP stored as WARL', () => {
    const h = runAll([...A.li(1, -1), A.csrw(0x7a0, 1), A.csrr(2, 0x7a0), A.csrw(0x7a1, 1), A.csrr(3, 0x7a1), A.csrr(4, 0x7a3),
      ...A.li(5, 0x0000_0f02), A.csrw(0x3a0, 5), A.csrr(6, 0x3a0), A.csrw(0x3bf, 1), A.csrr(7, 0x3bf)]);
    expect([h.regs[2], h.regs[3], h.regs[4], h.regs[6], h.regs[7]]).toEqual([0, 0, 0, 0x0f00, -1]);
  });

  it('time/timeh come from the NondetSource with the icount of the reading instruction', () => {
    const rig = rigWithProgram([A.NOP, A.NOP, A.csrr(1, 0xc01), A.csrr(2, 0xc81)]);
    const reads: string[] = [];
    rig.hart.nondet = { read: (kind, icount) => { reads.push(`${kind}@${icount}`); return kind === 'time-lo' ? 1234 : 5; } };
    rig.hart.run(4);
    expect(reads).toEqual(['time-lo@2', 'time-hi@3']);
    expect([rig.hart.regs[1], rig.hart.regs[2]]).toEqual([1234, 5]);
  });

  it('reading time without a NondetSource throws a clear error', () => {
    const rig = rigWithProgram([A.csrr(1, 0xc01)]);
    expect(() => rig.hart.run(1)).toThrow(/no NondetSource/);
  });

  it('an unknown CSR and a write to a read-only CSR are illegal instructions', () => {
    for (const inst of [A.csrr(1, 0x7c0), A.csrw(0xc00, 1), A.csrw(0xc02, 1), A.csrw(0xc82, 1), A.csrw(0xf14, 1)]) {
      const rig = rigWithProgram(withHandler([inst]));
      rig.hart.run(4);
      expect(rig.hart.csr.mcause).toBe(2);
      expect(rig.hart.csr.mtval >>> 0).toBe(inst);
    }
  });

  it('software cannot set mip bits; mepc drops bit 0', () => {
    const h = runAll([A.addi(1, 0, -1), A.csrw(0x344, 1), A.csrr(2, 0x344), A.csrw(CSR_MEPC, 1), A.csrr(3, CSR_MEPC)]);
    expect(h.regs[2]).toBe(0);
    expect(h.regs[3]).toBe(-2);
  });
});

describe('traps', () => {
  const trapCases: [string, number[], number, (rig: ReturnType<typeof rigWithProgram>) => number][] = [
    ['ecall', [A.ECALL], 11, () => 0],
    ['ebreak', [A.EBREAK], 3, () => RAM_BASE + 12],
    ['illegal instruction', [0xffff_ffff], 2, () => 0xffff_ffff],
    ['misaligned device load', [...A.li(10, TestBus.DEVICE + 1), A.lw(1, 10, 0)], 4, () => TestBus.DEVICE + 1],
    ['misaligned device halfword store', [...A.li(10, TestBus.DEVICE + 1), A.sh(1, 10, 0)], 6, () => TestBus.DEVICE + 1],
    ['misaligned load straddling the end of RAM', [...A.li(10, RAM_BASE + 0x1_0000 - 2), A.lw(1, 10, 0)], 5, () => RAM_BASE + 0x1_0000 - 2],
    ['misaligned store straddling the end of RAM', [...A.li(10, RAM_BASE + 0x1_0000 - 1), A.sh(1, 10, 0)], 7, () => RAM_BASE + 0x1_0000 - 1],
    ['load access fault', [...A.li(10, 0x4000_0000), A.lw(1, 10, 0)], 5, () => 0x4000_0000],
    ['store access fault', [...A.li(10, 0x4000_0000), A.sb(1, 10, 3)], 7, () => 0x4000_0003],
  ];
  for (const [name, body, cause, tval] of trapCases) {
    it(`${name}: mcause ${cause}, mepc at the instruction, mtval, not retired`, () => {
      const rig = rigWithProgram(withHandler(body));
      const n = 3 + body.length - 1; // li (2) + csrw + body up to the trapping instruction
      const result = rig.hart.run(n + 1); // the trap itself retires nothing; one more: the handler's jump
      expect(result.retired).toBe(n + 1);
      expect(rig.hart.csr.mcause).toBe(cause);
      expect(rig.hart.csr.mepc >>> 0).toBe(RAM_BASE + 4 * (n + 0));
      expect(rig.hart.csr.mtval >>> 0).toBe(tval(rig) >>> 0);
      expect(rig.hart.pc).toBe(HANDLER);
    });
  }

  it('fetch access fault when jumping outside RAM', () => {
    const rig = rigWithProgram(withHandler([...A.li(1, 0x2000_0000), A.jalr(0, 1, 0)]));
    rig.hart.run(7);
    expect([rig.hart.csr.mcause, rig.hart.csr.mepc, rig.hart.csr.mtval]).toEqual([1, 0x2000_0000, 0x2000_0000]);
  });

  it('mret returns to mepc and restores MIE from MPIE', () => {
    const rig = rigWithProgram(withHandler([A.addi(1, 0, 8), A.csrw(CSR_MSTATUS, 1), A.ECALL, A.addi(7, 0, 1)],
      [A.csrr(5, CSR_MEPC), A.addi(5, 5, 4), A.csrw(CSR_MEPC, 5), A.csrr(6, CSR_MSTATUS), A.MRET]));
    rig.hart.run(5 + 5 + 1);
    expect(rig.hart.regs[6]).toBe(0x1880); // in the handler: MIE 0, MPIE 1, MPP M
    expect(rig.hart.regs[7]).toBe(1);
    expect(rig.hart.csr.read(CSR_MSTATUS, 0)).toBe(0x1888);
  });

  it('a device on the bus answers loads and stores, with icount exact during the call', () => {
    const rig = rigWithProgram([...A.li(10, TestBus.DEVICE), A.addi(1, 0, 77), A.sw(1, 10, 0), A.lw(2, 10, 0), A.sb(1, 10, 0)]);
    const counts: number[] = [];
    rig.bus.onStore = () => counts.push(rig.hart.icount);
    expect(rig.hart.run(6).retired).toBe(6);
    expect(rig.bus.log).toEqual(['store 4 77', 'load 4', 'store 1 77']);
    expect(rig.hart.regs[2]).toBe(77);
    expect(counts).toEqual([3, 5]);
  });
});

describe('fault stop', () => {
  it('an illegal instruction with no handler stops with a clear message and stays stopped', () => {
    const rig = rigWithProgram([A.NOP, A.NOP, A.NOP, A.NOP, 0]);
    const r = rig.hart.run(100);
    expect(r).toEqual({ retired: 4, reason: 'fault', fault: 'illegal instruction 0x00000000 at pc 0x80000010, no trap handler (mtvec=0x0)' });
    expect(rig.hart.pc).toBe(RAM_BASE + 16);
    expect(rig.hart.icount).toBe(4);
    expect(rig.hart.csr.mcause).toBe(0);
    expect(rig.hart.run(100)).toEqual({ retired: 0, reason: 'fault', fault: r.fault });
    rig.hart.reset(RAM_BASE);
    expect(rig.hart.run(2).reason).toBe('budget');
  });

  it('a handler whose first instruction traps is a fault, not a silent spin', () => {
    const rig = rigWithProgram(withHandler([A.ECALL], [0]));
    const r = rig.hart.run(1000);
    expect(r.reason).toBe('fault');
    expect(r.fault).toMatch(/illegal instruction 0x00000000 at pc 0x80000800: the trap handler itself traps/);
  });
});

describe('interrupts', () => {
  /** Enables MTIE and optionally MIE, then loops forever on `addi x1, x1, 1; j -4`. */
  function timerProgram(mieOn: boolean, vectored = false): ReturnType<typeof rigWithProgram> {
    const body = [...A.li(1, 0x80), A.csrw(CSR_MIE, 1), ...A.li(1, vectored ? HANDLER | 1 : HANDLER), A.csrw(CSR_MTVEC, 1),
      A.addi(1, 0, mieOn ? 8 : 0), A.csrw(CSR_MSTATUS, 1), A.addi(1, 0, 0), A.addi(1, 1, 1), A.jal(0, -4)];
    return rigWithProgram(withHandler(body, [A.addi(20, 0, 1), A.jal(0, 0), ...Array(5).fill(A.NOP), A.addi(21, 0, 7), A.jal(0, 0)]));
  }
  const SETUP = 3 + 2 + 1 + 2 + 1 + 3;

  it('a timer interrupt is taken before the next instruction when MIE and MTIE are set, and is not counted', () => {
    const rig = timerProgram(true);
    rig.hart.run(SETUP + 10);
    const pcBefore = rig.hart.pc;
    rig.hart.setIrq(7, true);
    const r = rig.hart.run(1);
    expect(r).toEqual({ retired: 1, reason: 'budget' });
    expect(rig.hart.regs[20]).toBe(1); // the handler's first instruction retired
    expect(rig.hart.csr.mcause).toBe(0x8000_0007 | 0);
    expect(rig.hart.csr.mepc >>> 0).toBe(pcBefore);
    expect(rig.hart.icount).toBe(SETUP + 11);
  });

  it('with MIE clear the interrupt stays pending and the loop continues', () => {
    const rig = timerProgram(false);
    rig.hart.run(SETUP);
    rig.hart.setIrq(7, true);
    rig.hart.run(50);
    expect(rig.hart.regs[20]).toBe(0);
    expect(rig.hart.csr.mip).toBe(0x80);
  });

  it('vectored mtvec sends interrupts to base + 4 * cause', () => {
    const rig = timerProgram(true, true);
    rig.hart.run(SETUP);
    rig.hart.setIrq(7, true);
    rig.hart.run(1);
    expect(rig.hart.regs[21]).toBe(7);
    expect(rig.hart.regs[20]).toBe(0);
  });

  it('priority: MEI, then MSI, then MTI, then platform lines lowest first', () => {
    const rig = timerProgram(true);
    rig.hart.run(SETUP);
    rig.hart.csr.mie = 0x70888;
    for (const bit of [18, 16, 7, 3]) rig.hart.setIrq(bit, true);
    rig.hart.run(1);
    expect(rig.hart.csr.mcause & 0xff).toBe(3);
  });

  it('a device raising a line during a store is seen before the next instruction', () => {
    const rig = rigWithProgram(withHandler([...A.li(1, 0x80), A.csrw(CSR_MIE, 1), A.addi(1, 0, 8), A.csrw(CSR_MSTATUS, 1),
      ...A.li(10, TestBus.DEVICE), A.sw(0, 10, 0), A.addi(5, 0, 1)], [A.addi(20, 0, 1), A.jal(0, 0)]));
    rig.bus.onStore = () => rig.hart.setIrq(7, true);
    rig.hart.run(12);
    expect(rig.hart.regs[5]).toBe(0);
    expect(rig.hart.regs[20]).toBe(1);
  });

  it('wfi stops the run after retiring when nothing is pending, and not when something is', () => {
    const rig = rigWithProgram([A.NOP, A.WFI, A.NOP, A.WFI, A.NOP]);
    expect(rig.hart.run(100)).toEqual({ retired: 2, reason: 'wfi' });
    expect(rig.hart.pc).toBe(RAM_BASE + 8);
    rig.hart.csr.mie = 0x80;
    rig.hart.setIrq(7, true); // pending and enabled in mie, MIE off: wfi falls through
    expect(rig.hart.run(3)).toEqual({ retired: 3, reason: 'budget' });
  });

  it('setIrq rejects bits that are not interrupt lines', () => {
    const rig = rigWithProgram([A.NOP]);
    expect(() => rig.hart.setIrq(5, true)).toThrow(/not an interrupt line/);
  });
});

describe('exact counting', () => {
  /** A loop with memory, branches and an mmio store. */
  function loopRig() {
    return rigWithProgram([...A.li(10, DATA), A.addi(1, 0, 0), A.addi(1, 1, 3), A.sw(1, 10, 0), A.lw(2, 10, 0),
      A.mul(3, 2, 2), A.bne(0, 0, 8), A.jal(0, -20)]);
  }

  it('run(n) retires exactly n', () => {
    for (const n of [0, 1, 2, 7, 100, 12345]) {
      const rig = loopRig();
      expect(rig.hart.run(n)).toEqual({ retired: n, reason: 'budget' });
      expect(rig.hart.icount).toBe(n);
    }
  });

  it('many small runs end in the same state as one big run', () => {
    const big = loopRig();
    big.hart.run(10_000);
    const small = loopRig();
    let seed = 7;
    while (small.hart.icount < 10_000) {
      seed = (seed * 1103515245 + 12345) & 0x7fff_ffff;
      small.hart.run(Math.min(1 + (seed % 13), 10_000 - small.hart.icount));
    }
    expect(Array.from(small.hart.stateWords())).toEqual(Array.from(big.hart.stateWords()));
  });

  it('counts exactly past 2^32', () => {
    const rig = loopRig();
    rig.hart.icount = 2 ** 32 - 3;
    rig.hart.run(10);
    expect(rig.hart.icount).toBe(2 ** 32 + 7);
    const w = rig.hart.stateWords();
    expect([w[33], w[34]]).toEqual([7, 1]);
  });
});

describe('snapshot/restore', () => {
  it('round-trips registers, pc, icount, CSRs and the reservation', () => {
    const rig = rigWithProgram(withHandler([...A.li(10, DATA), A.amo(2, 2, 10, 0), A.csrw(0x340, 10), A.ECALL]));
    rig.hart.icount = 2 ** 40;
    rig.hart.run(8);
    const snap = rig.hart.snapshot();
    const other = rigWithProgram([A.NOP]);
    other.hart.restore(snap);
    expect(Array.from(other.hart.stateWords())).toEqual(Array.from(rig.hart.stateWords()));
    expect(other.hart.reservation).toBe(DATA | 0);
    expect(other.hart.icount).toBe(2 ** 40 + 8);
    expect(other.hart.csr.mcause).toBe(11);
  });

  it('round-trips the fault state', () => {
    const rig = rigWithProgram([0]);
    const fault = rig.hart.run(1).fault;
    const other = rigWithProgram([A.NOP]);
    other.hart.restore(rig.hart.snapshot());
    expect(other.hart.run(1)).toEqual({ retired: 0, reason: 'fault', fault });
  });

  it('rejects a wrong size, magic or version with a clear error', () => {
    const rig = rigWithProgram([A.NOP]);
    const snap = rig.hart.snapshot();
    expect(() => rig.hart.restore(new ArrayBuffer(12))).toThrow(/hart snapshot is 12 bytes/);
    expect(() => rig.hart.restore(snap.slice(0, snap.byteLength - 4).slice(0) as ArrayBuffer)).toThrow(/bytes, expected/);
    const bad = snap.slice(0);
    new Int32Array(bad)[1] = 99;
    expect(() => rig.hart.restore(bad)).toThrow(/version 99/);
    const bad2 = snap.slice(0);
    new Int32Array(bad2)[0] = 0;
    expect(() => rig.hart.restore(bad2)).toThrow(/bad magic/);
  });
});

describe('tohost', () => {
  it('a nonzero word store to tohost ends the run with reason exit', () => {
    const rig = rigWithProgram([...A.li(10, DATA), A.sw(0, 10, 0), A.addi(1, 0, 5), A.sw(1, 10, 0), A.NOP]);
    rig.hart.tohostAddr = DATA;
    expect(rig.hart.run(100)).toEqual({ retired: 5, reason: 'exit', tohost: 5 });
    expect(rig.hart.pc).toBe(RAM_BASE + 20);
  });
});

describe('csr module', () => {
  it('mcause and mtval write what they are given', () => {
    const h = runAll([A.addi(1, 0, -3), A.csrw(CSR_MCAUSE, 1), A.csrw(CSR_MTVAL, 1), A.csrr(2, CSR_MCAUSE), A.csrr(3, CSR_MTVAL)]);
    expect([h.regs[2], h.regs[3]]).toEqual([-3, -3]);
  });
});

describe('decoded-instruction cache stays coherent', () => {
  it('a store over an already executed instruction takes effect the next time it runs', () => {
    // loop: addi x5, x5, 1 at index 4 is overwritten with addi x5, x5, 100 after the first pass.
    const target = RAM_BASE + 4 * 6;
    const prog = [...A.li(10, target), ...A.li(11, A.addi(5, 5, 100)), A.NOP, A.NOP, A.addi(5, 5, 1), A.sw(11, 10, 0), A.jal(0, -8)];
    const rig = rigWithProgram(prog);
    rig.hart.run(7 + 3); // first pass: +1, store, jump back; second pass: +100
    expect(rig.hart.regs[5]).toBe(101);
  });

  it('a halfword store into the upper half of a 32-bit instruction is seen', () => {
    const target = RAM_BASE + 4 * 5;
    // addi x5, x0, 1 → change imm to 0x7ff by rewriting bits 31:16 only.
    const newInst = A.addi(5, 0, 0x7ff);
    const prog = [...A.li(10, target + 2), ...A.li(11, newInst >>> 16), A.sh(11, 10, 0), A.addi(5, 0, 1)];
    const rig = rigWithProgram(prog);
    // Run the last instruction once first so it is cached, then rewrite it and run it again.
    rig.hart.pc = target;
    rig.hart.run(1);
    expect(rig.hart.regs[5]).toBe(1);
    rig.hart.pc = RAM_BASE;
    rig.hart.run(6);
    expect(rig.hart.regs[5]).toBe(0x7ff);
  });

  it('an external write (DMA, loader) over cached code is seen', () => {
    const rig = rigWithProgram([A.addi(5, 0, 1), A.jal(0, -4)]);
    rig.hart.run(4);
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setUint32(0, A.addi(5, 5, 3), true);
    rig.mem.write(RAM_BASE, bytes);
    rig.hart.run(4);
    expect(rig.hart.regs[5]).toBe(1 + 3 + 3);
  });

  it('replacing all of RAM (snapshot restore) drops every cached instruction', () => {
    const rig = rigWithProgram([A.addi(5, 5, 1), A.jal(0, -4)]);
    rig.hart.run(4);
    const image = new Uint8Array(rig.mem.size);
    new DataView(image.buffer).setUint32(0, A.addi(5, 5, 10), true);
    new DataView(image.buffer).setUint32(4, A.jal(0, -4), true);
    rig.mem.replace(image.buffer);
    rig.hart.run(2);
    expect(rig.hart.regs[5]).toBe(12);
  });

  it('a 32-bit instruction whose second half lies past the end of RAM is a fetch access fault', () => {
    const rig = rigWithProgram([A.NOP], 4096);
    const end = RAM_BASE + 4096 - 2;
    rig.mem.write(end, new Uint8Array([0x13, 0x00]));
    rig.hart.pc = end;
    const r = rig.hart.run(1);
    expect(r.reason).toBe('fault');
    expect(r.fault).toMatch(/instruction access fault \(mtval 0x80001000\) at pc 0x80000ffe/);
  });
});
