/**
 * RV32IMAC (+ Zicsr, Zifencei, machine-mode mret/wfi) disassembler for display. The text is what
 * GNU objdump 2.40 prints by default (`objdump -d`, aliases on) with the tab after the mnemonic
 * made a space and without objdump's `<symbol>` and `# address` annotations:
 *
 *   - ABI register names (s0, not fp); immediates and offsets in decimal; lui/auipc immediates and
 *     shift amounts in hex (`lui a0,0x80001`, `sll a5,a5,0x2`); branch and jump targets as bare
 *     absolute hex (`j 80000120`).
 *   - objdump's aliases (unprivileged spec ch. 25, Tables 25.2-25.3: li, mv, nop, not, neg, seqz,
 *     snez, sltz, sgtz, beqz..bgtz, j, jal, jr, ret, csrr/csrw/csrs/csrc, rdcycle..., zext.b), and
 *     binutils 2.40's habit of naming an immediate ALU op by its register form (`add sp,sp,-16`
 *     for addi, `and`, `or`, `xor`, `sll`, `srl`, `sra`, `csrw mstatus,8` for csrrwi...).
 *   - A compressed instruction is printed as the instruction it expands to (`c.addi sp,-16` shows
 *     as `add sp,sp,-16`); the RVC HINT encodings (spec §16.7) keep objdump's `c.` spellings
 *     (`c.nop 3`, `c.li zero,5`, `c.slli64 a0`).
 *
 * Anything outside the ISA is `unknown 0x…` (8 hex digits for a 32-bit word, 4 for a halfword),
 * where objdump prints `.4byte`/`.2byte`. That includes F/D, the RV64-only encodings, supervisor
 * and debug instructions (sret, sfence.vma, dret), and two reserved spaces objdump 2.40 decodes
 * anyway but the hart (and the spec) reject: RV32 shifts with shamt[5] = 1 (§2.4.1, §16.5 "NSE")
 * and c.addi16sp with a zero immediate (§16.5 "RES"). `unimp` is objdump's name for the two
 * patterns the assembler emits as its guaranteed-illegal instruction: the all-zero halfword and
 * 0xc0001073 (csrrw zero,cycle,zero, a write to a read-only CSR).
 *
 * Spec citations are to the unprivileged ISA manual, version 20191213, and the privileged manual.
 */

/** One instruction decoded for display. */
export interface Disassembly { text: string; length: 2 | 4; }

// ABI register names (unprivileged spec ch. 25, Table 25.1).
const REG = [
  'zero', 'ra', 'sp', 'gp', 'tp', 't0', 't1', 't2', 's0', 's1', 'a0', 'a1', 'a2', 'a3', 'a4', 'a5',
  'a6', 'a7', 's2', 's3', 's4', 's5', 's6', 's7', 's8', 's9', 's10', 's11', 't3', 't4', 't5', 't6',
];

/**
 * CSR names exactly as binutils 2.40 prints them (its DECLARE_CSR table, privileged spec 1.12):
 * runs of consecutive numbers, then the numbered families. Any other number prints in hex.
 */
