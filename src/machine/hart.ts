/**
 * The RV32IMAC hart, machine mode only (unprivileged spec ch. 2, 7, 8, 9 (Zicsr), 16 (C);
 * privileged spec ch. 3). One big `run` loop keeps pc, the retired count and the RAM views in
 * locals; RAM is read through the Memory views directly, anything else goes to the Mmio bus.
 *
 * Counting (the property fault tolerance rests on): `icount` counts retired instructions. An
 * instruction that takes a synchronous exception does not retire; taking an interrupt is not an
 * instruction. `run(budget)` stops right after the budget-th retirement, so the state "after X
 * retired instructions" is unique and the backup can deliver an event exactly where the primary did.
 *
 * Interrupts are checked before each instruction. Only a few things can make one deliverable — a
 * device raising a line (inside an Mmio call, or between runs), a CSR write, mret — so the loop
 * rechecks only after those, and the common instruction pays nothing for it.
 *
 * Decode and execute are one switch; the count stays exact because every retirement is `count++`.
 * Hot code runs translated (translate.ts): at each instruction the loop first looks for a region
 * entry at pc and calls it when the budget left holds what runs before its first check; a region
 * returns the exact number it retired and the next pc, and hands an instruction it cannot do (a
 * device access, a store over code, ...) back to this loop, which executes it as always.
 */
import type { Memory } from './memory';
import type { Mmio } from './bus';
import type { NondetSource, RunResult, StopReason } from './types';
import {
  CsrFile, CSR_WORDS, IRQ_PRIORITY, MSTATUS_MIE, MSTATUS_MPIE, MIE_WRITABLE, causeName,
  CAUSE_BREAKPOINT, CAUSE_ECALL_M, CAUSE_FETCH_ACCESS, CAUSE_ILLEGAL, CAUSE_INTERRUPT,
  CAUSE_LOAD_ACCESS, CAUSE_LOAD_MISALIGNED, CAUSE_STORE_ACCESS, CAUSE_STORE_MISALIGNED,
} from './csr';
import { rvcTable } from './rvc';
import {
  CALL_BUDGET, HOT_THRESHOLD, LINK_HITS, MAX_BLOCK, SIDE_MAX, translateRegion, translationAvailable, type Block, type Entry, type MulHelpers,
} from './translate';

const MUL: MulHelpers = { mulh: (a, b) => mulh(a, b), mulhsu: (a, b) => mulhsu(a, b), mulhu: (a, b) => mulhu(a, b) };

/** The translated regions of one 4 KiB page, and their entries by halfword. */
interface JitPage {
  readonly slots: (Entry | undefined)[];
  list: Block[];
  /** The region new hot entry points of the page are added to (by translating it anew). */
  main: Block | undefined;
}

/** Marks an offset whose instruction cannot start a region: the interpreter runs it, uncounted. */
function stubAt(off: number): Block {
  const entries: Entry[] = [];
  const block: Block = { fn: () => 0, seeds: [off], entries, size: 0, lo: off, hi: off + 4 };
  entries.push({ block, fn: block.fn, off, label: 0, n: Infinity, hits: 0 });
  return block;
}

const SNAPSHOT_MAGIC = 0x48415254; // 'HART'
const SNAPSHOT_VERSION = 2; // 2: counter offsets and PMP registers in the CSR words
// magic, version, regs[32], pc, icount lo, icount hi, CSRs, reservation, tohostAddr, fault length
const SNAP_WORDS_FIXED = 2 + 32 + 3 + CSR_WORDS + 3;
/** Words in `stateWords()`: regs, pc, icount lo/hi, CSRs, reservation. */
export const STATE_WORDS = 32 + 3 + CSR_WORDS + 1;

const NO_RESERVATION = -1;

function hex(v: number): string {
  return '0x' + (v >>> 0).toString(16).padStart(8, '0');
}

/** High word of the unsigned 64-bit product (M extension MULHU), exact in doubles via 16-bit limbs. */
export function mulhu(a: number, b: number): number {
  const al = a & 0xffff, ah = a >>> 16, bl = b & 0xffff, bh = b >>> 16;
  const lh = al * bh, hl = ah * bl;
  const mid = ((al * bl) >>> 16) + (lh & 0xffff) + (hl & 0xffff);
  return (ah * bh + (lh >>> 16) + (hl >>> 16) + (mid >>> 16)) | 0;
}
/** MULH: signed × signed; the unsigned product minus the sign corrections, mod 2^32. */
export function mulh(a: number, b: number): number {
  return (mulhu(a, b) - (a < 0 ? b : 0) - (b < 0 ? a : 0)) | 0;
}
/** MULHSU: signed a × unsigned b. */
export function mulhsu(a: number, b: number): number {
  return (mulhu(a, b) - (a < 0 ? b : 0)) | 0;
}

/** "illegal instruction 0x00000000 at pc 0x80000010", "load access fault (mtval 0x...) at pc ...". */
function describeTrap(pc: number, cause: number, tval: number): string {
  if (cause < 0) return `interrupt ${cause & 0x7fff_ffff} at pc ${hex(pc)}`;
  if (cause === CAUSE_ILLEGAL) return `illegal instruction ${hex(tval)} at pc ${hex(pc)}`;
  if (cause === CAUSE_ECALL_M || cause === CAUSE_BREAKPOINT) return `${causeName(cause)} at pc ${hex(pc)}`;
  return `${causeName(cause)} (mtval ${hex(tval)}) at pc ${hex(pc)}`;
}

