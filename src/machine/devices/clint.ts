/**
 * CLINT: the core-local interruptor (SiFive CLINT layout, as on QEMU `virt`), timer part only.
 *
 *   off     reg        access
 *   0x0000  msip       rw  bit0 drives MSIP (mip bit 3)
 *   0x4000  mtimecmp   rw  low word  }  writing either word clears MTIP (mip bit 7)
 *   0x4004  mtimecmph  rw  high word }
 *   0xbff8  mtime      r   low word of host time in µs: a nondeterministic read ('time-lo')
 *   0xbffc  mtimeh     r   high word ('time-hi'); writes to mtime are ignored
 *
 * Unlike real hardware, the CLINT never compares mtime with mtimecmp. Under FT the hypervisor
 * decides when the timer fires (it reads `timerDeadline()`, calls `deliverTimer()` and logs the
 * icount), so the backup takes the interrupt at the same instruction (docs/design.md §4).
 *
 * Level semantics (privileged spec §3.2.1: MTIP is pending while mtime ≥ mtimecmp, and writing
 * mtimecmp is how software clears it). The host stands in for the comparator, so the contract is:
 * `timerDeadline()` is null while MTIP is raised (the comparator has fired and the guest has not
 * re-armed: nothing new to deliver), otherwise the armed mtimecmp. Every write to mtimecmp or
 * mtimecmph clears MTIP, even a write of the same value, so a guest that re-arms a deadline already
 * in the past sees `timerDeadline()` return it again and the host delivers again — as real
 * hardware would keep MTIP pending. MTIP itself lives in the hart's mip, which snapshots carry.
 */
import { CLINT_BASE, CLINT_MSIP, CLINT_MTIME, CLINT_MTIMECMP, CLINT_SIZE, IRQ_MSIP, IRQ_MTIP } from '../memmap';
import type { MmioDevice } from '../bus';
import { boolField, u32Field, type DeviceHost } from './device';

const NAME = 'clint';

export interface ClintState {
  msip: number;
  mtimecmpLo: number;
  mtimecmpHi: number;
  armed: boolean; // mtimecmp written since reset
}

export class Clint implements MmioDevice {
  readonly name = NAME;
  readonly base = CLINT_BASE;
  readonly size = CLINT_SIZE;
  private s: ClintState = { msip: 0, mtimecmpLo: 0xffff_ffff, mtimecmpHi: 0xffff_ffff, armed: false };

  constructor(private readonly host: DeviceHost) {}

  load(offset: number, size: 1 | 2 | 4): number | null {
    if (size !== 4) return null; // word registers only
    switch (offset) {
      case CLINT_MSIP: return this.s.msip;
      case CLINT_MTIMECMP: return this.s.mtimecmpLo;
      case CLINT_MTIMECMP + 4: return this.s.mtimecmpHi;
      case CLINT_MTIME: return this.host.readNondet('time-lo') >>> 0;
      case CLINT_MTIME + 4: return this.host.readNondet('time-hi') >>> 0;
      default: return null;
    }
  }

  store(offset: number, size: 1 | 2 | 4, value: number): boolean {
    if (size !== 4) return false;
    switch (offset) {
      case CLINT_MSIP:
        this.s.msip = value & 1;
        this.host.setIrq(IRQ_MSIP, this.s.msip !== 0);
        return true;
      case CLINT_MTIMECMP:
      case CLINT_MTIMECMP + 4:
        if (offset === CLINT_MTIMECMP) this.s.mtimecmpLo = value >>> 0;
        else this.s.mtimecmpHi = value >>> 0;
        this.s.armed = true;
        this.host.setIrq(IRQ_MTIP, false);
        return true;
      case CLINT_MTIME:
      case CLINT_MTIME + 4:
        return true; // mtime is host time; the guest cannot set it
      default:
        return false;
    }
  }

  /**
   * Host: mtimecmp in µs, or null when there is nothing to deliver: never written, all ones (the
   * guest's "no timer"), or MTIP already raised and not yet cleared by a mtimecmp write.
   */
  timerDeadline(): number | null {
    const { mtimecmpLo: lo, mtimecmpHi: hi, armed } = this.s;
    if (!armed || (lo === 0xffff_ffff && hi === 0xffff_ffff)) return null;
    if (this.host.irqLevel(IRQ_MTIP)) return null;
    return hi * 0x1_0000_0000 + lo;
  }

  /** Host: the timer fires now (raises MTIP until the guest writes mtimecmp). */
  deliverTimer(): void {
    this.host.setIrq(IRQ_MTIP, true);
  }

  snapshot(): Record<string, unknown> {
    return { ...this.s };
  }

  restore(state: Record<string, unknown>): void {
    this.s = Clint.parse(state);
  }

  static parse(state: Record<string, unknown>): ClintState {
    return {
      msip: u32Field(NAME, state, 'msip') & 1,
      mtimecmpLo: u32Field(NAME, state, 'mtimecmpLo'),
      mtimecmpHi: u32Field(NAME, state, 'mtimecmpHi'),
      armed: boolField(NAME, state, 'armed'),
    };
  }
}
