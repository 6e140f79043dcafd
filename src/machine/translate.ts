/**
 * Block translator (issue 13): a hot straight-line run of RV32IMC instructions becomes one JS
 * function built with `new Function`, keeping the exact instruction count.
 *
 * What goes into a block: integer ALU (OP, OP-IMM, LUI, AUIPC, M extension) and RAM loads/stores.
 * A block ends with (and includes) its first branch or jump; it ends before anything else — CSR
 * and SYSTEM instructions, FENCE/FENCE.I, atomics, illegal encodings — which the interpreter then
 * runs, so no translated instruction can trap, touch a CSR or change interrupt state. A block never
 * leaves the 4 KiB page it starts in, and holds at most MAX_BLOCK instructions.
 *
 * Loads and stores take the RAM fast path only. A load or store whose address is misaligned, not
 * in RAM (MMIO, vacant), or — for stores — on a page holding decoded code (self-modifying code,
 * data next to code) or at the tohost word, *bails out*: the block returns the number of
 * instructions retired before it, with the pc of that instruction in `st[0]`, and the interpreter
 * executes it exactly as it would have. So a block retires either all its `n` instructions or a
 * prefix, and the hart's state is then exactly what the interpreter would have produced.
 *
 * Generated function: `(r, u8, u16, i32, dirty, cp, st, tohostOff, M) => retired`, where r is the
 * register file, the views are Memory's, cp the hart's code-page map, st[0] receives the next pc,
 * tohostOff the RAM offset of tohost (or -1), and M the MULH helpers.
 */
export const MAX_BLOCK = 64;
/** Entries into a pc (counted by the interpreter) before its block is translated. */
export const HOT_THRESHOLD = 50;

export type BlockFn = (
  r: Int32Array, u8: Uint8Array, u16: Uint16Array, i32: Int32Array, dirty: Uint8Array,
  cp: Uint8Array, st: Int32Array, tohostOff: number, M: MulHelpers,
) => number;

export interface MulHelpers {
  mulh: (a: number, b: number) => number;
  mulhsu: (a: number, b: number) => number;
  mulhu: (a: number, b: number) => number;
}

/** A translated block: RAM offsets [start, end) of its instructions, n instructions. */
export interface Block {
  /** For an untranslatable first instruction, a stub with n = Infinity: never called. */
  readonly fn: BlockFn;
  readonly n: number;
  readonly start: number;
  readonly end: number;
}

const NEVER: BlockFn = () => 0;

/** Thrown by `new Function` under a Content-Security-Policy without 'unsafe-eval'. */
let functionRefused = false;

/** False once `new Function` has been refused (CSP): the hart then only interprets. */
export function translationAvailable(): boolean {
  return !functionRefused;
}

function hex(v: number): string {
  return '0x' + (v >>> 0).toString(16);
}

const R = (i: number): string => (i === 0 ? '0' : `r[${i}]`);

/**
 * The JS statements for one instruction at pc, or null when it ends the block before it.
 * `k` = instructions retired before this one (its bail-out return value).
 */
interface Emitted {
  code: string;
  /** true when this instruction ends the block (branch/jump: sets st[0] and returns). */
  last: boolean;
}