export class Hart {
  /** Whether new harts translate hot blocks (the `translate` option overrides it). */
  static translateByDefault = true;
  /** Interpreter visits of a pc before its block is translated, for new harts (tests lower it). */
  static hotThresholdDefault = HOT_THRESHOLD;
  readonly regs = new Int32Array(32);
  pc = 0;
  icount = 0;
  tohostAddr = -1;
  readonly csr = new CsrFile();
  /** Word-aligned address of the LR reservation, or -1 (unprivileged spec §8.2). */
  reservation = NO_RESERVATION;
  /** Set when a trap had no usable handler; run() returns 'fault' until reset/restore. */
  faultMsg: string | null = null;
  /** tohost value of the last exit. */
  private tohostValue = 0;

  private readonly mem: Memory;
  private readonly mmio: Mmio;
  private readonly rvc: Int32Array;
  /**
   * Decoded-instruction cache, one entry per RAM halfword: 0 = not decoded yet; otherwise the
   * 32-bit instruction to execute, with bits [1:0] = 11 for a 32-bit instruction and 01 for an
   * expanded compressed one (the expansion's own low bits are always 11, so nothing is lost). An
   * illegal compressed encoding is cached as (bits << 16) | 0x7d: major opcode 0x1f is illegal.
   * It saves the RVC lookup and the alignment and straddle checks on every fetch. The typed
   * array is zero-filled lazily by the OS, so only pages that hold code cost memory.
   */
  private readonly icache: Int32Array;
  /** 1 for each RAM page whose cache entries may be nonzero: stores there must invalidate. */
  private readonly codePages: Uint8Array;
  /**
   * Block translation (translate.ts) on or off. Off, or where `new Function` is refused (a CSP
   * without 'unsafe-eval'), the interpreter runs everything; the results are identical either way.
   */
  translate: boolean;
  /** Visits of a pc before its block is translated (1: at the first visit). At most 65535. */
  hotThreshold = Hart.hotThresholdDefault;
  /** Per RAM page: the translated blocks that start (and end) in it, or undefined. */
  private jitPages: (JitPage | undefined)[];
  /** Per RAM halfword: how often the interpreter reached it with no block there (wraps; reset on translation). */
  private readonly hot: Uint16Array;
  /** st[0]: the pc a block leaves at; st[1]: 1 when it bailed out before an instruction. */
  private readonly st = new Int32Array(2);

  constructor(mem: Memory, mmio: Mmio, opts: { translate?: boolean } = {}) {
    this.mem = mem;
    this.mmio = mmio;
    this.rvc = rvcTable();
    this.icache = new Int32Array(mem.size >>> 1);
    this.codePages = new Uint8Array(mem.size >>> 12);
    this.translate = opts.translate ?? Hart.translateByDefault;
    this.jitPages = new Array<JitPage | undefined>(mem.size >>> 12);
    this.hot = new Uint16Array(mem.size >>> 1);
    mem.onExternalWrite ??= (offset, length) => this.invalidate(offset, length);
  }

  /**
   * Decode the instruction at RAM offset `off` into the cache and return it, or 0 when a 32-bit
   * instruction runs past the end of RAM (fetch access fault; not cached).
   */
  private fetchSlow(off: number): number {
    const lo = this.mem.u16[off >>> 1];
    let inst: number;
    if ((lo & 3) !== 3) {
      const e = this.rvc[lo];
      inst = e === 0 ? ((lo << 16) | 0x7d) : (e & ~3) | 1;
    } else {
      if (off + 2 >= this.mem.size) return 0;
      inst = lo | (this.mem.u16[(off + 2) >>> 1] << 16);
      this.codePages[(off + 2) >>> 12] = 1;
    }
    this.codePages[off >>> 12] = 1;
    this.icache[off >>> 1] = inst;
    return inst;
  }

  /** The hart stored to RAM offset `a` on a page holding decoded code: drop overlapping entries. */
  private codeWritten(a: number): void {
    const h = a >>> 1;
    const icache = this.icache;
    if (h > 0) icache[h - 1] = 0; // a 32-bit instruction starting 2 bytes earlier
    icache[h] = 0;
    if (h + 1 < icache.length) icache[h + 1] = 0; // the second halfword of a word store
    // The same halfwords: every instruction of a live block keeps a nonzero decode-cache entry,
    // which is what a translated store checks before writing (translate.ts).
    if (this.jitPages[a >>> 12] !== undefined) this.dropBlocks(Math.max(0, h - 1) * 2, (h + 2) * 2);
  }

  /** Drop every translated region whose bytes overlap RAM offsets [lo, hi). */
  private dropBlocks(lo: number, hi: number): void {
    const last = Math.min((hi - 1) >>> 12, this.jitPages.length - 1);
    for (let p = Math.max(0, lo) >>> 12; p <= last; p++) {
      const jp = this.jitPages[p];
      if (jp === undefined) continue;
      // Most calls come from a store to data that shares a page with code and overlap nothing:
      // those allocate nothing.
      if (!jp.list.some((x) => x.lo < hi && x.hi > lo)) continue;
      for (const b of jp.list.filter((x) => x.lo < hi && x.hi > lo)) this.removeBlock(jp, b);
      if (jp.list.length === 0) this.jitPages[p] = undefined;
    }
  }

