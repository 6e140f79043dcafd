/**
 * Machine-mode control and status registers (privileged spec §2, §3.1). Only machine mode exists,
 * so the set is small. CSR instructions are off the hot path: the hart calls `read`/`write` here.
 *
 * Counters: cycle/instret and their m-versions all read the hart's retired-instruction count
 * (`icount`), so they are deterministic. mcycle/minstret(h) are read-only in this machine (a write
 * is an illegal instruction): that keeps cycle == instret == icount, which the FT layer relies on
 * when it compares states. `time`/`timeh` are host time and come from the injected NondetSource.
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

/** Number of 32-bit words `CsrFile.toWords` produces. */
export const CSR_WORDS = 8;

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
      case CSR_MCYCLE: case CSR_MINSTRET: case CSR_CYCLE: case CSR_INSTRET:
        return icount | 0;
      case CSR_MCYCLEH: case CSR_MINSTRETH: case CSR_CYCLEH: case CSR_INSTRETH:
        return Math.floor(icount / 0x1_0000_0000) | 0;
      case CSR_TIME: return this.nondet.read('time-lo', icount) | 0;
      case CSR_TIMEH: return this.nondet.read('time-hi', icount) | 0;
      case CSR_MVENDORID: case CSR_MARCHID: case CSR_MIMPID: case CSR_MHARTID: case CSR_MCONFIGPTR:
        return 0;
      default: return undefined;
    }
  }

  /**
   * Write CSR `num`; false when the CSR does not exist or is read-only (→ illegal instruction).
   * Read-only CSRs have bits [11:10] == 3 (§2.1); mcycle/minstret(h) are read-only here too.
   */
  write(num: number, value: number): boolean {
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
      default: return false;
    }
  }

  /** mstatus, mie, mip, mtvec, mepc, mcause, mtval, mscratch. */
  toWords(out: Int32Array, at: number): void {
    out[at] = this.mstatus;
    out[at + 1] = this.mie;
    out[at + 2] = this.mip;
    out[at + 3] = this.mtvec;
    out[at + 4] = this.mepc;
    out[at + 5] = this.mcause;
    out[at + 6] = this.mtval;
    out[at + 7] = this.mscratch;
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
  }
}
