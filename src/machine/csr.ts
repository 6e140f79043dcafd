/**
 * Machine-mode control and status registers (privileged spec §2, §3.1). Only machine mode exists,
 * so the set is small. CSR instructions are off the hot path: the hart calls `read`/`write` here.
 *
 * Counters (privileged spec §3.1.10, unprivileged spec ch. 10 "Counters"): mcycle and minstret are
 * the hart's retired-instruction count (`icount`) plus a per-counter 64-bit offset, so a guest may
 * write them while `icount` itself — what the FT layer counts by — never changes. The offsets are
 * CPU state (snapshot, state hash). cycle/instret(h) are read-only views of the same two counters.
 * Write timing, unprivileged spec §9.1 (Zicsr): for a CSR the instruction itself would increment,
 * "the write is done instead of the increment ... a value written to instret by one instruction will
 * be the value read by the following instruction". So a write of V at icount n makes the counter
 * read V at icount n+1; a write to one half keeps the other half as it would read after the
 * instruction. `time`/`timeh` are host time and come from the injected NondetSource.
 *
 * Also here as plain storage: the debug trigger CSRs with zero triggers (debug spec 1.0 §5.7,
 * Sdtrig) and the PMP CSRs (privileged spec §3.7.1), which this M-mode-only machine stores (WARL,
 * lock bit honoured for writes) but does not enforce.
 */
import type { NondetSource } from './types';

// CSR numbers (privileged spec Table 2.2-2.5).
export const CSR_MSTATUS = 0x300;
export const CSR_MISA = 0x301;
export const CSR_MIE = 0x304;
export const CSR_MTVEC = 0x305;
export const CSR_MSTATUSH = 0x310;
export const CSR_MSCRATCH = 0x340;
export const CSR_MEPC = 0x341;
export const CSR_MCAUSE = 0x342;
export const CSR_MTVAL = 0x343;
export const CSR_MIP = 0x344;
export const CSR_PMPCFG0 = 0x3a0; // ..0x3a3: four entries per register on RV32
export const CSR_PMPADDR0 = 0x3b0; // ..0x3bf
export const CSR_TSELECT = 0x7a0;
export const CSR_TDATA1 = 0x7a1;
export const CSR_TDATA2 = 0x7a2;
export const CSR_TDATA3 = 0x7a3;
export const CSR_MCYCLE = 0xb00;
export const CSR_MINSTRET = 0xb02;
export const CSR_MCYCLEH = 0xb80;
export const CSR_MINSTRETH = 0xb82;
export const CSR_CYCLE = 0xc00;
export const CSR_TIME = 0xc01;
export const CSR_INSTRET = 0xc02;
export const CSR_CYCLEH = 0xc80;
export const CSR_TIMEH = 0xc81;
export const CSR_INSTRETH = 0xc82;
export const CSR_MVENDORID = 0xf11;
export const CSR_MARCHID = 0xf12;
export const CSR_MIMPID = 0xf13;
export const CSR_MHARTID = 0xf14;
export const CSR_MCONFIGPTR = 0xf15;

// mstatus fields (§3.1.6). MPP is hard-wired to M (3): there is no other privilege mode.
export const MSTATUS_MIE = 1 << 3;
export const MSTATUS_MPIE = 1 << 7;
export const MSTATUS_MPP = 3 << 11;

/** misa: MXL=1 (RV32) and extensions A, C, I, M (§3.1.1). */
export const MISA_VALUE = (0x4000_0000 | (1 << 0) | (1 << 2) | (1 << 8) | (1 << 12)) | 0;

// Interrupt bits in mip/mie (§3.1.9); 16..18 are the platform device lines (memmap.ts IRQ_*).
export const MIP_MSIP = 1 << 3;
export const MIP_MTIP = 1 << 7;
export const MIP_MEIP = 1 << 11;
/** Bits a device may drive and software may enable. */
export const MIE_WRITABLE = MIP_MSIP | MIP_MTIP | MIP_MEIP | (7 << 16);
/** Interrupt priority, highest first (§3.1.9: MEI, MSI, MTI; platform bits lowest first). */
export const IRQ_PRIORITY: readonly number[] = [11, 3, 7, 16, 17, 18];