const CSR_RUNS: readonly (readonly [number, string])[] = [
  [0x001, 'fflags frm fcsr'], [0x008, 'vstart vxsat vxrm'], [0x00f, 'vcsr'], [0x015, 'seed'],
  [0x100, 'sstatus'], [0x104, 'sie stvec scounteren'], [0x10a, 'senvcfg'],
  [0x10c, 'sstateen0 sstateen1 sstateen2 sstateen3'], [0x114, 'sieh'],
  [0x140, 'sscratch sepc scause stval sip'], [0x14d, 'stimecmp'], [0x150, 'siselect sireg'],
  [0x154, 'siph'], [0x15c, 'stopei stimecmph'], [0x180, 'satp'],
  [0x200, 'vsstatus'], [0x204, 'vsie vstvec'], [0x214, 'vsieh'],
  [0x240, 'vsscratch vsepc vscause vstval vsip'], [0x24d, 'vstimecmp'], [0x250, 'vsiselect vsireg'],
  [0x254, 'vsiph'], [0x25c, 'vstopei vstimecmph'], [0x280, 'vsatp'],
  [0x300, 'mstatus misa medeleg mideleg mie mtvec mcounteren'], [0x308, 'mvien mvip menvcfg'],
  [0x30c, 'mstateen0 mstateen1 mstateen2 mstateen3 mstatush'], [0x313, 'midelegh mieh'],
  [0x318, 'mvienh mviph menvcfgh'], [0x31c, 'mstateen0h mstateen1h mstateen2h mstateen3h mcountinhibit'],
  [0x340, 'mscratch mepc mcause mtval mip'], [0x34a, 'mtinst mtval2'], [0x350, 'miselect mireg'],
  [0x354, 'miph'], [0x35c, 'mtopei'], [0x5a8, 'scontext'],
  [0x600, 'hstatus'], [0x602, 'hedeleg hideleg hie htimedelta hcounteren hgeie hvien hvictl henvcfg'],
  [0x60c, 'hstateen0 hstateen1 hstateen2 hstateen3'], [0x613, 'hidelegh'], [0x615, 'htimedeltah'],
  [0x618, 'hvienh'], [0x61a, 'henvcfgh'], [0x61c, 'hstateen0h hstateen1h hstateen2h hstateen3h'],
  [0x643, 'htval hip hvip hviprio1 hviprio2'], [0x64a, 'htinst'], [0x655, 'hviph hviprio1h hviprio2h'],
  [0x680, 'hgatp'], [0x6a8, 'hcontext'], [0x747, 'mseccfg'], [0x757, 'mseccfgh'],
  [0x7a0, 'tselect tdata1 tdata2 tdata3 tinfo tcontrol'], [0x7a8, 'mcontext'], [0x7aa, 'mscontext'],
  [0x7b0, 'dcsr dpc dscratch0 dscratch1'],
  [0xb00, 'mcycle'], [0xb02, 'minstret'], [0xb80, 'mcycleh'], [0xb82, 'minstreth'],
  [0xc00, 'cycle time instret'], [0xc20, 'vl vtype vlenb'], [0xc80, 'cycleh timeh instreth'],
  [0xda0, 'scountovf'], [0xdb0, 'stopi'], [0xe12, 'hgeip'], [0xeb0, 'vstopi'],
  [0xf11, 'mvendorid marchid mimpid mhartid mconfigptr'], [0xfb0, 'mtopi'],
];

/** Numbered CSR families: [first number, name prefix, first index, last index, suffix]. */
const CSR_FAMILIES: readonly (readonly [number, string, number, number, string])[] = [
  [0x323, 'mhpmevent', 3, 31, ''], [0x723, 'mhpmevent', 3, 31, 'h'],
  [0x3a0, 'pmpcfg', 0, 15, ''], [0x3b0, 'pmpaddr', 0, 63, ''],
  [0xb03, 'mhpmcounter', 3, 31, ''], [0xb83, 'mhpmcounter', 3, 31, 'h'],
  [0xc03, 'hpmcounter', 3, 31, ''], [0xc83, 'hpmcounter', 3, 31, 'h'],
];

function buildCsrNames(): Map<number, string> {
  const names = new Map<number, string>();
  for (const [first, list] of CSR_RUNS) list.split(' ').forEach((n, i) => names.set(first + i, n));
  for (const [first, prefix, lo, hi, suffix] of CSR_FAMILIES) {
    for (let i = lo; i <= hi; i++) names.set(first + i - lo, `${prefix}${i}${suffix}`);
  }
  return names;
}

const CSR_NAMES = buildCsrNames();

/** `csrrs rd,csr,zero` on a user counter reads as rdcycle etc. (Zicsr counters, ch. 10, Table 25.3). */
const COUNTER_READS = new Map<number, string>([
  [0xc00, 'rdcycle'], [0xc01, 'rdtime'], [0xc02, 'rdinstret'],
  [0xc80, 'rdcycleh'], [0xc81, 'rdtimeh'], [0xc82, 'rdinstreth'],
]);