  private removeBlock(jp: JitPage, b: Block): void {
    for (const e of b.entries) {
      const h = (e.off & 4095) >>> 1;
      if (jp.slots[h] === e) jp.slots[h] = undefined;
    }
    jp.list = jp.list.filter((x) => x !== b);
    if (jp.main === b) jp.main = undefined;
  }

  /**
   * RAM offset `off` is hot and no region has an entry there: translate the page's main region
   * anew with `off` as one more seed (while it has room and then reaches `off`), else a small
   * region of its own (SIDE_MAX); a stub when its instruction cannot start one. Returns the entry
   * at `off`.
   */
  private compile(off: number): Entry {
    const p = off >>> 12;
    let jp = this.jitPages[p];
    if (jp === undefined) {
      jp = { slots: new Array<Entry | undefined>(2048), list: [], main: undefined };
      this.jitPages[p] = jp;
    }
    const main = jp.main;
    let b = main !== undefined && main.size < MAX_BLOCK ? this.regrow(jp, main, off) : null;
    if (b === null) {
      b = translateRegion(this.fetchForTranslation, [off], this.mem.base, this.mem.size, main === undefined ? MAX_BLOCK : SIDE_MAX);
      if (b !== null && jp.main === undefined) jp.main = b;
    }
    if (b === null || !b.entries.some((e) => e.off === off)) b = stubAt(off);
    this.install(jp, b);
    return jp.slots[(off & 4095) >>> 1] as Entry;
  }

  private readonly fetchForTranslation = (o: number): number => this.icache[o >>> 1] || this.fetchSlow(o);

  /**
   * `old` translated anew with `off` as one more seed (`first`: before the others, so it gets in
   * even when their reach fills the region), in its place; null when that does not reach `off`.
   */
  private regrow(jp: JitPage, old: Block, off: number, first = false): Block | null {
    const seeds = first ? [off, ...old.seeds] : [...old.seeds, off];
    const b = translateRegion(this.fetchForTranslation, seeds, this.mem.base, this.mem.size);
    if (b === null || !b.entries.some((e) => e.off === off)) return null;
    const wasMain = jp.main === old;
    this.removeBlock(jp, old);
    if (wasMain) jp.main = b;
    return b;
  }

  private install(jp: JitPage, b: Block): void {
    // Visits counted before the region existed no longer say anything: start them anew.
    this.hot.fill(0, b.lo >>> 1, b.hi >>> 1);
    jp.list.push(b);
    for (const e of b.entries) jp.slots[(e.off & 4095) >>> 1] = e;
  }

  /**
   * Region `from` has left by a call (a JAL or JALR that links: a callee it had no room for, a
   * call through a function pointer) straight for the entry at `off` of another region of its
   * page often: translate `from` anew with `off` as one more seed, so such calls stay inside (a
   * JALR to a seed goes on inside). The way a JIT inlines the hot targets of a call, by profile.
   */
  private link(from: Block, off: number): void {
    const jp = this.jitPages[off >>> 12];
    if (jp === undefined || from.size >= MAX_BLOCK || !jp.list.includes(from)) return;
    const b = this.regrow(jp, from, off, true);
    if (b === null) return;
    this.install(jp, b);
    this.linked++;
  }

  /** Regions translated anew to take a hot call target in (Hart.link), for tests. */
  linked = 0;

  /** Translated regions currently cached (for tests). */
  get blockCount(): number {
    let n = 0;
    for (const jp of this.jitPages) if (jp !== undefined) n += jp.list.filter((b) => b.size > 0).length;
    return n;
  }

  /**
   * Misaligned loads and stores (unprivileged spec §2.6: the execution environment decides; most
   * cores complete them). Inside RAM they complete byte by byte, little-endian, off the hot path:
   * these run only after the aligned check has failed. One that is not wholly in RAM traps: an
   * access fault when it straddles the end of RAM (part of it reaches vacant addresses), an
   * address-misaligned exception anywhere else — the devices decode aligned registers only, and
   * §2.6 lets an EEI refuse misaligned accesses to regions with side effects (privileged spec §3.6.2:
   * misaligned support is a per-region attribute). `loadFault` picks that cause for a load.
   */
  private loadFault(a: number): number {
    return a < this.mem.size ? CAUSE_LOAD_ACCESS : CAUSE_LOAD_MISALIGNED;
  }

