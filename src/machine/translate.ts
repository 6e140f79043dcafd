/**
 * Block translator (issue 13): the hot code of a 4 KiB page becomes one JS function built with
 * `new Function`, as v86 compiles a page's hot code into one module, keeping the exact
 * instruction count.
 *
 * What goes in: integer ALU (OP, OP-IMM, LUI, AUIPC, M extension), RAM loads/stores, branches,
 * JAL and JALR. CSR and SYSTEM instructions, FENCE/FENCE.I, atomics and illegal encodings stay out:
 * control leaves the function before them and the interpreter runs them, so no translated
 * instruction can trap, touch a CSR or change interrupt state.
 *
 * A *region* is what its seeds (the page's hot entry points) reach inside the page by falling
 * through, branching, jumping and calling, with the return points after those calls, up to
 * MAX_BLOCK instructions. It is laid out in address order as the cases of a `switch` in a loop;
 * every case label (a seed, a branch or jump target, a return point) is an *entry* the dispatcher
 * may call the function at. A branch or jump to an instruction of the region, and a JALR whose
 * target is a return point or called entry, go on inside the function; any other target leaves.
 * So a loop nest, or a recursive function and its calls, runs in one call.
 *
 * Exact count: before the instruction at layout index m, `done + m` instructions have retired in
 * this call. From entry label j at most `run[j]` instructions run straight down the layout before
 * the next transfer, and every transfer to a label goes on inside only while the budget left
 * (`left`) holds that many more; else it leaves. So a call retires exactly what the interpreter
 * would have retired, never more than `left`.
 *
 * Loads and stores take the RAM fast path only. A load or store whose address is misaligned, not
 * in RAM (MMIO, vacant), or — for stores — next to a decoded instruction (a nonzero decode-cache
 * entry at halfword h-1, h or, for a word, h+1 of the address; self-modifying code) or at the
 * tohost word, *bails out*: the function returns the number of instructions retired before it,
 * with the pc of that instruction in `st[0]` and st[1] = 1, and the interpreter executes it
 * exactly as it would have.
 *
 * Generated function: `(r, u8, u16, i32, dirty, ic, cp, st, tohostOff, M, left, entry) => retired`,
 * where r is the register file (cached in locals inside, written back at the one exit), the
 * views are Memory's, ic the hart's decode cache and cp its pages that hold decoded code, st[0]
 * receives the next pc and st[1] how the function left (0: a jump or the budget, 1: a bail-out,
 * 2: a call), tohostOff the RAM offset of tohost (or -1), M the MULH helpers, left the
 * budget left and entry the label to start at (its layout index << 10 | its case number).
 */
export const MAX_BLOCK = 256;
/**
 * The most instructions of a region for a seed that the page's main region has no room for. Small:
 * V8's optimizing compiler takes time that grows faster than a function's size, and these would
 * mostly repeat the main region's code; a hot call out of one grows it (Hart.link).
 */
export const SIDE_MAX = 16;
/**
 * The most instructions one call of a region may retire (the hart passes at most this as `left`).
 * A call then returns every so often, so V8 optimizes a region as a function called often rather
 * than only by on-stack replacement inside one long call, which warms up slower and runs slower.
 */
export const CALL_BUDGET = 1000;
/** Calls into an entry straight from another region's call before that region takes it in (Hart.link). */
export const LINK_HITS = 256;
/**
 * Entries into a pc (counted by the interpreter) before it seeds its page's region. Translating
 * pays only for code that will run far more than its compile costs: a region takes about 2 ms to
 * build and for V8 to compile, what the interpreter spends on some 10^5 instructions. At 50, an
 * I/O-bound guest (the lecture guests retire under 10^6 instructions a virtual second) had every
 * warm path of its first seconds translated, and each warm seed that came up later translated its
 * page's main region anew, throwing warmed code away — the ticker guest three or four times a
 * second for good. In the simulator, from a fresh process (`npm run bench:ft`), the counter and kv
 * guests' first 3 virtual seconds ran at 3.2–3.3 virtual s per wall s at 50 and 5.5–6.6 at 1000;
 * after that the counter's ran at 12 against 10, the kv guest's at 9 against 13, the ticker's at 17
 * against 60. Thresholds of 200–400 were slower than either, 4000 faster for these guests but a
 * fifth slower for compute-bound ones (bench.elf, mark.elf), which at 1000 run as at 50
 * (`npm run bench:cpu`, bench/results.md).
 */