// mcause exception codes (§3.1.15, Table 3.6).
export const CAUSE_FETCH_ACCESS = 1;
export const CAUSE_ILLEGAL = 2;
export const CAUSE_BREAKPOINT = 3;
export const CAUSE_LOAD_MISALIGNED = 4;
export const CAUSE_LOAD_ACCESS = 5;
export const CAUSE_STORE_MISALIGNED = 6;
export const CAUSE_STORE_ACCESS = 7;
export const CAUSE_ECALL_M = 11;
export const CAUSE_INTERRUPT = 0x8000_0000 | 0;

const CAUSE_NAMES: Record<number, string> = {
  0: 'instruction address misaligned',
  1: 'instruction access fault',
  2: 'illegal instruction',
  3: 'breakpoint',
  4: 'load address misaligned',
  5: 'load access fault',
  6: 'store/AMO address misaligned',
  7: 'store/AMO access fault',
  11: 'environment call from M-mode',
};

/** Human-readable cause, for fault messages. */
export function causeName(cause: number): string {
  if (cause < 0) return `interrupt ${cause & 0x7fff_ffff}`;
  return CAUSE_NAMES[cause] ?? `exception ${cause}`;
}

const TWO32 = 0x1_0000_0000;

/**
 * mcycle or minstret: reads the retired-instruction count plus a 64-bit offset kept as two u32
 * words, all arithmetic mod 2^64 (icount stays below 2^53, so every step is exact in doubles).
 */
export class CounterOffset {
  lo = 0;
  hi = 0;

  /** Low word of the counter once `icount` instructions have retired. */
  low(icount: number): number {
    return ((icount % TWO32) + this.lo) | 0;
  }

  high(icount: number): number {
    const carry = (icount % TWO32) + this.lo >= TWO32 ? 1 : 0;
    return (Math.floor(icount / TWO32) + this.hi + carry) | 0;
  }

  /** Makes the counter read hi:lo once `icount` instructions have retired. */
  set(icount: number, lo: number, hi: number): void {
    const iLo = icount % TWO32;
    const borrow = (lo >>> 0) < iLo ? 1 : 0;
    this.lo = ((lo >>> 0) - iLo) >>> 0;
    this.hi = ((hi >>> 0) - Math.floor(icount / TWO32) - borrow) >>> 0;
  }

  /** The write by the instruction at `icount` is what the next instruction reads (Zicsr §9.1). */
  writeLow(icount: number, value: number): void {
    this.set(icount + 1, value, this.high(icount + 1));
  }

  writeHigh(icount: number, value: number): void {
    this.set(icount + 1, this.low(icount + 1), value);
  }
}

// PMP (privileged spec §3.7.1). 16 entries: pmpcfg0-3 hold four 8-bit configs each (RV32),
// pmpaddr0-15 hold address bits 33:2. Entries 16-63 (pmpcfg4-15, pmpaddr16-63) are read-only zero,
// which the spec allows ("All PMP CSR fields are WARL and may be read-only zero").
export const PMP_ENTRIES = 16;
export const PMP_R = 0x01;
export const PMP_W = 0x02;
export const PMP_A_TOR = 0x08; // A field (bits 4:3) = 1
export const PMP_A = 0x18;
export const PMP_L = 0x80;
/** R, W, X, A and L; bits 6:5 are reserved and read zero. */
const PMP_CFG_MASK = 0x9f;

/** WARL legalisation of one pmpcfg byte: reserved bits zero, and R=0 W=1 (reserved) becomes R=0 W=0. */
export function legalPmpCfg(b: number): number {
  const v = b & PMP_CFG_MASK;
  return (v & (PMP_R | PMP_W)) === PMP_W ? v & ~PMP_W : v;
}

/** Number of 32-bit words `CsrFile.toWords` produces. */
export const CSR_WORDS = 8 + 4 + PMP_ENTRIES / 4 + PMP_ENTRIES;

export class CsrFile {
  mstatus = MSTATUS_MPP;
  mie = 0;
  /** Driven by devices through Hart.setIrq; software writes are ignored (§3.1.9: MTIP/MSIP/MEIP are read-only in mip here). */
  mip = 0;
  mtvec = 0;
  mepc = 0;
  mcause = 0;
  mtval = 0;
  mscratch = 0;
  readonly mcycle = new CounterOffset();
  readonly minstret = new CounterOffset();
  /** One config byte per PMP entry, always legal (see legalPmpCfg). */
  readonly pmpcfg = new Uint8Array(PMP_ENTRIES);
  readonly pmpaddr = new Int32Array(PMP_ENTRIES);
  nondet: NondetSource = {
    read: (kind) => {
      throw new Error(`the time CSR was read (${kind}) but no NondetSource is attached to the hart`);
    },
  };