  /**
   * Stores `width` bytes of `v` at RAM offset `a` (misaligned); returns 0, or the trap cause with
   * nothing written. Marks every page written dirty (the state hash rereads them) and drops the
   * decoded instructions the bytes overlap, on both pages when the store straddles two.
   */
  private storeMisaligned(a: number, width: number, v: number): number {
    const mem = this.mem;
    if (a > mem.size - width) return a < mem.size ? CAUSE_STORE_ACCESS : CAUSE_STORE_MISALIGNED;
    const last = a + width - 1;
    for (let i = 0; i < width; i++) mem.u8[a + i] = v >>> (8 * i);
    mem.dirty[a >>> 12] = 1;
    mem.dirty[last >>> 12] = 1;
    if (this.codePages[a >>> 12] !== 0 || this.codePages[last >>> 12] !== 0) {
      this.codeWritten(a); // the halfwords from (a >> 1) - 1 ...
      this.codeWritten(last); // ... to (last >> 1) + 1 cover every instruction the bytes overlap
    }
    return 0;
  }

  get nondet(): NondetSource {
    return this.csr.nondet;
  }
  set nondet(src: NondetSource) {
    this.csr.nondet = src;
  }

  reset(entryPc: number): void {
    this.regs.fill(0);
    this.pc = entryPc >>> 0;
    this.icount = 0;
    this.csr.reset();
    this.reservation = NO_RESERVATION;
    this.faultMsg = null;
  }

  /** Drive one mip bit (a device's interrupt line). Takes effect before the next instruction. */
  setIrq(bit: number, level: boolean): void {
    const mask = 1 << bit;
    if ((mask & MIE_WRITABLE) === 0 || bit > 31) throw new Error(`setIrq: mip bit ${bit} is not an interrupt line of this hart`);
    if (level) this.csr.mip |= mask;
    else this.csr.mip &= ~mask;
  }

  /** A write from outside the hart (DMA, loader) touched RAM [offset, offset+length). */
  invalidate(offset: number, length: number): void {
    if (length <= 0) return;
    if (offset === 0 && length >= this.mem.size) {
      this.icache.fill(0);
      this.codePages.fill(0);
      this.jitPages = new Array<JitPage | undefined>(this.mem.size >>> 12);
    } else {
      // From the halfword before (a 32-bit instruction may start there) to the end of the range;
      // blocks over the same halfwords go too (see codeWritten).
      const first = Math.max(0, (offset >>> 1) - 1);
      const end = Math.min(this.icache.length, (offset + length + 1) >>> 1);
      if (first < end) this.icache.fill(0, first, end);
      this.dropBlocks(first * 2, end * 2);
    }
    // The LR reservation is left alone: a snapshot restore replaces RAM after restoring the hart,
    // and must not lose the restored reservation (a DMA write is not a store by another hart).
  }

  /** Pending and enabled interrupt bit by priority, or -1. */
  private pendingInterrupt(): number {
    const csr = this.csr;
    if ((csr.mstatus & MSTATUS_MIE) === 0) return -1;
    const ready = csr.mip & csr.mie;
    if (ready === 0) return -1;
    for (const bit of IRQ_PRIORITY) if (ready & (1 << bit)) return bit;
    return -1;
  }

  /**
   * Enter the trap handler (privileged spec §3.1.6-3.1.7, §3.3.1): returns the handler pc as an
   * int32, or -1
   * when it is not in RAM (or is the very instruction that trapped: a loop that never retires),
   * in which case the hart records a fault and nothing changes.
   */
  private trap(pc: number, cause: number, tval: number): number {
    const csr = this.csr;
    const base = csr.mtvec & ~3;
    const vectored = (csr.mtvec & 1) === 1 && cause < 0;
    const target = (vectored ? base + 4 * (cause & 0x7fff_ffff) : base) >>> 0;
    if (!this.mem.contains(target, 2)) {
      this.faultMsg = `${describeTrap(pc, cause, tval)}, no trap handler (mtvec=0x${(csr.mtvec >>> 0).toString(16)})`;
      return -1;
    }
    if (target === pc >>> 0 && cause >= 0) {
      this.faultMsg = `${describeTrap(pc, cause, tval)}: the trap handler itself traps, which would loop forever`;
      return -1;
    }
    csr.mepc = pc & ~1;
    csr.mcause = cause | 0;
    csr.mtval = tval | 0;
    const mie = csr.mstatus & MSTATUS_MIE;
    csr.mstatus = (csr.mstatus & ~(MSTATUS_MIE | MSTATUS_MPIE)) | (mie ? MSTATUS_MPIE : 0);
    return target | 0; // int32 like the loop's pc; -1 is never a (4-aligned) handler address
  }

  private stop(retired: number, reason: StopReason): RunResult {
    if (reason === 'exit') return { retired, reason, tohost: this.tohostValue };
    if (reason === 'fault') return { retired, reason, fault: this.faultMsg ?? 'fault' };
    return { retired, reason };
  }

  /** CSR instruction (Zicsr, spec ch. 9). Returns false when it is illegal. */
  private csrOp(inst: number, icount: number): boolean {
    const f3 = (inst >>> 12) & 7;
    const rd = (inst >>> 7) & 31;
    const rs1 = (inst >>> 15) & 31;
    const num = inst >>> 20;
    const src = f3 >= 5 ? rs1 : this.regs[rs1];
    // csrrw with rd = x0 does not read; csrrs/csrrc with a zero source register/immediate do not write.
    const op = f3 & 3;
    const writes = op === 1 || rs1 !== 0;
    let old = 0;
    if (op !== 1 || rd !== 0) {
      const v = this.csr.read(num, icount);
      if (v === undefined) return false;
      old = v;
    } else if (this.csr.read(num === 0xc01 || num === 0xc81 ? 0xc00 : num, icount) === undefined) {
      return false; // existence check without the side effect of a time read
    }
    if (writes) {
      const value = op === 1 ? src : op === 2 ? old | src : old & ~src;
      if (!this.csr.write(num, value, icount)) return false;
    }
    if (rd !== 0) this.regs[rd] = old;
    return true;
  }