// ---------------------------------------------------------------------------------------------
// Formatting helpers.

function x(r: number): string {
  return REG[r & 31];
}
function hex(v: number): string {
  return `0x${(v >>> 0).toString(16)}`;
}
/** A pc-relative target, as objdump prints it: absolute, hex, no 0x, wrapped to 32 bits. */
function target(pc: number, offset: number): string {
  return ((pc + offset) >>> 0).toString(16);
}
function ins(mnemonic: string, ...operands: string[]): string {
  return operands.length === 0 ? mnemonic : `${mnemonic} ${operands.join(',')}`;
}
function mem(offset: number, base: number): string {
  return `${offset}(${x(base)})`;
}
function csrName(csr: number): string {
  return CSR_NAMES.get(csr) ?? hex(csr);
}
function unknown32(w: number): string {
  return `unknown 0x${(w >>> 0).toString(16).padStart(8, '0')}`;
}
function unknown16(c: number): string {
  return `unknown 0x${c.toString(16).padStart(4, '0')}`;
}

// ---------------------------------------------------------------------------------------------
// 32-bit instructions (RV32I base, ch. 2, formats in Figure 2.3; opcode map Table 24.1).

/** I-type immediate: imm[11:0] = inst[31:20]. */
function immI(w: number): number {
  return w >> 20;
}
/** S-type immediate: imm[11:5] = inst[31:25], imm[4:0] = inst[11:7]. */
function immS(w: number): number {
  return ((w >> 25) << 5) | ((w >>> 7) & 31);
}
/** B-type immediate: imm[12|10:5] = inst[31:25], imm[4:1|11] = inst[11:7]. */
function immB(w: number): number {
  return ((w >> 31) << 12) | (((w >>> 7) & 1) << 11) | (((w >>> 25) & 0x3f) << 5) | (((w >>> 8) & 15) << 1);
}
/** J-type immediate: imm[20|10:1|11|19:12] = inst[31:12]. */
function immJ(w: number): number {
  return ((w >> 31) << 20) | (w & 0xff000) | (((w >>> 20) & 1) << 11) | (((w >>> 21) & 0x3ff) << 1);
}

/** JAL (opcode 1101111, §2.5): `j` for rd = zero, `jal target` for rd = ra. */
function jal(rd: number, offset: number, pc: number): string {
  const t = target(pc, offset);
  if (rd === 0) return ins('j', t);
  return rd === 1 ? ins('jal', t) : ins('jal', x(rd), t);
}

/** JALR (opcode 1100111, funct3 000, §2.5): ret, jr, jalr with the offset left out when 0. */
function jalr(w: number): string {
  const rd = (w >>> 7) & 31, rs1 = (w >>> 15) & 31, imm = immI(w);
  const addr = imm === 0 ? x(rs1) : mem(imm, rs1);
  if (rd === 0) return rs1 === 1 && imm === 0 ? 'ret' : ins('jr', addr);
  return rd === 1 ? ins('jalr', addr) : ins('jalr', x(rd), addr);
}

/** BRANCH (opcode 1100011, §2.5): beq bne blt bge bltu bgeu and the compare-with-zero aliases. */
function branch(w: number, pc: number): string | null {
  const rs1 = (w >>> 15) & 31, rs2 = (w >>> 20) & 31, t = target(pc, immB(w));
  switch ((w >>> 12) & 7) {
    case 0: return rs2 === 0 ? ins('beqz', x(rs1), t) : ins('beq', x(rs1), x(rs2), t);
    case 1: return rs2 === 0 ? ins('bnez', x(rs1), t) : ins('bne', x(rs1), x(rs2), t);
    case 4:
      if (rs2 === 0) return ins('bltz', x(rs1), t);
      return rs1 === 0 ? ins('bgtz', x(rs2), t) : ins('blt', x(rs1), x(rs2), t);
    case 5:
      if (rs1 === 0) return ins('blez', x(rs2), t);
      return rs2 === 0 ? ins('bgez', x(rs1), t) : ins('bge', x(rs1), x(rs2), t);
    case 6: return ins('bltu', x(rs1), x(rs2), t);
    case 7: return ins('bgeu', x(rs1), x(rs2), t);
    default: return null;
  }
}