function emit(inst: number, pc: number, k: number, base: number, size: number): Emitted | null {
  const next = (pc + 2 + (inst & 2)) | 0;
  const rd = (inst >>> 7) & 31;
  const rs1 = (inst >>> 15) & 31;
  const rs2 = (inst >>> 20) & 31;
  const f3 = (inst >>> 12) & 7;
  const bail = `{ st[0] = ${pc | 0}; return ${k}; }`;
  const set = (expr: string): string => (rd === 0 ? '' : `r[${rd}] = ${expr};`);
  switch ((inst >>> 2) & 31) {
    case 0x0d: return { code: set(`${inst & 0xfffff000}`), last: false };
    case 0x05: return { code: set(`${(pc + (inst & 0xfffff000)) | 0}`), last: false };
    case 0x1b: { // JAL
      const imm = ((inst >> 31) << 20) | (((inst >>> 21) & 0x3ff) << 1) | (((inst >>> 20) & 1) << 11) | (inst & 0xff000);
      return { code: `${set(`${next}`)} st[0] = ${(pc + imm) | 0}; return ${k + 1};`, last: true };
    }
    case 0x19: { // JALR
      if (f3 !== 0) return null;
      return { code: `{ const t = (${R(rs1)} + ${inst >> 20}) & ~1; ${set(`${next}`)} st[0] = t; return ${k + 1}; }`, last: true };
    }
    case 0x18: { // BRANCH
      const a = R(rs1), b = R(rs2);
      let cond: string;
      switch (f3) {
        case 0: cond = `${a} === ${b}`; break;
        case 1: cond = `${a} !== ${b}`; break;
        case 4: cond = `${a} < ${b}`; break;
        case 5: cond = `${a} >= ${b}`; break;
        case 6: cond = `(${a} >>> 0) < (${b} >>> 0)`; break;
        case 7: cond = `(${a} >>> 0) >= (${b} >>> 0)`; break;
        default: return null;
      }
      const imm = ((inst >> 31) << 12) | (((inst >>> 25) & 0x3f) << 5) | (((inst >>> 8) & 15) << 1) | (((inst >>> 7) & 1) << 11);
      return { code: `st[0] = (${cond}) ? ${(pc + imm) | 0} : ${next}; return ${k + 1};`, last: true };
    }
    case 0x04: { // OP-IMM
      const a = R(rs1);
      const imm = inst >> 20;
      let e: string;
      switch (f3) {
        case 0: e = `(${a} + ${imm}) | 0`; break;
        case 1: if ((inst >>> 25) !== 0) return null; e = `${a} << ${imm & 31}`; break;
        case 2: e = `${a} < ${imm} ? 1 : 0`; break;
        case 3: e = `(${a} >>> 0) < ${imm >>> 0} ? 1 : 0`; break;
        case 4: e = `${a} ^ ${imm}`; break;
        case 5:
          if ((inst >>> 25) === 0) e = `${a} >>> ${imm & 31}`;
          else if ((inst >>> 25) === 0x20) e = `${a} >> ${imm & 31}`;
          else return null;
          break;
        case 6: e = `${a} | ${imm}`; break;
        default: e = `${a} & ${imm}`; break;
      }
      return { code: set(e), last: false };
    }
    case 0x0c: return emitOp(inst, rd, rs1, rs2, f3);
    case 0x00: { // LOAD
      const addr = `a = ((${R(rs1)} + ${inst >> 20}) - ${base | 0}) >>> 0;`;
      const dst = rd === 0 ? 'v' : `r[${rd}]`;
      switch (f3) {
        case 2: return { code: `${addr} if ((a & 3) !== 0 || a >= ${size}) ${bail} ${dst} = i32[a >>> 2];`, last: false };
        case 0: return { code: `${addr} if (a >= ${size}) ${bail} ${dst} = (u8[a] << 24) >> 24;`, last: false };
        case 4: return { code: `${addr} if (a >= ${size}) ${bail} ${dst} = u8[a];`, last: false };
        case 1: return { code: `${addr} if ((a & 1) !== 0 || a >= ${size}) ${bail} ${dst} = (u16[a >>> 1] << 16) >> 16;`, last: false };
        case 5: return { code: `${addr} if ((a & 1) !== 0 || a >= ${size}) ${bail} ${dst} = u16[a >>> 1];`, last: false };
        default: return null;
      }
    }
    case 0x08: { // STORE
      const imm = ((inst >> 25) << 5) | rd;
      const addr = `a = ((${R(rs1)} + ${imm}) - ${base | 0}) >>> 0;`;
      const guard = (mask: number): string =>
        `if (${mask ? `(a & ${mask}) !== 0 || ` : ''}a >= ${size} || cp[a >>> 12] !== 0 || a === tohostOff) ${bail}`;
      switch (f3) {
        case 2: return { code: `${addr} ${guard(3)} i32[a >>> 2] = ${R(rs2)}; dirty[a >>> 12] = 1;`, last: false };
        case 0: return { code: `${addr} ${guard(0)} u8[a] = ${R(rs2)}; dirty[a >>> 12] = 1;`, last: false };
        case 1: return { code: `${addr} ${guard(1)} u16[a >>> 1] = ${R(rs2)}; dirty[a >>> 12] = 1;`, last: false };
        default: return null;
      }
    }
    default:
      return null; // SYSTEM, MISC-MEM, AMO, illegal: the interpreter's
  }
}