export const HOT_THRESHOLD = 1000;

export type BlockFn = (
  r: Int32Array, u8: Uint8Array, u16: Uint16Array, i32: Int32Array, dirty: Uint8Array,
  ic: Int32Array, cp: Uint8Array, st: Int32Array, tohostOff: number, M: MulHelpers, left: number, entry: number,
) => number;

export interface MulHelpers {
  mulh: (a: number, b: number) => number;
  mulhsu: (a: number, b: number) => number;
  mulhu: (a: number, b: number) => number;
}

/** A translated region: `size` instructions in RAM offsets [lo, hi) of one page. */
export interface Block {
  readonly fn: BlockFn;
  /** The RAM offsets it was translated from (the first is where it was first hot). */
  readonly seeds: readonly number[];
  readonly entries: readonly Entry[];
  readonly size: number;
  readonly lo: number;
  readonly hi: number;
}

/** Where the dispatcher may call a region: at RAM offset `off`, label `label`. */
export interface Entry {
  readonly block: Block;
  readonly fn: BlockFn;
  readonly off: number;
  readonly label: number;
  /** At most this many instructions retire before the first budget check: call only when left >= n. */
  readonly n: number;
  /** Calls straight from another region's exit (the hart's profile for chaining, Hart.link). */
  hits: number;
}

/** Thrown by `new Function` under a Content-Security-Policy without 'unsafe-eval'. */
let functionRefused = false;

/**
 * Functions by source, shared by every hart of this JS realm: the same code at the same address
 * (another machine running the same guest, a reset, a restored snapshot) gets the function that is
 * already compiled and optimized. A generated function reads nothing but its arguments.
 */
const byBody = new Map<string, BlockFn>();
/** The cache starts over past this much source (characters; a 256-instruction region is ~20 k). */
const MAX_CACHED_SOURCE = 16_000_000;
let cachedSource = 0;

function compiled(body: string): BlockFn | null {
  const hit = byBody.get(body);
  if (hit !== undefined) return hit;
  if (functionRefused) return null;
  let fn: BlockFn;
  try {
    fn = new Function('r', 'u8', 'u16', 'i32', 'dirty', 'ic', 'cp', 'st', 'tohostOff', 'M', 'left', 'entry', body) as BlockFn;
  } catch (err) {
    if (err instanceof SyntaxError) throw err; // a translator bug, not a refusal
    functionRefused = true; // CSP without 'unsafe-eval' (EvalError): interpret from now on
    return null;
  }
  if (cachedSource + body.length > MAX_CACHED_SOURCE) {
    byBody.clear();
    cachedSource = 0;
  }
  byBody.set(body, fn);
  cachedSource += body.length;
  return fn;
}

/** False once `new Function` has been refused (CSP): the hart then only interprets. */
export function translationAvailable(): boolean {
  return !functionRefused;
}

function hex(v: number): string {
  return '0x' + (v >>> 0).toString(16);
}

/**
 * Registers live in locals g1..g31 inside a region (loaded at entry, written back at its one exit),
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

/** Placeholder for an instruction's index in the region's layout (known once the region is laid out). */
const AT = '@AT@';

/** What one instruction became: straight-line code, or a control transfer. */
type Emitted =
  | { kind: 'op'; code: string }
  | { kind: 'jump'; code: string; target: number; call: boolean } // JAL: code sets the link register
  | { kind: 'branch'; cond: string; target: number; next: number }
  | { kind: 'jalr'; code: string; call: boolean }; // code computes `t`, the target; call: it links