const LOADS = ['lb', 'lh', 'lw', null, 'lbu', 'lhu', null, null];
const STORES = ['sb', 'sh', 'sw', null, null, null, null, null];

/** LOAD (opcode 0000011) and STORE (opcode 0100011), §2.6: `lw rd,offset(rs1)`. */
function loadStore(w: number): string | null {
  const f3 = (w >>> 12) & 7, rs1 = (w >>> 15) & 31;
  if ((w & 0x7f) === 0x03) {
    const name = LOADS[f3];
    return name === null ? null : ins(name, x((w >>> 7) & 31), mem(immI(w), rs1));
  }
  const name = STORES[f3];
  return name === null ? null : ins(name, x((w >>> 20) & 31), mem(immS(w), rs1));
}

/** OP-IMM (opcode 0010011, §2.4.1): addi slti sltiu xori ori andi slli srli srai. */
function opImm(w: number): string | null {
  const rd = (w >>> 7) & 31, rs1 = (w >>> 15) & 31, imm = immI(w);
  const d = x(rd), s = x(rs1);
  switch ((w >>> 12) & 7) {
    case 0: // addi
      if (rs1 === 0) return rd === 0 && imm === 0 ? 'nop' : ins('li', d, String(imm));
      return imm === 0 ? ins('mv', d, s) : ins('add', d, s, String(imm));
    case 1: return (w >>> 25) === 0 ? ins('sll', d, s, hex(imm & 31)) : null; // slli: funct7 0000000
    case 2: return ins('slti', d, s, String(imm));
    case 3: return imm === 1 ? ins('seqz', d, s) : ins('sltiu', d, s, String(imm));
    case 4: return imm === -1 ? ins('not', d, s) : ins('xor', d, s, String(imm));
    case 5: { // srli: funct7 0000000, srai: funct7 0100000
      const f7 = w >>> 25;
      if (f7 !== 0 && f7 !== 0x20) return null;
      return ins(f7 === 0 ? 'srl' : 'sra', d, s, hex(imm & 31));
    }
    case 6: return ins('or', d, s, String(imm));
    default: return imm === 255 ? ins('zext.b', d, s) : ins('and', d, s, String(imm));
  }
}

const OPS = ['add', 'sll', 'slt', 'sltu', 'xor', 'srl', 'or', 'and'];
const MULDIV = ['mul', 'mulh', 'mulhsu', 'mulhu', 'div', 'divu', 'rem', 'remu'];

/** OP (opcode 0110011): RV32I register ALU ops (§2.4.2) and the M extension (funct7 0000001, ch. 7). */
function op(w: number): string | null {
  const rd = (w >>> 7) & 31, rs1 = (w >>> 15) & 31, rs2 = (w >>> 20) & 31;
  const f3 = (w >>> 12) & 7, f7 = w >>> 25;
  const d = x(rd), s1 = x(rs1), s2 = x(rs2);
  if (f7 === 1) return ins(MULDIV[f3], d, s1, s2);
  if (f7 === 0x20) { // sub, sra
    if (f3 === 0) return rs1 === 0 ? ins('neg', d, s2) : ins('sub', d, s1, s2);
    return f3 === 5 ? ins('sra', d, s1, s2) : null;
  }
  if (f7 !== 0) return null;
  if (f3 === 2) { // slt
    if (rs2 === 0) return ins('sltz', d, s1);
    if (rs1 === 0) return ins('sgtz', d, s2);
  }
  if (f3 === 3 && rs1 === 0) return ins('snez', d, s2); // sltu rd,zero,rs2
  return ins(OPS[f3], d, s1, s2);
}

/** A FENCE predecessor/successor set, bits i o r w (§2.7); objdump calls the empty set "unknown". */
function fenceSet(bits: number): string {
  if (bits === 0) return 'unknown';
  return ['i', 'o', 'r', 'w'].filter((_, i) => bits & (8 >> i)).join('');
}