  run(budget: number): RunResult {
    if (this.faultMsg !== null) return this.stop(0, 'fault');
    const regs = this.regs;
    const csr = this.csr;
    const mem = this.mem;
    const mmio = this.mmio;
    const icache = this.icache;
    const codePages = this.codePages;
    const u8 = mem.u8;
    const u16 = mem.u16;
    const i32 = mem.i32;
    const dirty = mem.dirty;
    // pc and base stay int32 in the loop (addresses >= 2^31 are negative) so V8 keeps them in
    // registers as machine words; offsets are (addr - base) >>> 0.
    const base = mem.base | 0;
    const size = mem.size;
    const tohost = this.tohostAddr === -1 ? -1 : this.tohostAddr >>> 0;
    const icount0 = this.icount;
    let pc = this.pc | 0;
    let count = 0;
    let reason: StopReason = 'budget';
    const jit = this.translate && translationAvailable();
    const hot = this.hot;
    const st = this.st;
    const threshold = this.hotThreshold;
    const tohostOff = tohost === -1 ? -1 : ((tohost - base) >>> 0);
    let interpretNext = false; // after a block bails out, the interpreter runs that instruction
    let from: Block | null = null; // the region whose call led straight here, for Hart.link

    outer: while (count < budget) {
      // Interrupt check (privileged spec §3.1.9): before the next instruction, not an instruction.
      if ((csr.mstatus & MSTATUS_MIE) !== 0 && (csr.mip & csr.mie) !== 0) {
        const target = this.trap(pc, CAUSE_INTERRUPT | this.pendingInterrupt(), 0);
        if (target === -1) { reason = 'fault'; break; }
        pc = target;
      }
      while (count < budget) {
        const off = (pc - base) >>> 0;
        if (off >= size) {
          const t = this.trap(pc, CAUSE_FETCH_ACCESS, pc);
          if (t === -1) { reason = 'fault'; break outer; }
          pc = t;
          continue;
        }
        if (jit && !interpretNext) {
          const jp = this.jitPages[off >>> 12];
          let en = jp === undefined ? undefined : jp.slots[(off & 4095) >>> 1];
          if (en === undefined && ++hot[off >>> 1] >= threshold) {
            hot[off >>> 1] = 0;
            en = this.compile(off);
          }
          if (en !== undefined && en.n <= budget - count) {
            if (from !== null && from !== en.block && ++en.hits === LINK_HITS) this.link(from, en.off);
            const k = en.fn(regs, u8, u16, i32, dirty, icache, codePages, st, tohostOff, MUL, Math.min(budget - count, CALL_BUDGET), en.label);
            count += k;
            pc = st[0];
            from = null;
            if (st[1] !== 0) {
              if (st[1] === 1) interpretNext = true; // a bail-out: the interpreter runs that instruction
              else from = en.block; // left by a call
              st[1] = 0;
            }
            continue;
          }
        }
        from = null;
        interpretNext = false;
        let inst = icache[off >>> 1];
        if (inst === 0) {
          inst = this.fetchSlow(off);
          if (inst === 0) { // a 32-bit instruction whose second half lies past the end of RAM
            const t = this.trap(pc, CAUSE_FETCH_ACCESS, (pc + 2) | 0);
            if (t === -1) { reason = 'fault'; break outer; }
            pc = t;
            continue;
          }
        }
        // Bit 1 of a cached word is 1 for a 32-bit instruction, 0 for an expanded compressed one.
        const next = (pc + 2 + (inst & 2)) | 0;
        const rd = (inst >>> 7) & 31;
        let cause = CAUSE_ILLEGAL;
        let tval = inst;
        exec: switch ((inst >>> 2) & 31) {
          case 0x0d: // LUI
            regs[rd] = inst & 0xfffff000;
            regs[0] = 0;
            pc = next; count++;
            continue;
          case 0x05: // AUIPC
            regs[rd] = (pc + (inst & 0xfffff000)) | 0;
            regs[0] = 0;
            pc = next; count++;
            continue;
          case 0x1b: { // JAL: imm[20|10:1|11|19:12]
            const imm = ((inst >> 31) << 20) | (((inst >>> 21) & 0x3ff) << 1) | (((inst >>> 20) & 1) << 11) | (inst & 0xff000);
            regs[rd] = next;
            regs[0] = 0;
            pc = (pc + imm) | 0; count++;
            continue;
          }
          case 0x19: { // JALR (funct3 000); target bit 0 cleared, bit 1 legal with C
            if ((inst & 0x7000) !== 0) break;
            const target = (regs[(inst >>> 15) & 31] + (inst >> 20)) & ~1;
            regs[rd] = next;
            regs[0] = 0;
            pc = target; count++;
            continue;
          }
          case 0x18: { // BRANCH: imm[12|10:5] inst[31:25], imm[4:1|11] inst[11:7]
            const a = regs[(inst >>> 15) & 31];
            const b = regs[(inst >>> 20) & 31];
            let taken: boolean;
            switch ((inst >>> 12) & 7) {
              case 0: taken = a === b; break;
              case 1: taken = a !== b; break;
              case 4: taken = a < b; break;
              case 5: taken = a >= b; break;
              case 6: taken = (a >>> 0) < (b >>> 0); break;
              case 7: taken = (a >>> 0) >= (b >>> 0); break;
              default: break exec;
            }
            if (taken) {
              pc = (pc + (((inst >> 31) << 12) | (((inst >>> 25) & 0x3f) << 5) | (((inst >>> 8) & 15) << 1) | (((inst >>> 7) & 1) << 11))) | 0;
            } else {
              pc = next;
            }
            count++;
            continue;
          }
          case 0x04: { // OP-IMM
            const a = regs[(inst >>> 15) & 31];
            const imm = inst >> 20;
            switch ((inst >>> 12) & 7) {
              case 0: regs[rd] = (a + imm) | 0; break;
              case 1: if ((inst >>> 25) !== 0) break exec; regs[rd] = a << (imm & 31); break;
              case 2: regs[rd] = a < imm ? 1 : 0; break;
              case 3: regs[rd] = (a >>> 0) < (imm >>> 0) ? 1 : 0; break;
              case 4: regs[rd] = a ^ imm; break;
              case 5:
                if ((inst >>> 25) === 0) regs[rd] = a >>> (imm & 31);
                else if ((inst >>> 25) === 0x20) regs[rd] = a >> (imm & 31);
                else break exec;
                break;
              case 6: regs[rd] = a | imm; break;
              default: regs[rd] = a & imm; break;
            }
            regs[0] = 0;
            pc = next; count++;
            continue;
          }
          case 0x0c: { // OP (funct7 0, 0x20 for sub/sra, 1 for M)
            const a = regs[(inst >>> 15) & 31];
            const b = regs[(inst >>> 20) & 31];
            const f7 = inst >>> 25;
            if (f7 === 0) {
              switch ((inst >>> 12) & 7) {
                case 0: regs[rd] = (a + b) | 0; break;
                case 1: regs[rd] = a << (b & 31); break;
                case 2: regs[rd] = a < b ? 1 : 0; break;
                case 3: regs[rd] = (a >>> 0) < (b >>> 0) ? 1 : 0; break;
                case 4: regs[rd] = a ^ b; break;
                case 5: regs[rd] = a >>> (b & 31); break;
                case 6: regs[rd] = a | b; break;
                default: regs[rd] = a & b; break;
              }
            } else if (f7 === 1) {
              // M extension (spec ch. 7); division by zero and overflow per Table 7.1, no trap.
              switch ((inst >>> 12) & 7) {
                case 0: regs[rd] = Math.imul(a, b); break;
                case 1: regs[rd] = mulh(a, b); break;
                case 2: regs[rd] = mulhsu(a, b); break;
                case 3: regs[rd] = mulhu(a, b); break;
                case 4: regs[rd] = b === 0 ? -1 : (a === -0x8000_0000 && b === -1) ? a : (a / b) | 0; break;
                case 5: // int32 fast path when both are below 2^31: V8 then divides in integer registers
                  regs[rd] = b === 0 ? -1 : (a >= 0 && b > 0) ? (a / b) | 0 : ((a >>> 0) / (b >>> 0)) | 0; break;
                case 6: regs[rd] = b === 0 ? a : b === -1 ? 0 : (a % b) | 0; break;
                default: regs[rd] = b === 0 ? a : (a >= 0 && b > 0) ? a % b : ((a >>> 0) % (b >>> 0)) | 0; break;
              }
            } else if (f7 === 0x20) {
              const f3 = (inst >>> 12) & 7;
              if (f3 === 0) regs[rd] = (a - b) | 0;
              else if (f3 === 5) regs[rd] = a >> (b & 31);
              else break;
            } else {
              break;
            }
            regs[0] = 0;
            pc = next; count++;
            continue;
          }
          case 0x00: { // LOAD
            const addr = (regs[(inst >>> 15) & 31] + (inst >> 20)) | 0;
            const a = (addr - base) >>> 0;
            const f3 = (inst >>> 12) & 7;
            let v: number;
            if (f3 === 2) { // LW
              if (a & 3) { // misaligned: RAM completes byte by byte (see loadFault)
                if (a > size - 4) { cause = this.loadFault(a); tval = addr; break; }
                v = u8[a] | (u8[a + 1] << 8) | (u8[a + 2] << 16) | (u8[a + 3] << 24);
              } else if (a < size) v = i32[a >>> 2];
              else {
                this.icount = icount0 + count;
                const m = mmio.load(addr >>> 0, 4);
                if (m === null) { cause = CAUSE_LOAD_ACCESS; tval = addr; break; }
                v = m | 0;
              }
            } else if (f3 === 0 || f3 === 4) { // LB, LBU
              if (a < size) v = u8[a];
              else {
                this.icount = icount0 + count;
                const m = mmio.load(addr >>> 0, 1);
                if (m === null) { cause = CAUSE_LOAD_ACCESS; tval = addr; break; }
                v = m & 0xff;
              }
              if (f3 === 0) v = (v << 24) >> 24;
            } else if (f3 === 1 || f3 === 5) { // LH, LHU
              if (a & 1) {
                if (a > size - 2) { cause = this.loadFault(a); tval = addr; break; }
                v = u8[a] | (u8[a + 1] << 8);
              } else if (a < size) v = u16[a >>> 1];
              else {
                this.icount = icount0 + count;
                const m = mmio.load(addr >>> 0, 2);
                if (m === null) { cause = CAUSE_LOAD_ACCESS; tval = addr; break; }
                v = m & 0xffff;
              }
              if (f3 === 1) v = (v << 16) >> 16;
            } else {
              break;
            }
            regs[rd] = v;
            regs[0] = 0;
            pc = next; count++;
            if (a < size) continue;
            continue outer; // a device read may have changed an interrupt line
          }
          case 0x08: { // STORE: imm[11:5] inst[31:25], imm[4:0] inst[11:7]
            const addr = (regs[(inst >>> 15) & 31] + (((inst >> 25) << 5) | rd)) | 0;
            const a = (addr - base) >>> 0;
            const v = regs[(inst >>> 20) & 31];
            const f3 = (inst >>> 12) & 7;
            let width: 1 | 2 | 4;
            if (f3 === 2) width = 4;
            else if (f3 === 0) width = 1;
            else if (f3 === 1) width = 2;
            else break;
            if (a & (width - 1)) { // misaligned: slow path, RAM completes byte by byte
              cause = this.storeMisaligned(a, width, v);
              if (cause !== 0) { tval = addr; break; }
              pc = next; count++;
              continue;
            }
            if (a < size) {
              if (width === 4) i32[a >>> 2] = v;
              else if (width === 1) u8[a] = v;
              else u16[a >>> 1] = v;
              dirty[a >>> 12] = 1;
              if (codePages[a >>> 12] !== 0) this.codeWritten(a);
              pc = next; count++;
              if ((addr >>> 0) === tohost && width === 4 && v !== 0) {
                this.tohostValue = v >>> 0;
                reason = 'exit';
                break outer;
              }
              continue;
            }
            this.icount = icount0 + count;
            if (!mmio.store(addr >>> 0, width, width === 4 ? v : v & (width === 1 ? 0xff : 0xffff))) {
              cause = CAUSE_STORE_ACCESS; tval = addr; break;
            }
            pc = next; count++;
            if ((addr >>> 0) === tohost && width === 4 && v !== 0) {
              this.tohostValue = v >>> 0;
              reason = 'exit';
              break outer;
            }
            continue outer; // a device write may have changed an interrupt line
          }
          case 0x0b: { // AMO (A extension, spec ch. 8): 32-bit only
            if (((inst >>> 12) & 7) !== 2) break;
            const addr = regs[(inst >>> 15) & 31];
            const a = (addr - base) >>> 0;
            const f5 = inst >>> 27;
            if (f5 === 2) { // LR.W
              if (((inst >>> 20) & 31) !== 0) break;
              if (a & 3) { cause = CAUSE_LOAD_MISALIGNED; tval = addr; break; }
              if (a >= size) { cause = CAUSE_LOAD_ACCESS; tval = addr; break; }
              regs[rd] = i32[a >>> 2];
              regs[0] = 0;
              this.reservation = addr;
              pc = next; count++;
              continue;
            }
            if (a & 3) { cause = CAUSE_STORE_MISALIGNED; tval = addr; break; }
            if (a >= size) { cause = CAUSE_STORE_ACCESS; tval = addr; break; }
            const b = regs[(inst >>> 20) & 31];
            const w = a >>> 2;
            if (f5 === 3) { // SC.W: succeeds only with a live reservation on this address
              const ok = this.reservation === addr;
              this.reservation = NO_RESERVATION;
              if (ok) {
                i32[w] = b;
                dirty[a >>> 12] = 1;
                if (codePages[a >>> 12] !== 0) this.codeWritten(a);
              }
              regs[rd] = ok ? 0 : 1;
              regs[0] = 0;
              pc = next; count++;
              continue;
            }
            const old = i32[w];
            let nv: number;
            switch (f5) {
              case 0x00: nv = (old + b) | 0; break; // AMOADD
              case 0x01: nv = b; break; // AMOSWAP
              case 0x04: nv = old ^ b; break; // AMOXOR
              case 0x08: nv = old | b; break; // AMOOR
              case 0x0c: nv = old & b; break; // AMOAND
              case 0x10: nv = old < b ? old : b; break; // AMOMIN
              case 0x14: nv = old > b ? old : b; break; // AMOMAX
              case 0x18: nv = (old >>> 0) < (b >>> 0) ? old : b; break; // AMOMINU
              case 0x1c: nv = (old >>> 0) > (b >>> 0) ? old : b; break; // AMOMAXU
              default: break exec;
            }
            i32[w] = nv;
            dirty[a >>> 12] = 1;
            if (codePages[a >>> 12] !== 0) this.codeWritten(a);
            regs[rd] = old;
            regs[0] = 0;
            pc = next; count++;
            continue;
          }
          // MISC-MEM: FENCE is a no-op on one hart. FENCE.I has nothing to drop either: the decoded
          // instruction cache is kept coherent on every store, so it never holds stale code.
          case 0x03: {
            const f3 = (inst >>> 12) & 7;
            if (f3 !== 0 && f3 !== 1) break;
            pc = next; count++;
            continue;
          }
          case 0x1c: { // SYSTEM
            if (((inst >>> 12) & 7) !== 0) {
              if (((inst >>> 12) & 7) === 4) break;
              if (!this.csrOp(inst, icount0 + count)) break;
              pc = next; count++;
              continue outer; // mstatus/mie may now allow an interrupt
            }
            const sys = inst | 3; // c.ebreak arrives with its low bits marked compressed
            if (sys === 0x00000073) { cause = CAUSE_ECALL_M; tval = 0; break; }
            if (sys === 0x00100073) { cause = CAUSE_BREAKPOINT; tval = pc; break; } // mtval = pc (§3.1.16 allows it)
            if (sys === 0x30200073) { // MRET (privileged §3.3.2): MIE = MPIE, MPIE = 1, MPP stays M
              const mpie = csr.mstatus & MSTATUS_MPIE;
              csr.mstatus = (csr.mstatus & ~MSTATUS_MIE) | MSTATUS_MPIE | (mpie ? MSTATUS_MIE : 0);
              pc = csr.mepc; count++;
              continue outer;
            }
            if (sys === 0x10500073) { // WFI: retires; stops the run unless an interrupt is already waiting
              pc = next; count++;
              if ((csr.mip & csr.mie) === 0) { reason = 'wfi'; break outer; }
              continue outer;
            }
            break;
          }
          default:
            break;
        }
        // Synchronous exception: the instruction does not retire (privileged §3.1.15).
        if (cause === CAUSE_ILLEGAL) tval = (inst & 3) === 3 ? inst : inst >>> 16;
        const t = this.trap(pc, cause, tval);
        if (t === -1) { reason = 'fault'; break outer; }
        pc = t;
      }
    }
    this.pc = pc >>> 0;
    this.icount = icount0 + count;
    return this.stop(count, reason);
  }