  reset(): void {
    this.mstatus = MSTATUS_MPP;
    this.mie = 0;
    this.mip = 0;
    this.mtvec = 0;
    this.mepc = 0;
    this.mcause = 0;
    this.mtval = 0;
    this.mscratch = 0;
    this.mcycle.set(0, 0, 0);
    this.minstret.set(0, 0, 0);
    this.pmpcfg.fill(0); // §3.7.1: A and L reset to zero
    this.pmpaddr.fill(0);
  }

  /**
   * Value of CSR `num`, or undefined when no such CSR exists (→ illegal instruction).
   * `icount` is the number of instructions retired before the reading instruction.
   */
  read(num: number, icount: number): number | undefined {
    switch (num) {
      case CSR_MSTATUS: return this.mstatus | MSTATUS_MPP;
      case CSR_MISA: return MISA_VALUE;
      case CSR_MIE: return this.mie;
      case CSR_MTVEC: return this.mtvec;
      case CSR_MSTATUSH: return 0;
      case CSR_MSCRATCH: return this.mscratch;
      case CSR_MEPC: return this.mepc;
      case CSR_MCAUSE: return this.mcause;
      case CSR_MTVAL: return this.mtval;
      case CSR_MIP: return this.mip;
      case CSR_MCYCLE: case CSR_CYCLE: return this.mcycle.low(icount);
      case CSR_MCYCLEH: case CSR_CYCLEH: return this.mcycle.high(icount);
      case CSR_MINSTRET: case CSR_INSTRET: return this.minstret.low(icount);
      case CSR_MINSTRETH: case CSR_INSTRETH: return this.minstret.high(icount);
      case CSR_TIME: return this.nondet.read('time-lo', icount) | 0;
      case CSR_TIMEH: return this.nondet.read('time-hi', icount) | 0;
      case CSR_MVENDORID: case CSR_MARCHID: case CSR_MIMPID: case CSR_MHARTID: case CSR_MCONFIGPTR:
        return 0;
      // Debug spec 1.0 §5.7.1-5.7.2: tselect only ever holds 0, and tdata1 type 0 says "no trigger here".
      case CSR_TSELECT: case CSR_TDATA1: case CSR_TDATA2: case CSR_TDATA3:
        return 0;
      default: return this.readPmp(num);
    }
  }

  private readPmp(num: number): number | undefined {
    const cfg = num - CSR_PMPCFG0;
    if (cfg >= 0 && cfg < PMP_ENTRIES / 4) {
      const c = this.pmpcfg;
      return c[4 * cfg] | (c[4 * cfg + 1] << 8) | (c[4 * cfg + 2] << 16) | (c[4 * cfg + 3] << 24);
    }
    if (cfg >= 0 && cfg < 16) return 0; // pmpcfg4-15: entries 16-63 are read-only zero
    const addr = num - CSR_PMPADDR0;
    if (addr >= 0 && addr < PMP_ENTRIES) return this.pmpaddr[addr];
    if (addr >= 0 && addr < 64) return 0;
    return undefined;
  }

  /**
   * Write CSR `num` by the instruction at `icount` (instructions retired before it); false when the
   * CSR does not exist or is read-only (→ illegal instruction). Read-only CSRs have bits [11:10] == 3
   * (§2.1), so cycle/instret/time and the ID registers refuse writes.
   */
  write(num: number, value: number, icount: number): boolean {
    switch (num) {
      case CSR_MSTATUS: this.mstatus = (value & (MSTATUS_MIE | MSTATUS_MPIE)) | MSTATUS_MPP; return true;
      case CSR_MISA: return true; // WARL, writes ignored: the extension set is fixed
      case CSR_MIE: this.mie = value & MIE_WRITABLE; return true;
      // MODE 0 (direct) or 1 (vectored); reserved modes 2/3 fall back to direct (WARL, §3.1.7).
      case CSR_MTVEC: this.mtvec = value & ~2; return true;
      case CSR_MSTATUSH: return true;
      case CSR_MSCRATCH: this.mscratch = value | 0; return true;
      // mepc[0] is always zero; bit 1 stays because C makes 2-byte alignment legal (§3.1.14).
      case CSR_MEPC: this.mepc = value & ~1; return true;
      case CSR_MCAUSE: this.mcause = value | 0; return true;
      case CSR_MTVAL: this.mtval = value | 0; return true;
      case CSR_MIP: return true; // all implemented mip bits are driven by devices
      case CSR_MCYCLE: this.mcycle.writeLow(icount, value); return true;
      case CSR_MCYCLEH: this.mcycle.writeHigh(icount, value); return true;
      case CSR_MINSTRET: this.minstret.writeLow(icount, value); return true;
      case CSR_MINSTRETH: this.minstret.writeHigh(icount, value); return true;
      // No triggers: tselect is WARL and stays 0; tdata1-3 of a nonexistent trigger ignore writes.
      case CSR_TSELECT: case CSR_TDATA1: case CSR_TDATA2: case CSR_TDATA3: return true;
      default: return this.writePmp(num, value);
    }
  }

