/**
 * Block translator (issue 13): a hot straight-line run of RV32IMC instructions becomes one JS
 * function built with `new Function`, keeping the exact instruction count.
 *
 * What goes into a block: integer ALU (OP, OP-IMM, LUI, AUIPC, M extension) and RAM loads/stores.
 * A conditional branch is a side exit (taken: leave with the target pc; not taken: go on with the
 * next instruction); a block ends with (and includes) its first JAL or JALR; it ends before anything else — CSR
 * and SYSTEM instructions, FENCE/FENCE.I, atomics, illegal encodings — which the interpreter then
 * runs, so no translated instruction can trap, touch a CSR or change interrupt state. A block never
 * leaves the 4 KiB page it starts in, and holds at most MAX_BLOCK instructions.
 *
 * Loads and stores take the RAM fast path only. A load or store whose address is misaligned, not
 * in RAM (MMIO, vacant), or — for stores — next to a decoded instruction (a nonzero decode-cache
 * entry at halfword h-1, h or, for a word, h+1 of the address; self-modifying code) or at the
 * tohost word, *bails out*: the block returns the number of
 * instructions retired before it, with the pc of that instruction in `st[0]`, and the interpreter
 * executes it exactly as it would have. So a block retires either all its `n` instructions or a
 * prefix, and the hart's state is then exactly what the interpreter would have produced.
 *
 * A block whose branch or jump goes back to its own start loops inside the function while the
 * budget left (`left`, at least n on entry) holds another whole pass, so a hot inner loop runs
 * without returning to the dispatcher; the count stays exact (passes × n + the bail-out prefix).
 *
 * Generated function: `(r, u8, u16, i32, dirty, ic, st, tohostOff, M, left) => retired`, where r is
 * the register file (cached in locals inside the block, written back at every exit), the views are
 * Memory's, ic the hart's decode cache, st[0] receives the next pc (st[1] = 1 on a bail-out), tohostOff the RAM offset of
 * tohost (or -1), M the MULH helpers and left the budget left.
 */
export const MAX_BLOCK = 64;
/** Entries into a pc (counted by the interpreter) before its block is translated. */
export const HOT_THRESHOLD = 50;

export type BlockFn = (
  r: Int32Array, u8: Uint8Array, u16: Uint16Array, i32: Int32Array, dirty: Uint8Array,
  ic: Int32Array, st: Int32Array, tohostOff: number, M: MulHelpers, left: number,
) => number;

export interface MulHelpers {
  mulh: (a: number, b: number) => number;
  mulhsu: (a: number, b: number) => number;
  mulhu: (a: number, b: number) => number;
}