/**
 * MISC-MEM (opcode 0001111): FENCE and FENCE.TSO (funct3 000, §2.7) with rd = rs1 = 0, and
 * FENCE.I (funct3 001, Zifencei ch. 3) with every other field zero.
 */
function miscMem(w: number): string | null {
  const f3 = (w >>> 12) & 7;
  if (f3 === 1) return w === 0x0000100f ? 'fence.i' : null;
  if (f3 !== 0 || (w & 0x000f8f80) !== 0) return null;
  const fm = w >>> 28, pred = (w >>> 24) & 15, succ = (w >>> 20) & 15;
  if (fm === 8) return pred === 3 && succ === 3 ? 'fence.tso' : null;
  if (fm !== 0) return null;
  return pred === 15 && succ === 15 ? 'fence' : ins('fence', fenceSet(pred), fenceSet(succ));
}

/** SYSTEM funct3 000 (§2.8; privileged spec §3.3): ecall, ebreak, mret, wfi. */
const SYSTEM_EXACT = new Map<number, string>([
  [0x00000073, 'ecall'], [0x00100073, 'ebreak'], [0x30200073, 'mret'], [0x10500073, 'wfi'],
]);

/**
 * SYSTEM funct3 ≠ 000 (opcode 1110011): the Zicsr instructions (ch. 9). funct3 001/010/011 take
 * rs1, 101/110/111 a 5-bit zero-extended immediate in the rs1 field; both print under the
 * register-form name (csrw, csrrs, ...) as binutils 2.40 does.
 */
function csrOp(w: number): string | null {
  const f3 = (w >>> 12) & 7, rd = (w >>> 7) & 31, rs1 = (w >>> 15) & 31, csr = w >>> 20;
  if (f3 === 0 || f3 === 4) return null;
  if (w === 0xc0001073) return 'unimp'; // csrrw zero,cycle,zero: the assembler's `unimp`
  const src = f3 & 4 ? String(rs1) : x(rs1);
  const c = csrName(csr);
  if (f3 === 2 && rs1 === 0) { // csrrs rd,csr,zero: a plain read
    const counter = COUNTER_READS.get(csr);
    return counter === undefined ? ins('csrr', x(rd), c) : ins(counter, x(rd));
  }
  const name = ['', 'w', 's', 'c'][f3 & 3]; // read-and-write, -set, -clear
  return rd === 0 ? ins(`csr${name}`, c, src) : ins(`csrr${name}`, x(rd), c, src);
}

/** AMO funct5 (inst[31:27]) names, A extension ch. 8, Table 24.2 (RV32A). */
const AMOS = new Map<number, string>([
  [0x00, 'amoadd'], [0x01, 'amoswap'], [0x02, 'lr'], [0x03, 'sc'], [0x04, 'amoxor'],
  [0x08, 'amoor'], [0x0c, 'amoand'], [0x10, 'amomin'], [0x14, 'amomax'], [0x18, 'amominu'], [0x1c, 'amomaxu'],
]);

/** AMO (opcode 0101111, funct3 010 = .w, ch. 8): lr.w rd,(rs1); sc.w/amo*.w rd,rs2,(rs1); aq rl bits 26, 25. */
function amo(w: number): string | null {
  const name = AMOS.get(w >>> 27);
  const rs2 = (w >>> 20) & 31;
  if (((w >>> 12) & 7) !== 2 || name === undefined || (name === 'lr' && rs2 !== 0)) return null;
  const order = ['', '.rl', '.aq', '.aqrl'][(w >>> 25) & 3];
  const rd = x((w >>> 7) & 31), addr = `(${x((w >>> 15) & 31)})`;
  return name === 'lr' ? ins(`lr.w${order}`, rd, addr) : ins(`${name}.w${order}`, rd, x(rs2), addr);
}