function emit(g: Regs, inst: number, pc: number, base: number, size: number): Emitted | null {
  const next = (pc + 2 + (inst & 2)) | 0;
  const rd = (inst >>> 7) & 31;
  const rs1 = (inst >>> 15) & 31;
  const rs2 = (inst >>> 20) & 31;
  const f3 = (inst >>> 12) & 7;
  const bail = `{ to = ${pc | 0}; bailed = 1; ret = done + ${AT}; break out; }`;
  const op = (code: string): Emitted => ({ kind: 'op', code });
  switch ((inst >>> 2) & 31) {
    case 0x0d: return op(g.set(rd, `${inst & 0xfffff000}`));
    case 0x05: return op(g.set(rd, `${(pc + (inst & 0xfffff000)) | 0}`));
    case 0x1b: { // JAL
      const imm = ((inst >> 31) << 20) | (((inst >>> 21) & 0x3ff) << 1) | (((inst >>> 20) & 1) << 11) | (inst & 0xff000);
      return { kind: 'jump', code: g.set(rd, `${next}`), target: (pc + imm) | 0, call: rd !== 0 };
    }
    case 0x19: // JALR: target first (rd may be rs1)
      if (f3 !== 0) return null;
      return { kind: 'jalr', code: `t = (${g.rd(rs1)} + ${inst >> 20}) & ~1; ${g.set(rd, `${next}`)}`, call: rd !== 0 };
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
        `(cp[a >>> 12] !== 0 && (ic[(a >>> 1) - 1] | ic[a >>> 1]${mask === 3 ? ' | ic[(a >>> 1) + 1]' : ''}) !== 0)) ${bail} ` +
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
 * Translate the region of `seeds` (RAM offsets in one page; the guest address of offset o is
 * base + o). `fetch(off)` returns the decoded instruction (the hart's decode cache format, see
 * Hart.icache) or 0 when it cannot be fetched. Returns null when no seed starts with a
 * translatable instruction, or where `new Function` is refused.
 */
export function translateRegion(fetch: (off: number) => number, seeds: readonly number[], base: number, size: number, max = MAX_BLOCK): Block | null {
  const page = seeds[0] >>> 12;
  const g = new Regs();
  const pcOf = (off: number): number => (base + off) | 0;
  const inPage = (target: number): number => {
    const o = (target - base) >>> 0;
    return o < size && (o >>> 12) === page ? o : -1;
  };
  // Pass 1: discover the region, one straight-line run at a time. `indirect`: pcs a JALR may come back to.
  const found = new Map<number, { off: number; pc: number; len: number; e: Emitted }>();
  const indirect = new Set<number>(seeds.map(pcOf));
  // Seed by seed (in order), one straight-line run at a time, targets depth first.
  const work: number[] = [];
  const walk = (from: number): void => {
    let off = from;
    while (found.size < max && !found.has(off)) {
      if (off + 2 > size || ((off + 1) >>> 12) !== page) break;
      const inst = fetch(off);
      if (inst === 0) break;
      const len = 2 + (inst & 2);
      if (((off + len - 1) >>> 12) !== page) break; // a 32-bit instruction straddling the page end
      const ipc = pcOf(off);
      const e = emit(g, inst, ipc, base, size);
      if (e === null) break;
      found.set(off, { off, pc: ipc, len, e });
      if (e.kind === 'branch' || e.kind === 'jump') {
        const t = inPage(e.target);
        if (t >= 0) work.push(t);
      }
      if (e.kind === 'jump' || e.kind === 'jalr') {
        if (((inst >>> 7) & 31) === 0) break;
        // A call: its return point comes next, reached by the callee's JALR.
        if (e.kind === 'jump') indirect.add(e.target);
        indirect.add((ipc + len) | 0);
      }
      off += len;
    }
  };
  for (const seed of seeds) {
    work.push(seed);
    while (work.length > 0 && found.size < max) walk(work.pop() as number);
    work.length = 0;
  }
  if (found.size === 0) return null;
  const items = [...found.values()].sort((x, y) => x.off - y.off);
  const n = items.length;
  const index = new Map<number, number>();
  items.forEach((it, m) => index.set(it.pc, m));
  const fallOf = (m: number): number => (items[m].pc + items[m].len) | 0;
  const transfers = (m: number): boolean => items[m].e.kind === 'jump' || items[m].e.kind === 'jalr';
  /** Whether control after instruction m goes on straight to m + 1 (next in the layout). */
  const straight = (m: number): boolean => !transfers(m) && m + 1 < n && items[m + 1].pc === fallOf(m);
  // run[j]: instructions from index j down the layout to the first one after which control cannot
  // go straight on. Entered at j, at most run[j] instructions retire before the next budget check
  // (a taken branch, a jump, a JALR back inside, or leaving).
  const run = new Int32Array(n + 1);
  for (let m = n - 1; m >= 0; m--) run[m] = 1 + (straight(m) ? run[m + 1] : 0);
  // Pass 2: a switch over entry labels inside a loop. Invariant: before the instruction at index
  // m, `done + m` instructions have retired in this call. Every exit returns exactly that count.
  const labels = new Set<number>();
  const addLabel = (target: number): void => {
    const j = index.get(target);
    if (j !== undefined) labels.add(j);
  };
  const backIn = [...indirect].filter((t) => index.has(t));
  for (const seed of seeds) addLabel(pcOf(seed));
  items.forEach((it, m) => {
    if (it.e.kind === 'branch' || it.e.kind === 'jump') addLabel(it.e.target);
    if (!transfers(m) && !straight(m)) addLabel(fallOf(m));
  });
  if (items.some((it) => it.e.kind === 'jalr')) backIn.forEach(addLabel);
  // Case numbers are the labels' ordinals, dense from 0, so V8 dispatches with a jump table.
  const sortedLabels = [...labels].sort((x, y) => x - y);
  const caseOf = new Map(sortedLabels.map((j, c) => [j, c]));
  /**
   * Leave for `target` with `retired` instructions retired. Every exit goes through one epilogue
   * (write-back and st), so no exit holds a typed-array access of its own that V8 would first see
   * when a rarely taken exit is taken (a deoptimization of the whole region).
   */
  const exit = (target: string, retired: string): string => `to = ${target}; ret = ${retired}; break out;`;
  /** Go on at label j after instruction m while the budget allows what runs before the next check. */
  const enter = (j: number, m: number): string =>
    `const d = done + ${m + 1 - j}; if (left - d >= ${j + run[j]}) { done = d; e = ${caseOf.get(j)}; continue; }`;
  /** Control to `target` after the instruction at index m: inside when it is here and the budget allows, else out. */
  const goTo = (target: number, m: number, call = false): string => {
    const j = index.get(target);
    if (j === undefined) return `${call ? 'bailed = 2; ' : ''}${exit(`${target}`, `done + ${m + 1}`)}`;
    return `{ ${enter(j, m)} ${exit(`${target}`, `done + ${m + 1}`)} }`;
  };
  const parts: string[] = [];
  items.forEach((it, m) => {
    if (labels.has(m)) parts.push(`case ${caseOf.get(m)}:`);
    const e = it.e;
    if (e.kind === 'op') parts.push(e.code.split(AT).join(`${m}`));
    else if (e.kind === 'branch') parts.push(`if (${e.cond}) { ${goTo(e.target, m)} }`);
    else if (e.kind === 'jump') parts.push(`${e.code} ${goTo(e.target, m, e.call)}`);
    else {
      const cases = backIn.map((t) => `case ${t}: { ${enter(index.get(t) as number, m)} break; }`).join(' ');
      parts.push(`${e.code} ${cases ? `switch (t) { ${cases} }` : ''} ${e.call ? 'bailed = 2; ' : ''}${exit('t', `done + ${m + 1}`)}`);
    }
    // Falling through to an instruction that is not next in the layout (or not in the region).
    if (!transfers(m) && !straight(m)) parts.push(goTo(fallOf(m), m));
  });
  let lo = items[0].off, hi = lo;
  for (const it of items) {
    lo = Math.min(lo, it.off);
    hi = Math.max(hi, it.off + it.len);
  }
  const regs = [...g.used].sort((x, y) => x - y);
  const wb = [...g.written].sort((x, y) => x - y).map((i) => `r[${i}] = g${i};`).join(' ');
  const body = [
    `"use strict"; // region ${hex(pcOf(seeds[0]))}, ${n} instructions`,
    'let a = 0, v = 0, x = 0, y = 0, t = 0, done = -(entry >> 10), e = entry & 1023, to = 0, ret = 0, bailed = 0;',
    ...regs.map((i) => `let g${i} = r[${i}];`),
    'out: for (;;) {',
    'switch (e) {',
    ...parts,
    '}',
    "throw new Error('translated region: no such entry');",
    '}',
    wb,
    'st[0] = to; st[1] = bailed;',
    'return ret;',
  ].join('\n');
  const fn = compiled(body);
  if (fn === null) return null;
  const entries: Entry[] = [];
  const block: Block = { fn, seeds, entries, size: n, lo, hi };
  for (const j of sortedLabels) entries.push({ block, fn, off: items[j].off, label: (j << 10) | (caseOf.get(j) as number), n: run[j], hits: 0 });
  return block;
}