  /** True when entry `i` is locked (§3.7.1 "Locking and Privilege Mode"). */
  private pmpLocked(i: number): boolean {
    return (this.pmpcfg[i] & PMP_L) !== 0;
  }

  private writePmp(num: number, value: number): boolean {
    const cfg = num - CSR_PMPCFG0;
    if (cfg >= 0 && cfg < PMP_ENTRIES / 4) {
      for (let k = 0; k < 4; k++) {
        const i = 4 * cfg + k;
        if (!this.pmpLocked(i)) this.pmpcfg[i] = legalPmpCfg(value >>> (8 * k));
      }
      return true;
    }
    const addr = num - CSR_PMPADDR0;
    if (addr >= 0 && addr < PMP_ENTRIES) {
      // A locked entry's address is frozen, and so is the one below a locked TOR entry (its base).
      const next = addr + 1;
      const lockedTop = next < PMP_ENTRIES && this.pmpLocked(next) && (this.pmpcfg[next] & PMP_A) === PMP_A_TOR;
      if (!this.pmpLocked(addr) && !lockedTop) this.pmpaddr[addr] = value | 0;
      return true;
    }
    return this.readPmp(num) !== undefined; // entries 16-63: writes ignored
  }

  /** mstatus, mie, mip, mtvec, mepc, mcause, mtval, mscratch, counter offsets, pmpcfg0-3, pmpaddr0-15. */
  toWords(out: Int32Array, at: number): void {
    out[at] = this.mstatus;
    out[at + 1] = this.mie;
    out[at + 2] = this.mip;
    out[at + 3] = this.mtvec;
    out[at + 4] = this.mepc;
    out[at + 5] = this.mcause;
    out[at + 6] = this.mtval;
    out[at + 7] = this.mscratch;
    out[at + 8] = this.mcycle.lo;
    out[at + 9] = this.mcycle.hi;
    out[at + 10] = this.minstret.lo;
    out[at + 11] = this.minstret.hi;
    for (let i = 0; i < PMP_ENTRIES / 4; i++) out[at + 12 + i] = this.readPmp(CSR_PMPCFG0 + i)!;
    out.set(this.pmpaddr, at + 12 + PMP_ENTRIES / 4);
  }

  fromWords(words: Int32Array, at: number): void {
    this.mstatus = (words[at] & (MSTATUS_MIE | MSTATUS_MPIE)) | MSTATUS_MPP;
    this.mie = words[at + 1] & MIE_WRITABLE;
    this.mip = words[at + 2] & MIE_WRITABLE;
    this.mtvec = words[at + 3] & ~2;
    this.mepc = words[at + 4] & ~1;
    this.mcause = words[at + 5];
    this.mtval = words[at + 6];
    this.mscratch = words[at + 7];
    this.mcycle.lo = words[at + 8] >>> 0;
    this.mcycle.hi = words[at + 9] >>> 0;
    this.minstret.lo = words[at + 10] >>> 0;
    this.minstret.hi = words[at + 11] >>> 0;
    for (let i = 0; i < PMP_ENTRIES; i++) this.pmpcfg[i] = legalPmpCfg(words[at + 12 + (i >>> 2)] >>> (8 * (i & 3)));
    this.pmpaddr.set(words.subarray(at + 12 + PMP_ENTRIES / 4, at + 12 + PMP_ENTRIES / 4 + PMP_ENTRIES));
  }
}
