/**
 * The Output Rule (paper §2.2; docs/design.md §4): an output the guest produced at icount X leaves
 * the VM only after the backup has acknowledged every log entry up to X — then, whatever happens
 * to the primary, the backup can replay to X and will produce the same output itself.
 *
 * Entries are logged in icount order, so "every entry ≤ X acked" holds as soon as an entry at an
 * icount *greater* than X is acked. The slice that produced an output ends with such an entry (a
 * `progress` entry at the slice end if nothing else): `cover(seq, icount)` records it as the
 * output's cover. Outputs leave in production order, and only the release waits: the guest runs on.
 *
 * Disk reads change nothing outside the VM, so by default they do not wait (settings.holdDiskReads)
 * but keep their place in the queue. `outputRule: false` is the lecture's "break it" switch.
 */
import type { MachineOutput } from '../machine/types';
import type { FtEffect } from './effects';
import { DurationStats, Ring, type StallSummary } from './stats';

interface HeldOutput {
  out: MachineOutput;
  heldAtUs: number;
  needsAck: boolean;
  /** The seq whose ack releases it (an entry at icount > out.icount); null until assigned. */
  coverSeq: number | null;
}

/** One held output's life, for the UI's recent-stalls view. */
export interface OutputStall {
  icount: number;
  outKind: MachineOutput['kind'];
  heldAtUs: number;
  releasedAtUs: number;
}

export interface OutputRuleSettings {
  outputRule: boolean;
  holdDiskReads: boolean;
}

export interface OutputRuleState {
  held: HeldOutput[];
  lastReleasedIcount: number;
}

export const RECENT_STALLS = 64;

export class OutputRule {
  private held: HeldOutput[] = [];
  private lastReleasedIcount = -1;
  /** No backup to wait for: outputs leave at once. */
  private alone = false;
  readonly stalls = new DurationStats();
  readonly recent = new Ring<OutputStall>(RECENT_STALLS);

  constructor(private readonly settings: OutputRuleSettings) {}

  /** Whether this output waits for an ack: everything but (by default) disk reads, unless switched off. */
  needsAck(out: MachineOutput): boolean {
    if (this.alone) return false;
    const isRead = out.kind === 'disk' && out.req.op === 'read';
    return this.settings.outputRule && (!isRead || this.settings.holdDiskReads);
  }

  setAlone(alone: boolean): void {
    this.alone = alone;
  }

  /** The guest produced `out` at host time `atUs`: queue it (and say so, if it must wait). */
  hold(out: MachineOutput, atUs: number, fx: FtEffect[]): void {
    const needsAck = this.needsAck(out);
    this.held.push({ out, heldAtUs: atUs, needsAck, coverSeq: null });
    if (needsAck) fx.push({ ev: 'output-held', out });
  }

  /** True if an output before `icount` still has no covering entry: the slice must log one. */
  needsCover(icount: number): boolean {
    // Covered outputs are a prefix of the queue (outputs and entries both go in icount order).
    for (let i = this.held.length - 1; i >= 0 && this.held[i].coverSeq === null; i--) {
      if (this.held[i].needsAck && this.held[i].out.icount < icount) return true;
    }
    return false;
  }

  /** Entry `seq` at `icount` was logged: it covers every waiting output produced before `icount`. */
  cover(seq: number, icount: number): void {
    for (let i = this.held.length - 1; i >= 0 && this.held[i].coverSeq === null; i--) {
      if (this.held[i].out.icount < icount) this.held[i].coverSeq = seq;
    }
  }

  /** Releases, in production order, every output at the front whose cover is acked (≤ ackedSeq). */
  release(ackedSeq: number, nowUs: number, fx: FtEffect[]): void {
    while (this.held.length > 0) {
      const h = this.held[0];
      if (h.needsAck && (h.coverSeq === null || ackedSeq < h.coverSeq)) break;
      this.held.shift();
      this.emit(h, nowUs, fx);
    }
  }

  /** Releases everything held, acked or not (a primary that goes on alone: no backup to wait for). */
  releaseAll(nowUs: number, fx: FtEffect[]): void {
    for (const h of this.held) this.emit(h, nowUs, fx);
    this.held = [];
  }

  private emit(h: HeldOutput, nowUs: number, fx: FtEffect[]): void {
    if (h.out.icount < this.lastReleasedIcount) {
      throw new Error(`Output Rule: output at icount ${h.out.icount} released after one at ${this.lastReleasedIcount}`);
    }
    this.lastReleasedIcount = h.out.icount;
    const releasedAtUs = Math.max(nowUs, h.heldAtUs);
    if (h.needsAck) {
      this.stalls.add(releasedAtUs - h.heldAtUs);
      this.recent.push({ icount: h.out.icount, outKind: h.out.kind, heldAtUs: h.heldAtUs, releasedAtUs });
    }
    fx.push({ ev: 'output-released', out: h.out, heldUs: releasedAtUs - h.heldAtUs, held: h.needsAck });
  }

  get heldCount(): number {
    return this.held.length;
  }

  /** When the oldest output still waiting was held (null when none). */
  oldestHeldSinceUs(): number | null {
    return this.held.length === 0 ? null : this.held[0].heldAtUs;
  }

  /** Age of the oldest output still waiting, µs (0 when none). */
  oldestHeldAgeUs(nowUs: number): number {
    return this.held.length === 0 ? 0 : Math.max(0, nowUs - this.held[0].heldAtUs);
  }

  summary(): StallSummary {
    return this.stalls.summary();
  }

  snapshot(): OutputRuleState {
    return structuredClone({ held: this.held, lastReleasedIcount: this.lastReleasedIcount });
  }

  restore(s: OutputRuleState): void {
    this.held = structuredClone(s.held);
    this.lastReleasedIcount = s.lastReleasedIcount;
  }
}