/** A 32-bit instruction (inst[1:0] = 11), dispatched on the major opcode inst[6:0]; null when illegal. */
function decode32(w: number, pc: number): string | null {
  const rd = (w >>> 7) & 31;
  switch (w & 0x7f) {
    case 0x37: return ins('lui', x(rd), hex(w >>> 12)); // LUI, U-type, §2.4.1
    case 0x17: return ins('auipc', x(rd), hex(w >>> 12)); // AUIPC, U-type, §2.4.1
    case 0x6f: return jal(rd, immJ(w), pc); // JAL, J-type
    case 0x67: return ((w >>> 12) & 7) === 0 ? jalr(w) : null; // JALR, I-type
    case 0x63: return branch(w, pc); // BRANCH, B-type
    case 0x03: case 0x23: return loadStore(w); // LOAD (I-type), STORE (S-type)
    case 0x13: return opImm(w); // OP-IMM, I-type
    case 0x33: return op(w); // OP, R-type
    case 0x0f: return miscMem(w); // MISC-MEM
    case 0x73: return ((w >>> 12) & 7) === 0 ? (SYSTEM_EXACT.get(w) ?? null) : csrOp(w); // SYSTEM
    case 0x2f: return amo(w); // AMO, R-type
    default: return null;
  }
}

// ---------------------------------------------------------------------------------------------
// 16-bit instructions (C extension, ch. 16: formats Table 16.1, registers rd'/rs1'/rs2' =
// x8-x15 per Table 16.2, instruction listings §16.8, Tables 16.5-16.7 for quadrants 0-2).

/** Bit `from` of c moved to bit `to`. */
function bit(c: number, from: number, to: number): number {
  return ((c >> from) & 1) << to;
}
function sext(v: number, bits: number): number {
  const s = 32 - bits;
  return (v << s) >> s;
}
/** A 3-bit compressed register field at `shift`: x8-x15. */
function creg(c: number, shift: number): string {
  return x(8 + ((c >> shift) & 7));
}
/** CI-format 6-bit immediate: imm[5] = inst[12], imm[4:0] = inst[6:2], sign-extended. */
function ciImm(c: number): number {
  return sext(bit(c, 12, 5) | ((c >> 2) & 31), 6);
}
/** CI/CB shift amount: shamt[5] = inst[12], shamt[4:0] = inst[6:2]. */
function cShamt(c: number): number {
  return bit(c, 12, 5) | ((c >> 2) & 31);
}
/** CJ-format jump offset (c.j, c.jal): offset[11|4|9:8|10|6|7|3:1|5] = inst[12:2]. */
function cjOffset(c: number): number {
  return sext(bit(c, 12, 11) | bit(c, 11, 4) | bit(c, 10, 9) | bit(c, 9, 8) | bit(c, 8, 10) |
    bit(c, 7, 6) | bit(c, 6, 7) | bit(c, 5, 3) | bit(c, 4, 2) | bit(c, 3, 1) | bit(c, 2, 5), 12);
}
/** CB-format branch offset (c.beqz, c.bnez): offset[8|4:3] = inst[12:10], [7:6|2:1|5] = inst[6:2]. */
function cbOffset(c: number): number {
  return sext(bit(c, 12, 8) | bit(c, 11, 4) | bit(c, 10, 3) | bit(c, 6, 7) | bit(c, 5, 6) |
    bit(c, 4, 2) | bit(c, 3, 1) | bit(c, 2, 5), 9);
}

/** Quadrant 0 (inst[1:0] = 00, Table 16.5): c.addi4spn, c.lw, c.sw; the FP forms are not in RV32IMAC. */
function quadrant0(c: number): string | null {
  const rdp = creg(c, 2), rs1p = 8 + ((c >> 7) & 7);
  // CL/CS word offset: offset[5:3] = inst[12:10], offset[2] = inst[6], offset[6] = inst[5].
  const wOff = (((c >> 10) & 7) << 3) | bit(c, 6, 2) | bit(c, 5, 6);
  switch ((c >> 13) & 7) {
    case 0: { // c.addi4spn (CIW): nzuimm[5:4|9:6|2|3] = inst[12:5]; all-zero is the illegal `unimp`
      if (c === 0) return 'unimp';
      const imm = (((c >> 11) & 3) << 4) | (((c >> 7) & 15) << 6) | bit(c, 6, 2) | bit(c, 5, 3);
      return imm === 0 ? null : ins('add', rdp, 'sp', String(imm));
    }
    case 2: return ins('lw', rdp, mem(wOff, rs1p)); // c.lw (CL): rd' at inst[4:2]
    case 6: return ins('sw', rdp, mem(wOff, rs1p)); // c.sw (CS): rs2' at inst[4:2]
    default: return null; // c.fld, c.flw, reserved, c.fsd, c.fsw
  }
}

