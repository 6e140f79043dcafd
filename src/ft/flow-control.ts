/**
 * Flow control and the lag cap (paper §3.2; docs/design.md §4): the two reasons the primary stops
 * executing for a while.
 *
 *  - Log buffer: the bytes of entries sent but not yet replayed by the backup (in flight, or
 *    waiting in its buffer: the ack's appliedSeq) may not reach `logBufferBytesMax`.
 *  - Lag cap: the backup's replay backlog — what it would have to replay before it could go live —
 *    may not pass `lagCapUs` of its own replay time. Failover time stays bounded however slow the
 *    backup is. The primary trims each slice so the backlog it creates stays under the cap.
 *
 * Lag is measured from replayed icounts: every ack carries the icount the backup has replayed to
 * and its measured replay speed, and the backlog is the primary's icount minus that.
 */
import type { LogAck } from './channels';
import { DurationStats, type StallSummary } from './stats';

export interface InflightEntry {
  seq: number;
  icount: number;
  bytes: number;
}

export type BlockReason = 'log-full' | 'lag-cap';

/** The share of the lag cap the primary fills (the rest covers error in the measured replay speed). */
const CAP_HEADROOM = 0.97;

export interface FlowControlSettings {
  logBufferBytesMax: number;
  lagCapUs: number;
  /** Used for the backlog's duration until the backup has reported its own replay speed. */
  speedIps: number;
}

export interface FlowControlState {
  inflight: InflightEntry[];
  inflightBytes: number;
  ackedSeq: number;
  appliedSeq: number;
  backupIcount: number;
  replayIps: number;
  blockedSinceUs: number | null;
  blockedWhy: BlockReason | null;
  maxLagUs: number;
}

export class FlowControl {
  private st: FlowControlState;
  private head = 0;
  readonly stalls = new DurationStats();

  constructor(
    private readonly settings: FlowControlSettings,
    icount: number,
  ) {
    this.st = {
      inflight: [], inflightBytes: 0, ackedSeq: 0, appliedSeq: 0, backupIcount: icount, replayIps: 0,
      blockedSinceUs: null, blockedWhy: null, maxLagUs: 0,
    };
  }

  /** Entries just sent: they count until the backup has replayed them. */
  sent(entries: readonly InflightEntry[]): void {
    for (const e of entries) {
      this.st.inflight.push(e);
      this.st.inflightBytes += e.bytes;
    }
  }

  /** An ack arrived: frees the buffer up to appliedSeq and updates the backup's position. */
  onAck(ack: LogAck, primaryIcount: number): void {
    const st = this.st;
    if (ack.ackSeq > st.ackedSeq) st.ackedSeq = ack.ackSeq;
    if (ack.appliedSeq > st.appliedSeq) st.appliedSeq = ack.appliedSeq;
    if (ack.backupIcount > st.backupIcount) st.backupIcount = ack.backupIcount;
    if (ack.replayIps > 0) st.replayIps = ack.replayIps;
    const q = st.inflight;
    while (this.head < q.length && q[this.head].seq <= st.appliedSeq) st.inflightBytes -= q[this.head++].bytes;
    if (this.head > 1024 && this.head * 2 > q.length) {
      st.inflight = q.slice(this.head);
      this.head = 0;
    }
    if (st.inflightBytes < 0 || (this.head === st.inflight.length && st.inflightBytes !== 0)) {
      throw new Error(`flow control: in-flight bytes ${st.inflightBytes} disagree with ${st.inflight.length - this.head} entries`);
    }
    st.maxLagUs = Math.max(st.maxLagUs, this.lagUs(primaryIcount));
  }

  /** The backup's replay backlog in instructions: the primary's icount minus the replayed icount. */
  backlog(primaryIcount: number): number {
    return Math.max(0, primaryIcount - this.st.backupIcount);
  }

  /** The backlog as time: how long the backup would need to replay it (its speed, once known). */
  lagUs(primaryIcount: number): number {
    return (this.backlog(primaryIcount) * 1e6) / this.replayIps();
  }

  replayIps(): number {
    return this.st.replayIps > 0 ? this.st.replayIps : this.settings.speedIps;
  }

  /**
   * Instructions the primary may run before the backlog reaches the cap. The replay speed is a
   * measurement with a few per cent of noise, so the budget keeps CAP_HEADROOM in hand: the lag in
   * the backup's true time stays under the cap.
   */
  budgetUnderCap(primaryIcount: number): number {
    const capInstructions = Math.floor((this.settings.lagCapUs * CAP_HEADROOM * this.replayIps()) / 1e6);
    return capInstructions - this.backlog(primaryIcount);
  }

  /** Why the primary may not run now, or null. */
  blockReason(primaryIcount: number): BlockReason | null {
    if (this.st.inflightBytes >= this.settings.logBufferBytesMax) return 'log-full';
    if (this.budgetUnderCap(primaryIcount) < 1) return 'lag-cap';
    return null;
  }

  /** Records the start of a block; true if it just started (the caller reports it once). */
  block(why: BlockReason, nowUs: number): boolean {
    if (this.st.blockedSinceUs !== null && this.st.blockedWhy === why) return false;
    if (this.st.blockedSinceUs === null) this.st.blockedSinceUs = nowUs;
    this.st.blockedWhy = why;
    return true;
  }

  /** Ends a block; returns how long it lasted, or null if none was on. */
  unblock(nowUs: number): number | null {
    if (this.st.blockedSinceUs === null) return null;
    const us = nowUs - this.st.blockedSinceUs;
    this.stalls.add(us);
    this.st.blockedSinceUs = null;
    this.st.blockedWhy = null;
    return us;
  }

  get blocked(): BlockReason | null {
    return this.st.blockedWhy;
  }
  get blockedSinceUs(): number | null {
    return this.st.blockedSinceUs;
  }
  get inflightBytes(): number {
    return this.st.inflightBytes;
  }
  get inflightEntries(): number {
    return this.st.inflight.length - this.head;
  }
  get ackedSeq(): number {
    return this.st.ackedSeq;
  }
  get appliedSeq(): number {
    return this.st.appliedSeq;
  }
  get backupIcount(): number {
    return this.st.backupIcount;
  }
  get maxLagUs(): number {
    return this.st.maxLagUs;
  }
  noteLag(primaryIcount: number): void {
    this.st.maxLagUs = Math.max(this.st.maxLagUs, this.lagUs(primaryIcount));
  }
  summary(): StallSummary {
    return this.stalls.summary();
  }

  snapshot(): FlowControlState {
    return structuredClone({ ...this.st, inflight: this.st.inflight.slice(this.head) });
  }
  restore(s: FlowControlState): void {
    this.st = structuredClone(s);
    this.head = 0;
  }
}
