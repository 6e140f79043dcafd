/**
 * RV32C: expansion of each 16-bit compressed encoding to the 32-bit instruction it stands for
 * (unprivileged spec ch. 16 "C" Standard Extension, Tables 16.4-16.6). The hart looks every
 * compressed halfword up in one 65536-entry table, so execution has a single path; a 0 entry means
 * illegal (no 32-bit instruction is 0: their low two bits are 11).
 *
 * There is no F or D extension, so c.flw/c.fsw/c.fld/c.fsd and the SP forms are illegal; so are the
 * RV64-only encodings (c.subw/c.addw) and shift amounts with bit 5 set (RV32: "NSE").
 */

// 32-bit encoders for the instructions compressed forms expand to (spec ch. 2 formats).
function encI(op: number, f3: number, rd: number, rs1: number, imm: number): number {
  return (((imm & 0xfff) << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | op) | 0;
}
function encS(op: number, f3: number, rs1: number, rs2: number, imm: number): number {
  return ((((imm >> 5) & 0x7f) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | ((imm & 31) << 7) | op) | 0;
}
function encR(op: number, f3: number, f7: number, rd: number, rs1: number, rs2: number): number {
  return ((f7 << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | op) | 0;
}
function encB(f3: number, rs1: number, rs2: number, imm: number): number {
  return (
    (((imm >> 12) & 1) << 31) | (((imm >> 5) & 0x3f) << 25) | (rs2 << 20) | (rs1 << 15) |
    (f3 << 12) | (((imm >> 1) & 0xf) << 8) | (((imm >> 11) & 1) << 7) | 0x63
  ) | 0;
}
function encJ(rd: number, imm: number): number {
  return (
    (((imm >> 20) & 1) << 31) | (((imm >> 1) & 0x3ff) << 21) | (((imm >> 11) & 1) << 20) |
    (((imm >> 12) & 0xff) << 12) | (rd << 7) | 0x6f
  ) | 0;
}

const OP_LOAD = 0x03, OP_IMM = 0x13, OP_STORE = 0x23, OP_REG = 0x33, OP_LUI = 0x37, OP_JALR = 0x67;
const EBREAK = 0x00100073;

/** Bit `from` of x moved to bit `to`. */
function bit(x: number, from: number, to: number): number {
  return ((x >> from) & 1) << to;
}
/** Sign-extend the low `bits` bits. */
function sext(x: number, bits: number): number {
  const s = 32 - bits;
  return (x << s) >> s;
}

/** CJ-format jump offset (c.j, c.jal): offset[11|4|9:8|10|6|7|3:1|5] = inst[12:2]. */
function cjOffset(c: number): number {
  const imm = bit(c, 12, 11) | bit(c, 11, 4) | bit(c, 10, 9) | bit(c, 9, 8) | bit(c, 8, 10) |
    bit(c, 7, 6) | bit(c, 6, 7) | bit(c, 5, 3) | bit(c, 4, 2) | bit(c, 3, 1) | bit(c, 2, 5);
  return sext(imm, 12);
}

/** CB-format branch offset (c.beqz, c.bnez): offset[8|4:3] = inst[12:10], [7:6|2:1|5] = inst[6:2]. */
function cbOffset(c: number): number {
  const imm = bit(c, 12, 8) | bit(c, 11, 4) | bit(c, 10, 3) | bit(c, 6, 7) | bit(c, 5, 6) |
    bit(c, 4, 2) | bit(c, 3, 1) | bit(c, 2, 5);
  return sext(imm, 9);
}

/** 6-bit immediate imm[5] = inst[12], imm[4:0] = inst[6:2], sign-extended (CI format). */
function ciImm(c: number): number {
  return sext(bit(c, 12, 5) | ((c >> 2) & 31), 6);
}

function quadrant0(c: number): number {
  const rdp = 8 + ((c >> 2) & 7); // rd'/rs2'
  const rs1p = 8 + ((c >> 7) & 7);
  // c.lw/c.sw offset[5:3] = inst[12:10], offset[2] = inst[6], offset[6] = inst[5].
  const wOff = (((c >> 10) & 7) << 3) | bit(c, 6, 2) | bit(c, 5, 6);
  switch ((c >> 13) & 7) {
    case 0: { // c.addi4spn: nzuimm[5:4|9:6|2|3] = inst[12:5]
      const imm = (((c >> 11) & 3) << 4) | (((c >> 7) & 15) << 6) | bit(c, 6, 2) | bit(c, 5, 3);
      return imm === 0 ? 0 : encI(OP_IMM, 0, rdp, 2, imm);
    }
    case 2: return encI(OP_LOAD, 2, rdp, rs1p, wOff); // c.lw
    case 6: return encS(OP_STORE, 2, rs1p, rdp, wOff); // c.sw
    default: return 0; // c.fld, c.flw, reserved, c.fsd, c.fsw
  }
}

function quadrant1(c: number): number {
  const rd = (c >> 7) & 31;
  const rdp = 8 + ((c >> 7) & 7);
  const rs2p = 8 + ((c >> 2) & 7);
  switch ((c >> 13) & 7) {
    case 0: return encI(OP_IMM, 0, rd, rd, ciImm(c)); // c.addi (c.nop when rd = 0)
    case 1: return encJ(1, cjOffset(c)); // c.jal (RV32 only)
    case 2: return encI(OP_IMM, 0, rd, 0, ciImm(c)); // c.li
    case 3: {
      if (rd === 2) { // c.addi16sp: nzimm[9] = inst[12], nzimm[4|6|8:7|5] = inst[6:2]
        const imm = sext(bit(c, 12, 9) | bit(c, 6, 4) | bit(c, 5, 6) | bit(c, 4, 8) | bit(c, 3, 7) | bit(c, 2, 5), 10);
        return imm === 0 ? 0 : encI(OP_IMM, 0, 2, 2, imm);
      }
      const imm = ciImm(c); // c.lui: nzimm[17:12]
      return imm === 0 ? 0 : (((imm << 12) | (rd << 7) | OP_LUI) | 0);
    }
    case 4: return quadrant1Alu(c, rdp, rs2p);
    case 5: return encJ(0, cjOffset(c)); // c.j
    case 6: return encB(0, rdp, 0, cbOffset(c)); // c.beqz
    default: return encB(1, rdp, 0, cbOffset(c)); // c.bnez
  }
}

function quadrant1Alu(c: number, rdp: number, rs2p: number): number {
  const shamt = (c >> 2) & 31;
  switch ((c >> 10) & 3) {
    case 0: return c & 0x1000 ? 0 : encI(OP_IMM, 5, rdp, rdp, shamt); // c.srli
    case 1: return c & 0x1000 ? 0 : encI(OP_IMM, 5, rdp, rdp, 0x400 | shamt); // c.srai
    case 2: return encI(OP_IMM, 7, rdp, rdp, ciImm(c)); // c.andi
    default: {
      if (c & 0x1000) return 0; // c.subw/c.addw: RV64 only
      switch ((c >> 5) & 3) {
        case 0: return encR(OP_REG, 0, 0x20, rdp, rdp, rs2p); // c.sub
        case 1: return encR(OP_REG, 4, 0, rdp, rdp, rs2p); // c.xor
        case 2: return encR(OP_REG, 6, 0, rdp, rdp, rs2p); // c.or
        default: return encR(OP_REG, 7, 0, rdp, rdp, rs2p); // c.and
      }
    }
  }
}

function quadrant2(c: number): number {
  const rd = (c >> 7) & 31;
  const rs2 = (c >> 2) & 31;
  switch ((c >> 13) & 7) {
    case 0: return c & 0x1000 ? 0 : encI(OP_IMM, 1, rd, rd, rs2); // c.slli
    case 2: { // c.lwsp: offset[5] = inst[12], offset[4:2] = inst[6:4], offset[7:6] = inst[3:2]
      if (rd === 0) return 0;
      const off = bit(c, 12, 5) | (((c >> 4) & 7) << 2) | (((c >> 2) & 3) << 6);
      return encI(OP_LOAD, 2, rd, 2, off);
    }
    case 4: {
      if ((c & 0x1000) === 0) {
        if (rs2 === 0) return rd === 0 ? 0 : encI(OP_JALR, 0, 0, rd, 0); // c.jr
        return encR(OP_REG, 0, 0, rd, 0, rs2); // c.mv
      }
      if (rs2 === 0) return rd === 0 ? EBREAK : encI(OP_JALR, 0, 1, rd, 0); // c.ebreak, c.jalr
      return encR(OP_REG, 0, 0, rd, rd, rs2); // c.add
    }
    case 6: { // c.swsp: offset[5:2] = inst[12:9], offset[7:6] = inst[8:7]
      const off = (((c >> 9) & 15) << 2) | (((c >> 7) & 3) << 6);
      return encS(OP_STORE, 2, 2, rs2, off);
    }
    default: return 0; // c.fldsp, c.flwsp, c.fsdsp, c.fswsp
  }
}

/** The 32-bit instruction a compressed halfword expands to, or 0 when it is illegal. */
export function expandCompressed(c: number): number {
  switch (c & 3) {
    case 0: return quadrant0(c);
    case 1: return quadrant1(c);
    case 2: return quadrant2(c);
    default: return 0; // not a compressed encoding
  }
}

let table: Int32Array | null = null;

/** The 65536-entry expansion table, built once (about a millisecond) on first use. */
export function rvcTable(): Int32Array {
  if (table === null) {
    const t = new Int32Array(0x10000);
    for (let c = 0; c < 0x10000; c++) t[c] = expandCompressed(c);
    table = t;
  }
  return table;
}