/** c.addi (CI, quadrant 1 funct3 000): `nop` for rd = 0 with imm 0, HINT `c.nop imm` otherwise. */
function cAddi(c: number): string {
  const rd = (c >> 7) & 31, imm = ciImm(c);
  if (rd === 0) return imm === 0 ? 'nop' : ins('c.nop', String(imm));
  return ins('add', x(rd), x(rd), String(imm));
}

/** Quadrant 1 funct3 011: c.addi16sp (rd = sp) and c.lui (CI); a zero immediate is reserved. */
function cLuiAddi16sp(c: number): string | null {
  const rd = (c >> 7) & 31;
  if (rd === 2) { // c.addi16sp: nzimm[9] = inst[12], nzimm[4|6|8:7|5] = inst[6:2]
    const imm = sext(bit(c, 12, 9) | bit(c, 6, 4) | bit(c, 5, 6) | bit(c, 4, 8) | bit(c, 3, 7) | bit(c, 2, 5), 10);
    return imm === 0 ? null : ins('add', 'sp', 'sp', String(imm));
  }
  const imm = ciImm(c); // c.lui: nzimm[17:12]
  if (imm === 0) return null;
  return ins(rd === 0 ? 'c.lui' : 'lui', x(rd), hex(imm & 0xfffff));
}

/** Quadrant 1 funct3 100 (CB/CA): c.srli, c.srai, c.andi, c.sub, c.xor, c.or, c.and. */
function cArith(c: number): string | null {
  const rd = creg(c, 7);
  const f2 = (c >> 10) & 3;
  if (f2 < 2) { // c.srli / c.srai: shamt[5] = 1 is RV32 NSE; shamt 0 is the HINT c.srli64/c.srai64
    const shamt = cShamt(c);
    if (shamt & 32) return null;
    if (shamt === 0) return ins(f2 === 0 ? 'c.srli64' : 'c.srai64', rd);
    return ins(f2 === 0 ? 'srl' : 'sra', rd, rd, hex(shamt));
  }
  if (f2 === 2) return ins('and', rd, rd, String(ciImm(c))); // c.andi
  if (c & 0x1000) return null; // c.subw, c.addw (RV64) and reserved
  return ins(['sub', 'xor', 'or', 'and'][(c >> 5) & 3], rd, rd, creg(c, 2));
}

/** Quadrant 1 (inst[1:0] = 01, Table 16.6). */
function quadrant1(c: number, pc: number): string | null {
  const rd = (c >> 7) & 31;
  switch ((c >> 13) & 7) {
    case 0: return cAddi(c);
    case 1: return ins('jal', target(pc, cjOffset(c))); // c.jal (RV32 only)
    case 2: return ins(rd === 0 ? 'c.li' : 'li', x(rd), String(ciImm(c))); // c.li; rd = 0 is a HINT
    case 3: return cLuiAddi16sp(c);
    case 4: return cArith(c);
    case 5: return ins('j', target(pc, cjOffset(c))); // c.j
    case 6: return ins('beqz', creg(c, 7), target(pc, cbOffset(c))); // c.beqz
    default: return ins('bnez', creg(c, 7), target(pc, cbOffset(c))); // c.bnez
  }
}

