import { describe, expect, it } from 'vitest';
import {
  CsrFile, CSR_CYCLE, CSR_CYCLEH, CSR_INSTRET, CSR_INSTRETH, CSR_MCYCLE, CSR_MCYCLEH, CSR_MEPC, CSR_MIE, CSR_MINSTRET,
  CSR_MINSTRETH, CSR_MIP, CSR_MISA, CSR_MSTATUS, CSR_MTVEC, CSR_PMPADDR0, CSR_PMPCFG0, CSR_TDATA1, CSR_TDATA2,
  CSR_TDATA3, CSR_TIME, CSR_TSELECT, CSR_WORDS, MISA_VALUE, PMP_A_TOR, PMP_L, causeName, legalPmpCfg,
} from './csr';

describe('CsrFile', () => {
  it('misa says RV32 with A, C, I, M and ignores writes', () => {
    const c = new CsrFile();
    expect(MISA_VALUE >>> 0).toBe(0x4000_1105);
    expect(c.write(CSR_MISA, 0, 0)).toBe(true);
    expect(c.read(CSR_MISA, 0)).toBe(MISA_VALUE);
  });

  it('mstatus keeps only MIE and MPIE writable, MPP reads M', () => {
    const c = new CsrFile();
    c.write(CSR_MSTATUS, -1, 0);
    expect(c.read(CSR_MSTATUS, 0)).toBe(0x1888);
  });

  it('mie keeps only the implemented interrupt bits; mip ignores software writes', () => {
    const c = new CsrFile();
    c.write(CSR_MIE, -1, 0);
    expect(c.read(CSR_MIE, 0)).toBe(0x70888);
    expect(c.write(CSR_MIP, -1, 0)).toBe(true);
    expect(c.read(CSR_MIP, 0)).toBe(0);
  });

  it('mtvec reserved modes fall back to direct; mepc bit 0 is zero', () => {
    const c = new CsrFile();
    c.write(CSR_MTVEC, 0x8000_0103, 0);
    expect(c.read(CSR_MTVEC, 0)! >>> 0).toBe(0x8000_0101);
    c.write(CSR_MEPC, 0x8000_0003, 0);
    expect(c.read(CSR_MEPC, 0)! >>> 0).toBe(0x8000_0002);
  });

  it('counters are the icount, split into low and high words; the user-level views are read-only', () => {
    const c = new CsrFile();
    expect(c.read(CSR_INSTRET, 2 ** 33 + 5)).toBe(5);
    expect(c.read(CSR_CYCLEH, 2 ** 33 + 5)).toBe(2);
    for (const num of [CSR_CYCLE, CSR_INSTRET, CSR_CYCLEH, CSR_INSTRETH]) expect(c.write(num, 1, 0)).toBe(false);
  });

  it('a write to mcycle/minstret is what the next instruction reads, then counts on from there', () => {
    const c = new CsrFile();
    expect(c.write(CSR_MINSTRET, 1000, 50)).toBe(true); // by the instruction at icount 50
    expect(c.read(CSR_MINSTRET, 51)).toBe(1000);
    expect(c.read(CSR_INSTRET, 61)).toBe(1010);
    expect(c.read(CSR_MINSTRETH, 61)).toBe(0);
    expect(c.read(CSR_MCYCLE, 61)).toBe(61); // the other counter is untouched
    c.write(CSR_MCYCLEH, 7, 61);
    expect([c.read(CSR_MCYCLE, 62), c.read(CSR_MCYCLEH, 62), c.read(CSR_CYCLEH, 62)]).toEqual([62, 7, 7]);
  });

  it('counter views carry and wrap modulo 2^64, exactly past 2^32 retired instructions', () => {
    const c = new CsrFile();
    c.write(CSR_MINSTRETH, -1, 2 ** 32 + 9); // after: 0xffffffff_(2^32+10 low word = 10)
    c.write(CSR_MINSTRET, -2, 2 ** 32 + 10); // 0xffffffff_fffffffe at icount 2^32 + 11
    expect([c.read(CSR_MINSTRET, 2 ** 32 + 11), c.read(CSR_MINSTRETH, 2 ** 32 + 11)]).toEqual([-2, -1]);
    expect([c.read(CSR_MINSTRET, 2 ** 32 + 13), c.read(CSR_MINSTRETH, 2 ** 32 + 13)]).toEqual([0, 0]); // wrapped
    // At 2^40: 2^64 - 2 + (2^40 - 2^32 - 11) wraps to 2^40 - 2^32 - 13 = 0xfe_ffff_fff3.
    expect([c.read(CSR_MINSTRET, 2 ** 40), c.read(CSR_MINSTRETH, 2 ** 40)]).toEqual([-13, 0xfe]);
  });

  it('counter offsets round-trip through words, and reset clears them', () => {
    const c = new CsrFile();
    c.write(CSR_MCYCLE, 5, 100);
    c.write(CSR_MINSTRETH, 3, 100);
    const w = new Int32Array(CSR_WORDS);
    c.toWords(w, 0);
    const d = new CsrFile();
    d.fromWords(w, 0);
    expect([d.read(CSR_MCYCLE, 201), d.read(CSR_MINSTRETH, 201), d.read(CSR_MINSTRET, 201)]).toEqual([105, 3, 201]);
    d.reset();
    expect(d.read(CSR_MCYCLE, 201)).toBe(201);
  });

  it('trigger CSRs exist with no triggers: tselect stays 0, tdata1 says type 0, writes ignored', () => {
    const c = new CsrFile();
    for (const num of [CSR_TSELECT, CSR_TDATA1, CSR_TDATA2, CSR_TDATA3]) {
      expect(c.write(num, -1, 0)).toBe(true);
      expect(c.read(num, 0)).toBe(0);
    }
    expect(c.read(0x7a4, 0)).toBeUndefined(); // tinfo is not implemented
  });

  it('time asks the NondetSource; unknown CSRs read as undefined', () => {
    const c = new CsrFile();
    c.nondet = { read: (kind, icount) => (kind === 'time-lo' ? icount * 2 : 0) };
    expect(c.read(CSR_TIME, 21)).toBe(42);
    expect(c.read(0x7c0, 0)).toBeUndefined();
    expect(c.write(0x7c0, 0, 0)).toBe(false);
  });

  it('round-trips through words', () => {
    const c = new CsrFile();
    c.write(CSR_MSTATUS, 8, 0);
    c.write(CSR_MTVEC, 0x8000_0001, 0);
    c.mip = 0x80;
    const w = new Int32Array(CSR_WORDS + 1);
    c.toWords(w, 1);
    const d = new CsrFile();
    d.fromWords(w, 1);
    expect([d.mstatus, d.mtvec, d.mip]).toEqual([c.mstatus, c.mtvec, c.mip]);
  });

  it('PMP: pmpcfg bytes keep R W X A L, drop reserved bits, and turn W without R into neither', () => {
    const c = new CsrFile();
    c.write(CSR_PMPCFG0, 0x7f_1e_02_0f, 0); // entry 0 RWX TOR; 1 W only; 2 A=NAPOT+W+X; 3 reserved bits
    expect(c.read(CSR_PMPCFG0, 0)! >>> 0).toBe(0x1f_1c_00_0f);
    c.write(CSR_PMPCFG0 + 3, 0x99_00_00_00 | 0, 0);
    expect(c.read(CSR_PMPCFG0 + 3, 0)! >>> 0).toBe(0x99_00_00_00);
    c.write(CSR_PMPADDR0 + 5, 0x2000_0400, 0);
    expect(c.read(CSR_PMPADDR0 + 5, 0)).toBe(0x2000_0400);
    expect([c.read(0x3a4, 0), c.read(0x3c0, 0), c.read(0x3ef, 0), c.write(0x3af, -1, 0), c.read(0x3af, 0)]).toEqual([0, 0, 0, true, 0]);
    expect(c.read(0x3f0, 0)).toBeUndefined();
  });

  it('PMP: a locked entry ignores writes to its config and address, and a locked TOR entry freezes the address below', () => {
    const c = new CsrFile();
    c.write(CSR_PMPADDR0 + 1, 0x100, 0);
    c.write(CSR_PMPADDR0 + 2, 0x200, 0);
    c.write(CSR_PMPADDR0 + 4, 0x400, 0);
    c.write(CSR_PMPCFG0, (PMP_L | PMP_A_TOR | 1) << 16 | (PMP_L | 1) << 8, 0); // entry 1 locked OFF, entry 2 locked TOR
    c.write(CSR_PMPCFG0, 0x0303_0303, 0);
    expect(c.read(CSR_PMPCFG0, 0)! >>> 0).toBe(0x03_89_81_03);
    for (const i of [0, 1, 2, 3, 4]) c.write(CSR_PMPADDR0 + i, 0xfff, 0);
    expect([0, 1, 2, 3, 4].map((i) => c.read(CSR_PMPADDR0 + i, 0))).toEqual([0xfff, 0x100, 0x200, 0xfff, 0xfff]);
  });

  it('PMP registers round-trip through words; restoring legalises the config', () => {
    const c = new CsrFile();
    c.write(CSR_PMPCFG0 + 2, 0x8f, 0);
    c.write(CSR_PMPADDR0 + 15, -1, 0);
    const w = new Int32Array(CSR_WORDS);
    c.toWords(w, 0);
    const d = new CsrFile();
    d.fromWords(w, 0);
    expect([d.read(CSR_PMPCFG0 + 2, 0), d.read(CSR_PMPADDR0 + 15, 0)]).toEqual([0x8f, -1]);
    w[12] = 0x62; // W without R, reserved bits
    d.fromWords(w, 0);
    expect(d.read(CSR_PMPCFG0, 0)).toBe(0);
    expect(legalPmpCfg(0xff)).toBe(0x9f);
  });

  it('names causes for fault messages', () => {
    expect(causeName(2)).toBe('illegal instruction');
    expect(causeName(0x8000_0007 | 0)).toBe('interrupt 7');
  });
});
