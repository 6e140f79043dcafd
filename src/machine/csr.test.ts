import { describe, expect, it } from 'vitest';
import {
  CsrFile, CSR_CYCLEH, CSR_INSTRET, CSR_MEPC, CSR_MIE, CSR_MIP, CSR_MISA, CSR_MSTATUS, CSR_MTVEC, CSR_TIME,
  CSR_WORDS, MISA_VALUE, causeName,
} from './csr';

describe('CsrFile', () => {
  it('misa says RV32 with A, C, I, M and ignores writes', () => {
    const c = new CsrFile();
    expect(MISA_VALUE >>> 0).toBe(0x4000_1105);
    expect(c.write(CSR_MISA, 0)).toBe(true);
    expect(c.read(CSR_MISA, 0)).toBe(MISA_VALUE);
  });

  it('mstatus keeps only MIE and MPIE writable, MPP reads M', () => {
    const c = new CsrFile();
    c.write(CSR_MSTATUS, -1);
    expect(c.read(CSR_MSTATUS, 0)).toBe(0x1888);
  });

  it('mie keeps only the implemented interrupt bits; mip ignores software writes', () => {
    const c = new CsrFile();
    c.write(CSR_MIE, -1);
    expect(c.read(CSR_MIE, 0)).toBe(0x70888);
    expect(c.write(CSR_MIP, -1)).toBe(true);
    expect(c.read(CSR_MIP, 0)).toBe(0);
  });

  it('mtvec reserved modes fall back to direct; mepc bit 0 is zero', () => {
    const c = new CsrFile();
    c.write(CSR_MTVEC, 0x8000_0103);
    expect(c.read(CSR_MTVEC, 0)! >>> 0).toBe(0x8000_0101);
    c.write(CSR_MEPC, 0x8000_0003);
    expect(c.read(CSR_MEPC, 0)! >>> 0).toBe(0x8000_0002);
  });

  it('counters are the icount, split into low and high words; read-only', () => {
    const c = new CsrFile();
    expect(c.read(CSR_INSTRET, 2 ** 33 + 5)).toBe(5);
    expect(c.read(CSR_CYCLEH, 2 ** 33 + 5)).toBe(2);
    expect(c.write(CSR_INSTRET, 1)).toBe(false);
    expect(c.write(0xb00, 1)).toBe(false);
  });

  it('time asks the NondetSource; unknown CSRs read as undefined', () => {
    const c = new CsrFile();
    c.nondet = { read: (kind, icount) => (kind === 'time-lo' ? icount * 2 : 0) };
    expect(c.read(CSR_TIME, 21)).toBe(42);
    expect(c.read(0x7c0, 0)).toBeUndefined();
    expect(c.write(0x7c0, 0)).toBe(false);
  });

  it('round-trips through words', () => {
    const c = new CsrFile();
    c.write(CSR_MSTATUS, 8);
    c.write(CSR_MTVEC, 0x8000_0001);
    c.mip = 0x80;
    const w = new Int32Array(CSR_WORDS + 1);
    c.toWords(w, 1);
    const d = new CsrFile();
    d.fromWords(w, 1);
    expect([d.mstatus, d.mtvec, d.mip]).toEqual([c.mstatus, c.mtvec, c.mip]);
  });

  it('names causes for fault messages', () => {
    expect(causeName(2)).toBe('illegal instruction');
    expect(causeName(0x8000_0007 | 0)).toBe('interrupt 7');
  });
});