/** c.slli (CI, quadrant 2 funct3 000): shamt[5] = 1 is RV32 NSE; rd = 0 or shamt 0 are HINTs. */
function cSlli(c: number): string | null {
  const rd = (c >> 7) & 31, shamt = cShamt(c);
  if (shamt & 32) return null;
  if (shamt === 0) return ins('c.slli64', x(rd));
  return rd === 0 ? ins('c.slli', 'zero', hex(shamt)) : ins('sll', x(rd), x(rd), hex(shamt));
}

/** Quadrant 2 funct3 100 (CR): c.jr, c.mv, c.ebreak, c.jalr, c.add; rd = 0 forms are HINTs. */
function cJrMvAdd(c: number): string | null {
  const rd = (c >> 7) & 31, rs2 = (c >> 2) & 31;
  if ((c & 0x1000) === 0) {
    if (rs2 !== 0) return rd === 0 ? ins('c.mv', 'zero', x(rs2)) : ins('mv', x(rd), x(rs2));
    if (rd === 0) return null; // c.jr with rs1 = 0 is reserved
    return rd === 1 ? 'ret' : ins('jr', x(rd));
  }
  if (rs2 !== 0) return rd === 0 ? ins('c.add', 'zero', x(rs2)) : ins('add', x(rd), x(rd), x(rs2));
  return rd === 0 ? 'ebreak' : ins('jalr', x(rd));
}

/** Quadrant 2 (inst[1:0] = 10, Table 16.7): c.slli, c.lwsp, c.jr/c.mv/c.ebreak/c.jalr/c.add, c.swsp. */
function quadrant2(c: number): string | null {
  const rd = (c >> 7) & 31;
  switch ((c >> 13) & 7) {
    case 0: return cSlli(c);
    case 2: { // c.lwsp (CI): offset[5] = inst[12], offset[4:2] = inst[6:4], offset[7:6] = inst[3:2]; rd = 0 reserved
      const off = bit(c, 12, 5) | (((c >> 4) & 7) << 2) | (((c >> 2) & 3) << 6);
      return rd === 0 ? null : ins('lw', x(rd), mem(off, 2));
    }
    case 4: return cJrMvAdd(c);
    case 6: { // c.swsp (CSS): offset[5:2] = inst[12:9], offset[7:6] = inst[8:7]
      const off = (((c >> 9) & 15) << 2) | (((c >> 7) & 3) << 6);
      return ins('sw', x((c >> 2) & 31), mem(off, 2));
    }
    default: return null; // c.fldsp, c.flwsp, c.fsdsp, c.fswsp
  }
}

/** A compressed halfword (inst[1:0] ≠ 11); null when illegal. */
function decode16(c: number, pc: number): string | null {
  switch (c & 3) {
    case 0: return quadrant0(c);
    case 1: return quadrant1(c, pc);
    default: return quadrant2(c);
  }
}

// ---------------------------------------------------------------------------------------------

/**
 * Decodes the instruction whose low 16 bits are `lo` (and high 16 bits `hi`, read only when
 * lo&3 === 3) at address `pc`. Never throws: an encoding that is not RV32IMAC+Zicsr+Zifencei gives
 * text like "unknown 0x0000f00b". Encodings longer than 32 bits (inst[4:0] = 11111, §1.5) are
 * outside the ISA and are shown as one unknown 32-bit word.
 */
export function disassemble(lo: number, hi: number, pc: number): Disassembly {
  const c = lo & 0xffff;
  if ((c & 3) !== 3) return { text: decode16(c, pc) ?? unknown16(c), length: 2 };
  const w = (c | ((hi & 0xffff) << 16)) >>> 0;
  return { text: decode32(w, pc) ?? unknown32(w), length: 4 };
}

/** Convenience: decode from a little-endian byte view at `offset` (address pc). Bytes past the end read as 0. */
export function disassembleAt(bytes: Uint8Array, offset: number, pc: number): Disassembly {
  const byte = (i: number): number => (i >= 0 && i < bytes.length ? bytes[i] : 0);
  const lo = byte(offset) | (byte(offset + 1) << 8);
  const hi = (lo & 3) === 3 ? byte(offset + 2) | (byte(offset + 3) << 8) : 0;
  return disassemble(lo, hi, pc);
}