/** A translated block: starts at RAM offset `start`, n instructions in RAM offsets [lo, hi). */
export interface Block {
  /** For an untranslatable first instruction, a stub with n = Infinity: never called. */
  readonly fn: BlockFn;
  readonly n: number;
  readonly start: number;
  readonly lo: number;
  readonly hi: number;
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

/**
 * Registers live in locals g1..g31 inside a block (loaded at entry, written back at every exit),
 * each kept an int32 by `| 0` on every assignment. x0 reads as the literal 0; writes to it vanish.
 */
class Regs {
  readonly used = new Set<number>();
  readonly written = new Set<number>();
  rd(i: number): string {
    if (i === 0) return '0';
    this.used.add(i);
    return `g${i}`;
  }
  /** `g<rd> = (expr) | 0;`, or '' for x0. */
  set(rd: number, expr: string): string {
    if (rd === 0) return '';
    this.used.add(rd);
    this.written.add(rd);
    return `g${rd} = (${expr}) | 0;`;
  }
}

/** Placeholder for the write-back of the block's written registers, filled in at the end. */
const WB = '@WB@';

/** What one instruction became: straight-line code, or (last) the block's control transfer. */
type Emitted =
  | { kind: 'op'; code: string }
  | { kind: 'jump'; code: string; target: number } // JAL: code sets the link register
  | { kind: 'branch'; cond: string; target: number; next: number }
  | { kind: 'jalr'; code: string }; // code computes `t`, the target

function emit(g: Regs, inst: number, pc: number, k: number, base: number, size: number): Emitted | null {
  const next = (pc + 2 + (inst & 2)) | 0;
  const rd = (inst >>> 7) & 31;
  const rs1 = (inst >>> 15) & 31;
  const rs2 = (inst >>> 20) & 31;
  const f3 = (inst >>> 12) & 7;
  const bail = `{ ${WB} st[0] = ${pc | 0}; st[1] = 1; return done + ${k}; }`;
  const op = (code: string): Emitted => ({ kind: 'op', code });
  switch ((inst >>> 2) & 31) {
    case 0x0d: return op(g.set(rd, `${inst & 0xfffff000}`));
    case 0x05: return op(g.set(rd, `${(pc + (inst & 0xfffff000)) | 0}`));
    case 0x1b: { // JAL
      const imm = ((inst >> 31) << 20) | (((inst >>> 21) & 0x3ff) << 1) | (((inst >>> 20) & 1) << 11) | (inst & 0xff000);
      return { kind: 'jump', code: g.set(rd, `${next}`), target: (pc + imm) | 0 };
    }
    case 0x19: // JALR: target first (rd may be rs1)
      if (f3 !== 0) return null;
      return { kind: 'jalr', code: `t = (${g.rd(rs1)} + ${inst >> 20}) & ~1; ${g.set(rd, `${next}`)}` };
    case 0x18: { // BRANCH
      const a = g.rd(rs1), b = g.rd(rs2);
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
      return { kind: 'branch', cond, target: (pc + imm) | 0, next };
    }
    case 0x04: { // OP-IMM
      const a = g.rd(rs1);
      const imm = inst >> 20;
      let e: string;
      switch (f3) {
        case 0: e = `${a} + ${imm}`; break;
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
      return op(g.set(rd, e));
    }
    case 0x0c: {
      const code = emitOp(g, inst, rd, rs1, rs2, f3);
      return code === null ? null : op(code);
    }
    case 0x00: { // LOAD: RAM fast path; misaligned or outside RAM bails to the interpreter
      const addr = `a = ((${g.rd(rs1)} + ${inst >> 20}) - ${base | 0}) >>> 0;`;
      const load = (cond: string, e: string): Emitted => op(`${addr} if (${cond}a >= ${size}) ${bail} ${rd === 0 ? `v = ${e};` : g.set(rd, e)}`);
      switch (f3) {
        case 2: return load('(a & 3) !== 0 || ', 'i32[a >>> 2]');
        case 0: return load('', '(u8[a] << 24) >> 24');
        case 4: return load('', 'u8[a]');
        case 1: return load('(a & 1) !== 0 || ', '(u16[a >>> 1] << 16) >> 16');
        case 5: return load('(a & 1) !== 0 || ', 'u16[a >>> 1]');
        default: return null;
      }
    }
    case 0x08: { // STORE: also bails over decoded code and at tohost
      const imm = ((inst >> 25) << 5) | rd;
      const v = g.rd(rs2);
      const store = (mask: number, w: string): Emitted => op(
        `a = ((${g.rd(rs1)} + ${imm}) - ${base | 0}) >>> 0; ` +
        `if (${mask ? `(a & ${mask}) !== 0 || ` : ''}a >= ${size} || a === tohostOff || ` +
        `(ic[(a >>> 1) - 1] | ic[a >>> 1]${mask === 3 ? ' | ic[(a >>> 1) + 1]' : ''}) !== 0) ${bail} ` +
        `${w} = ${v}; dirty[a >>> 12] = 1;`);
      switch (f3) {
        case 2: return store(3, 'i32[a >>> 2]');
        case 0: return store(0, 'u8[a]');
        case 1: return store(1, 'u16[a >>> 1]');
        default: return null;
      }
    }
    default:
      return null; // SYSTEM, MISC-MEM, AMO, illegal: the interpreter's
  }
}

/** OP: base integer (funct7 0 / 0x20) and M extension (funct7 1), exactly as the interpreter. */
function emitOp(g: Regs, inst: number, rd: number, rs1: number, rs2: number, f3: number): string | null {
  const a = g.rd(rs1), b = g.rd(rs2);
  const f7 = inst >>> 25;
  const xy = `x = ${a}; y = ${b};`;
  switch (f7 === 0 ? f3 : f7 === 1 ? 8 + f3 : f7 === 0x20 ? 16 + f3 : -1) {
    case 0: return g.set(rd, `${a} + ${b}`);
    case 1: return g.set(rd, `${a} << (${b} & 31)`);
    case 2: return g.set(rd, `${a} < ${b} ? 1 : 0`);
    case 3: return g.set(rd, `(${a} >>> 0) < (${b} >>> 0) ? 1 : 0`);
    case 4: return g.set(rd, `${a} ^ ${b}`);
    case 5: return g.set(rd, `${a} >>> (${b} & 31)`);
    case 6: return g.set(rd, `${a} | ${b}`);
    case 7: return g.set(rd, `${a} & ${b}`);
    // M extension (spec ch. 7): division by zero and overflow per Table 7.1, no trap
    case 8: return g.set(rd, `Math.imul(${a}, ${b})`);
    case 9: return g.set(rd, `M.mulh(${a}, ${b})`);
    case 10: return g.set(rd, `M.mulhsu(${a}, ${b})`);
    case 11: return g.set(rd, `M.mulhu(${a}, ${b})`);
    case 12: return `${xy} ${g.set(rd, 'y === 0 ? -1 : (x === -0x80000000 && y === -1) ? x : (x / y) | 0')}`;
    case 13: return `${xy} ${g.set(rd, 'y === 0 ? -1 : (x >= 0 && y > 0) ? (x / y) | 0 : ((x >>> 0) / (y >>> 0)) | 0')}`;
    case 14: return `${xy} ${g.set(rd, 'y === 0 ? x : y === -1 ? 0 : (x % y) | 0')}`;
    case 15: return `${xy} ${g.set(rd, 'y === 0 ? x : (x >= 0 && y > 0) ? x % y : ((x >>> 0) % (y >>> 0)) | 0')}`;
    case 16: return g.set(rd, `${a} - ${b}`);
    case 21: return g.set(rd, `${a} >> (${b} & 31)`);
    default: return null;
  }
}

/**
 * Translate the block starting at RAM offset `start` (guest address `pc`). `fetch(off)` returns
 * the decoded instruction (the hart's decode cache format, see Hart.icache) or 0 when it cannot be
 * fetched. Returns a block whose `fn` is null when not even the first instruction is translatable.
 */
export function translateBlock(fetch: (off: number) => number, start: number, pc: number, base: number, size: number): Block {
  const page = start >>> 12;
  const g = new Regs();
  // Pass 1: the instructions, in address order, from start. Past a jump only when something
  // earlier in the block branches to the next instruction (an if/else), else the block ends there.
  const items: { off: number; pc: number; e: Emitted }[] = [];
  const forward = new Set<number>();
  let off = start;
  while (items.length < MAX_BLOCK) {
    if (off + 2 > size || ((off + 1) >>> 12) !== page) break;
    const prev = items[items.length - 1];
    if (prev !== undefined && (prev.e.kind === 'jump' || prev.e.kind === 'jalr') && !forward.has(off)) break;
    const inst = fetch(off);
    if (inst === 0) break;
    const len = 2 + (inst & 2);
    if (((off + len - 1) >>> 12) !== page) break; // a 32-bit instruction straddling the page end
    const ipc = (pc + (off - start)) | 0;
    const e = emit(g, inst, ipc, items.length, base, size);
    if (e === null) break;
    items.push({ off, pc: ipc, e });
    if (e.kind === 'branch' || e.kind === 'jump') forward.add((e.target - base) >>> 0);
    off += len;
  }
  const n = items.length;
  if (n === 0) return { fn: NEVER, n: Infinity, start, lo: start, hi: start + 4 };
  // Pass 2: a switch over entry labels inside a loop. Invariant: before the instruction at index
  // m, `done + m` instructions have retired in this call. Every exit returns exactly that count.
  const index = new Map<number, number>();
  items.forEach((it, m) => index.set(it.pc, m));
  const labels = new Set<number>([0]);
  for (const it of items) {
    if (it.e.kind === 'branch' || it.e.kind === 'jump') {
      const j = index.get(it.e.target);
      if (j !== undefined) labels.add(j);
    }
  }
  const exit = (target: string, retired: string): string => `${WB} st[0] = ${target}; return ${retired};`;
  /** Control to `target` after the instruction at index m: within the block while a whole block fits the budget. */
  const goTo = (target: number, m: number): string => {
    const j = index.get(target);
    if (j === undefined) return exit(`${target}`, `done + ${m + 1}`);
    return `{ const d = done + ${m + 1 - j}; if (left - d >= ${n}) { done = d; e = ${j}; continue; } ${exit(`${target}`, `done + ${m + 1}`)} }`;
  };
  const parts: string[] = [];
  items.forEach((it, m) => {
    if (labels.has(m)) parts.push(`case ${m}:`);
    const e = it.e;
    if (e.kind === 'op') parts.push(e.code);
    else if (e.kind === 'branch') parts.push(`if (${e.cond}) { ${goTo(e.target, m)} }`);
    else if (e.kind === 'jump') parts.push(`${e.code} ${goTo(e.target, m)}`);
    else parts.push(`${e.code} ${exit('t', `done + ${m + 1}`)}`);
  });
  const lastKind = items[n - 1].e.kind;
  if (lastKind !== 'jump' && lastKind !== 'jalr') parts.push(exit(`${(pc + (off - start)) | 0}`, `done + ${n}`));
  const regs = [...g.used].sort((x, y) => x - y);
  const wb = [...g.written].sort((x, y) => x - y).map((i) => `r[${i}] = g${i};`).join(' ');
  const body = [
    `"use strict"; // block ${hex(pc)}, ${n} instructions`,
    'let a = 0, v = 0, x = 0, y = 0, t = 0, done = 0, e = 0;',
    ...regs.map((i) => `let g${i} = r[${i}];`),
    'for (;;) {',
    'switch (e) {',
    ...parts.map((p) => p.split(WB).join(wb)),
    '}',
    "throw new Error('translated block: no such entry');",
    '}',
  ].join('\n');
  let fn: BlockFn | null = null;
  if (!functionRefused) {
    try {
      fn = new Function('r', 'u8', 'u16', 'i32', 'dirty', 'ic', 'st', 'tohostOff', 'M', 'left', body) as BlockFn;
    } catch (err) {
      if (err instanceof SyntaxError) throw err; // a translator bug, not a refusal
      functionRefused = true; // CSP without 'unsafe-eval' (EvalError): interpret from now on
    }
  }
  if (fn === null) return { fn: NEVER, n: Infinity, start, lo: start, hi: start + 4 };
  return { fn, n, start, lo: start, hi: off };
}