  /** Registers, pc, icount, CSRs, reservation, tohost address and fault message. */
  snapshot(): ArrayBuffer {
    const msg = new TextEncoder().encode(this.faultMsg ?? '');
    const buf = new ArrayBuffer(SNAP_WORDS_FIXED * 4 + ((msg.length + 3) & ~3));
    const w = new Int32Array(buf, 0, SNAP_WORDS_FIXED);
    w[0] = SNAPSHOT_MAGIC;
    w[1] = SNAPSHOT_VERSION;
    w.set(this.stateWords(), 2);
    w[2 + STATE_WORDS] = this.tohostAddr;
    w[3 + STATE_WORDS] = this.faultMsg === null ? -1 : msg.length;
    new Uint8Array(buf, SNAP_WORDS_FIXED * 4).set(msg);
    return buf;
  }

  restore(buf: ArrayBuffer): void {
    if (buf.byteLength < SNAP_WORDS_FIXED * 4) {
      throw new Error(`hart snapshot is ${buf.byteLength} bytes, expected at least ${SNAP_WORDS_FIXED * 4}`);
    }
    const w = new Int32Array(buf, 0, SNAP_WORDS_FIXED);
    if (w[0] !== SNAPSHOT_MAGIC) throw new Error('hart snapshot: bad magic (not a hart snapshot)');
    if (w[1] !== SNAPSHOT_VERSION) throw new Error(`hart snapshot: version ${w[1]}, this build reads version ${SNAPSHOT_VERSION}`);
    const msgLen = w[3 + STATE_WORDS];
    const expected = SNAP_WORDS_FIXED * 4 + ((Math.max(msgLen, 0) + 3) & ~3);
    if (msgLen < -1 || buf.byteLength !== expected) {
      throw new Error(`hart snapshot is ${buf.byteLength} bytes, expected ${expected}`);
    }
    this.regs.set(w.subarray(2, 34));
    this.regs[0] = 0;
    this.pc = w[34] >>> 0;
    this.icount = (w[35] >>> 0) + (w[36] >>> 0) * 0x1_0000_0000;
    this.csr.fromWords(w, 37);
    this.reservation = w[37 + CSR_WORDS];
    this.tohostAddr = w[2 + STATE_WORDS] === -1 ? -1 : w[2 + STATE_WORDS] >>> 0;
    this.faultMsg = msgLen < 0 ? null : new TextDecoder().decode(new Uint8Array(buf, SNAP_WORDS_FIXED * 4, msgLen));
  }

  /** Registers, pc, icount (lo, hi), CSRs and reservation as words for the state hash. */
  stateWords(): Int32Array {
    const out = new Int32Array(STATE_WORDS);
    out.set(this.regs, 0);
    out[32] = this.pc;
    out[33] = this.icount % 0x1_0000_0000;
    out[34] = Math.floor(this.icount / 0x1_0000_0000);
    this.csr.toWords(out, 35);
    out[35 + CSR_WORDS] = this.reservation;
    return out;
  }
}