/** OP: base integer (funct7 0 / 0x20) and M extension (funct7 1), exactly as the interpreter. */
function emitOp(inst: number, rd: number, rs1: number, rs2: number, f3: number): Emitted | null {
  const a = R(rs1), b = R(rs2);
  const f7 = inst >>> 25;
  let e: string;
  if (f7 === 0) {
    switch (f3) {
      case 0: e = `(${a} + ${b}) | 0`; break;
      case 1: e = `${a} << (${b} & 31)`; break;
      case 2: e = `${a} < ${b} ? 1 : 0`; break;
      case 3: e = `(${a} >>> 0) < (${b} >>> 0) ? 1 : 0`; break;
      case 4: e = `${a} ^ ${b}`; break;
      case 5: e = `${a} >>> (${b} & 31)`; break;
      case 6: e = `${a} | ${b}`; break;
      default: e = `${a} & ${b}`; break;
    }
  } else if (f7 === 1) {
    const x = `x = ${a}; y = ${b};`;
    switch (f3) {
      case 0: e = `Math.imul(${a}, ${b})`; break;
      case 1: e = `M.mulh(${a}, ${b})`; break;
      case 2: e = `M.mulhsu(${a}, ${b})`; break;
      case 3: e = `M.mulhu(${a}, ${b})`; break;
      case 4: return { code: `${x} ${rd ? `r[${rd}] = ` : ''}y === 0 ? -1 : (x === -0x80000000 && y === -1) ? x : (x / y) | 0;`, last: false };
      case 5: return { code: `${x} ${rd ? `r[${rd}] = ` : ''}y === 0 ? -1 : (x >= 0 && y > 0) ? (x / y) | 0 : ((x >>> 0) / (y >>> 0)) | 0;`, last: false };
      case 6: return { code: `${x} ${rd ? `r[${rd}] = ` : ''}y === 0 ? x : y === -1 ? 0 : (x % y) | 0;`, last: false };
      default: return { code: `${x} ${rd ? `r[${rd}] = ` : ''}y === 0 ? x : (x >= 0 && y > 0) ? x % y : ((x >>> 0) % (y >>> 0)) | 0;`, last: false };
    }
  } else if (f7 === 0x20) {
    if (f3 === 0) e = `(${a} - ${b}) | 0`;
    else if (f3 === 5) e = `${a} >> (${b} & 31)`;
    else return null;
  } else {
    return null;
  }
  return { code: rd === 0 ? '' : `r[${rd}] = ${e};`, last: false };
}

/**
 * Translate the block starting at RAM offset `start` (guest address `pc`). `fetch(off)` returns
 * the decoded instruction (the hart's decode cache format, see Hart.icache) or 0 when it cannot be
 * fetched. Returns a block whose `fn` is null when not even the first instruction is translatable.
 */
export function translateBlock(fetch: (off: number) => number, start: number, pc: number, base: number, size: number): Block {
  const page = start >>> 12;
  const parts: string[] = [];
  let off = start;
  let n = 0;
  let ended = false;
  while (n < MAX_BLOCK) {
    if (off + 2 > size || ((off + 2 - 1) >>> 12) !== page) break;
    const inst = fetch(off);
    if (inst === 0) break;
    const len = 2 + (inst & 2);
    if (((off + len - 1) >>> 12) !== page) break; // a 32-bit instruction straddling the page end
    const e = emit(inst, (pc + (off - start)) | 0, n, base, size);
    if (e === null) break;
    parts.push(e.code);
    n++;
    off += len;
    if (e.last) { ended = true; break; }
  }
  if (n === 0) return { fn: NEVER, n: Infinity, start, end: start + 4 };
  if (!ended) parts.push(`st[0] = ${(pc + (off - start)) | 0}; return ${n};`);
  const body = `"use strict"; let a = 0, v = 0, x = 0, y = 0; // block ${hex(pc)}, ${n} instructions\n${parts.join('\n')}`;
  let fn: BlockFn | null = null;
  if (!functionRefused) {
    try {
      fn = new Function('r', 'u8', 'u16', 'i32', 'dirty', 'cp', 'st', 'tohostOff', 'M', body) as BlockFn;
    } catch (e) {
      if (!(e instanceof SyntaxError)) functionRefused = true; // CSP (EvalError): interpret from now on
      else throw e;
    }
  }
  if (fn === null) return { fn: NEVER, n: Infinity, start, end: start + 4 };
  return { fn, n, start, end: off };
}
