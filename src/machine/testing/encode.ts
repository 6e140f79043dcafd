/**
 * A tiny RV32 instruction encoder for tests (unprivileged spec ch. 2 base formats), so test
 * programs read as assembly: `[addi(1, 0, 5), add(2, 1, 1)]`.
 */

export function rType(op: number, f3: number, f7: number, rd: number, rs1: number, rs2: number): number {
  return ((f7 << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | op) >>> 0;
}
export function iType(op: number, f3: number, rd: number, rs1: number, imm: number): number {
  return (((imm & 0xfff) << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | op) >>> 0;
}
export function sType(f3: number, rs1: number, rs2: number, imm: number): number {
  return ((((imm >> 5) & 0x7f) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | ((imm & 31) << 7) | 0x23) >>> 0;
}
export function bType(f3: number, rs1: number, rs2: number, imm: number): number {
  return ((((imm >> 12) & 1) << 31) | (((imm >> 5) & 0x3f) << 25) | (rs2 << 20) | (rs1 << 15) |
    (f3 << 12) | (((imm >> 1) & 0xf) << 8) | (((imm >> 11) & 1) << 7) | 0x63) >>> 0;
}
export function jal(rd: number, imm: number): number {
  return ((((imm >> 20) & 1) << 31) | (((imm >> 1) & 0x3ff) << 21) | (((imm >> 11) & 1) << 20) |
    (((imm >> 12) & 0xff) << 12) | (rd << 7) | 0x6f) >>> 0;
}

export const lui = (rd: number, imm20: number): number => (((imm20 & 0xfffff) << 12) | (rd << 7) | 0x37) >>> 0;
export const auipc = (rd: number, imm20: number): number => (((imm20 & 0xfffff) << 12) | (rd << 7) | 0x17) >>> 0;
export const jalr = (rd: number, rs1: number, imm: number): number => iType(0x67, 0, rd, rs1, imm);

export const addi = (rd: number, rs1: number, imm: number): number => iType(0x13, 0, rd, rs1, imm);
export const slli = (rd: number, rs1: number, sh: number): number => iType(0x13, 1, rd, rs1, sh);
export const srai = (rd: number, rs1: number, sh: number): number => iType(0x13, 5, rd, rs1, 0x400 | sh);
export const add = (rd: number, rs1: number, rs2: number): number => rType(0x33, 0, 0, rd, rs1, rs2);
export const sub = (rd: number, rs1: number, rs2: number): number => rType(0x33, 0, 0x20, rd, rs1, rs2);
export const mul = (rd: number, rs1: number, rs2: number): number => rType(0x33, 0, 1, rd, rs1, rs2);
export const mulh = (rd: number, rs1: number, rs2: number): number => rType(0x33, 1, 1, rd, rs1, rs2);
export const mulhsu = (rd: number, rs1: number, rs2: number): number => rType(0x33, 2, 1, rd, rs1, rs2);
export const mulhu = (rd: number, rs1: number, rs2: number): number => rType(0x33, 3, 1, rd, rs1, rs2);
export const div = (rd: number, rs1: number, rs2: number): number => rType(0x33, 4, 1, rd, rs1, rs2);
export const divu = (rd: number, rs1: number, rs2: number): number => rType(0x33, 5, 1, rd, rs1, rs2);
export const rem = (rd: number, rs1: number, rs2: number): number => rType(0x33, 6, 1, rd, rs1, rs2);
export const remu = (rd: number, rs1: number, rs2: number): number => rType(0x33, 7, 1, rd, rs1, rs2);

export const lb = (rd: number, rs1: number, imm: number): number => iType(0x03, 0, rd, rs1, imm);
export const lh = (rd: number, rs1: number, imm: number): number => iType(0x03, 1, rd, rs1, imm);
export const lw = (rd: number, rs1: number, imm: number): number => iType(0x03, 2, rd, rs1, imm);
export const lbu = (rd: number, rs1: number, imm: number): number => iType(0x03, 4, rd, rs1, imm);
export const lhu = (rd: number, rs1: number, imm: number): number => iType(0x03, 5, rd, rs1, imm);
export const sb = (rs2: number, rs1: number, imm: number): number => sType(0, rs1, rs2, imm);
export const sh = (rs2: number, rs1: number, imm: number): number => sType(1, rs1, rs2, imm);
export const sw = (rs2: number, rs1: number, imm: number): number => sType(2, rs1, rs2, imm);

export const beq = (rs1: number, rs2: number, imm: number): number => bType(0, rs1, rs2, imm);
export const bne = (rs1: number, rs2: number, imm: number): number => bType(1, rs1, rs2, imm);
export const blt = (rs1: number, rs2: number, imm: number): number => bType(4, rs1, rs2, imm);
export const bgeu = (rs1: number, rs2: number, imm: number): number => bType(7, rs1, rs2, imm);

/** A extension: funct5 LR=2, SC=3, AMOSWAP=1, AMOADD=0, XOR=4, AND=12, OR=8, MIN=16, MAX=20, MINU=24, MAXU=28. */
export const amo = (f5: number, rd: number, rs1: number, rs2: number): number => rType(0x2f, 2, f5 << 2, rd, rs1, rs2);

/** Zicsr: f3 1 csrrw, 2 csrrs, 3 csrrc, 5 csrrwi, 6 csrrsi, 7 csrrci (rs1 field = uimm for the i forms). */
export const csr = (f3: number, rd: number, num: number, rs1: number): number =>
  ((num << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | 0x73) >>> 0;
export const csrr = (rd: number, num: number): number => csr(2, rd, num, 0);
export const csrw = (num: number, rs1: number): number => csr(1, 0, num, rs1);

export const ECALL = 0x00000073;
export const EBREAK = 0x00100073;
export const MRET = 0x30200073;
export const WFI = 0x10500073;
export const FENCE = 0x0ff0000f;
export const FENCE_I = 0x0000100f;
export const NOP = 0x00000013;

/** li rd, value as lui+addi (always two instructions, so program layouts stay predictable). */
export function li(rd: number, value: number): number[] {
  const lo = (value << 20) >> 20;
  const hi = ((value - lo) >>> 12) & 0xfffff;
  return [lui(rd, hi), addi(rd, rd, lo)];
}
