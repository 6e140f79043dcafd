/**
 * The primary's FT hypervisor (DESIGN.md §4, "Primary"; the paper §2.1–2.2, §3.4). Pure and
 * transport-free: the host passes `nowUs` in, calls `step` to run one slice, hands in packets,
 * disk completions and acks, and carries out the effects each call returns.
 *
 *  - Async events wait in a bounce buffer and are delivered between slices at the exact icount,
 *    each logged with that icount (§2.1 deterministic replay).
 *  - Nondet reads are answered from the host clock / injected PRNG and logged at their icount.
 *  - Output Rule (§2.2): an output produced at icount X is held until the backup has acked an
 *    entry at icount > X (so every entry ≤ X). The slice that produced it ends with a `progress`
 *    entry at the slice-end icount E > X: that is the entry whose ack releases it.
 *  - Flow control (§3.4): no execution while log bytes sent but not yet replayed by the backup
 *    (in flight or in its log buffer; the ack's appliedSeq) reach logBufferBytesMax.
 *  - Throttling (§3.4): CPU share steps down while the backup lags past lagThresholdUs, up again
 *    when it does not; the host honours `cpuShare` when it schedules slices.
 */
import type { GuestMachine, MachineOutput, NondetKind, RunResult } from '../machine/types';
import { encodeBatch, entryWireBytes, LogFormatError, type LogAck, type LogEntry, type UnnumberedEntry } from './log';
import { summarizeDurations, type FtEffect, type OutputStall, type StallSummary } from './effects';
import { resolveFtSettings, type FtSettings } from './settings';

/** The injected PRNG behind the guest's hardware RNG. */
export interface RandomSource {
  nextU32(): number;
}

type BounceEvent = { kind: 'net-rx'; bytes: Uint8Array } | { kind: 'disk-done'; id: number; data?: Uint8Array };

interface HeldOutput {
  out: MachineOutput;
  heldAtUs: number;
  needsAck: boolean;
  /** The seq whose ack releases it (an entry at icount > out.icount); null until assigned. */
  coverSeq: number | null;
}

export interface PrimaryStepResult {
  retired: number;
  /** 'log-full': flow control stopped it; else the machine's stop reason. */
  reason: RunResult['reason'] | 'log-full';
  effects: FtEffect[];
}

export interface PrimaryState {
  nextSeq: number;
  ackedSeq: number;
  appliedSeq: number;
  backupIcount: number;
  lastLoggedIcount: number;
  inflight: { seq: number; icount: number; bytes: number }[];
  inflightBytes: number;
  held: HeldOutput[];
  bounce: BounceEvent[];
  timerDeliveredForUs: number | null;
  lastTimeUs: number;
  nextHashIcount: number;
  cpuShare: number;
  lastThrottleUs: number;
  lastLagUs: number;
  blockedSinceUs: number | null;
  stalls: OutputStall[];
  logFullStallsUs: number[];
  entriesSent: number;
  bytesSent: number;
  maxLagUs: number;
}

export class PrimaryHypervisor {
  readonly role = 'primary' as const;
  readonly settings: FtSettings;
  private st: PrimaryState;
  /** Per-step scratch: effects of the call in progress, entries logged but not yet sent. */
  private fx: FtEffect[] = [];
  private pending: LogEntry[] = [];
  private sliceStartUs = 0;
  private sliceStartIcount = 0;

  constructor(
    readonly machine: GuestMachine,
    private readonly rng: RandomSource,
    settings: Partial<FtSettings> = {},
  ) {
    this.settings = resolveFtSettings(settings);
    this.st = initialState(this.settings, machine.icount);
    machine.setNondetSource({ read: (kind, icount) => this.answerNondet(kind, icount) });
    machine.setOutputSink({ output: (out) => this.holdOutput(out) });
  }

  // ---- inputs from the host ----

  /** A packet arrived for the VM: into the bounce buffer; delivered at the next slice boundary. */
  onPacket(bytes: Uint8Array): void {
    this.st.bounce.push({ kind: 'net-rx', bytes: bytes.slice() });
  }

  /** The disk server completed request `id` (with the data, for reads). */
  onDiskDone(id: number, data?: Uint8Array): void {
    this.st.bounce.push(data ? { kind: 'disk-done', id, data: data.slice() } : { kind: 'disk-done', id });
  }

  /** A cumulative ack from the backup: frees log buffer, releases covered output, adjusts CPU share. */
  onAck(ack: LogAck, nowUs: number): FtEffect[] {
    this.fx = [];
    const st = this.st;
    if (ack.ackSeq >= st.nextSeq) throw new LogFormatError(`ack for seq ${ack.ackSeq} beyond the last sent ${st.nextSeq - 1}`);
    if (ack.ackSeq > st.ackedSeq) st.ackedSeq = ack.ackSeq;
    if (ack.appliedSeq > st.appliedSeq) st.appliedSeq = ack.appliedSeq;
    st.backupIcount = Math.max(st.backupIcount, ack.backupIcount);
    st.maxLagUs = Math.max(st.maxLagUs, this.lagUs());
    while (st.inflight.length > 0 && st.inflight[0].seq <= st.appliedSeq) st.inflightBytes -= (st.inflight.shift() as { bytes: number }).bytes;
    this.releaseCovered(nowUs);
    if (st.blockedSinceUs !== null && st.inflightBytes < this.settings.logBufferBytesMax) {
      st.logFullStallsUs.push(nowUs - st.blockedSinceUs);
      this.fx.push({ kind: 'log-drained', stalledUs: nowUs - st.blockedSinceUs });
      st.blockedSinceUs = null;
    }
    this.updateThrottle(nowUs);
    return this.takeEffects();
  }

  // ---- one slice ----

  /**
   * Delivers pending events at the current icount, runs one slice of at most `budgetInstructions`
   * (trimmed to the timer deadline and the next hash point), then logs hash/progress entries and
   * sends the slice's batch. Stops without running while the log buffer is full.
   */
  step(nowUs: number, budgetInstructions = this.settings.sliceInstructions): PrimaryStepResult {
    this.fx = [];
    const st = this.st;
    this.updateThrottle(nowUs);
    if (st.inflightBytes >= this.settings.logBufferBytesMax) {
      if (st.blockedSinceUs === null) {
        st.blockedSinceUs = nowUs;
        this.fx.push({ kind: 'log-full', inflightBytes: st.inflightBytes });
      }
      return { retired: 0, reason: 'log-full', effects: this.takeEffects() };
    }
    this.deliverEvents(nowUs);
    this.sliceStartUs = nowUs;
    this.sliceStartIcount = this.machine.icount;
    const res = this.machine.run(this.sliceBudget(nowUs, budgetInstructions));
    this.endSlice(res, nowUs);
    return { retired: res.retired, reason: res.reason, effects: this.takeEffects() };
  }

  /** When the guest's timer wants attention (µs), so an idle host knows when to step again. */
  nextDeadlineUs(): number | null {
    const d = this.machine.timerDeadline();
    return d === null || d === this.st.timerDeliveredForUs ? null : d;
  }

  hasPendingEvents(): boolean {
    return this.st.bounce.length > 0;
  }

  private deliverEvents(nowUs: number): void {
    const m = this.machine;
    const deadline = m.timerDeadline();
    if (deadline !== null && deadline <= nowUs && deadline !== this.st.timerDeliveredForUs) {
      this.st.timerDeliveredForUs = deadline;
      m.deliverTimer();
      this.log({ icount: m.icount, kind: 'timer' });
    }
    for (const ev of this.st.bounce) {
      // Copy out of the bounce buffer into guest memory now, at this icount (§3.4: no DMA race).
      if (ev.kind === 'net-rx') {
        m.deliverPacket(ev.bytes);
        this.log({ icount: m.icount, kind: 'net-rx', bytes: ev.bytes });
      } else {
        m.completeDisk(ev.id, ev.data);
        this.log(ev.data ? { icount: m.icount, kind: 'disk-done', id: ev.id, data: ev.data } : { icount: m.icount, kind: 'disk-done', id: ev.id });
      }
    }
    this.st.bounce = [];
  }

  private sliceBudget(nowUs: number, budget: number): number {
    const ic = this.machine.icount;
    let b = Math.max(1, Math.floor(budget));
    b = Math.min(b, this.st.nextHashIcount - ic);
    const deadline = this.nextDeadlineUs();
    if (deadline !== null && deadline > nowUs) {
      b = Math.min(b, Math.ceil(((deadline - nowUs) * this.effectiveIps()) / 1e6));
    }
    return Math.max(1, b);
  }

  private endSlice(res: RunResult, nowUs: number): void {
    const st = this.st;
    const ic = this.machine.icount;
    if (ic >= st.nextHashIcount) {
      this.log({ icount: ic, kind: 'hash', hash: this.machine.stateHash() });
      while (st.nextHashIcount <= ic) st.nextHashIcount += this.settings.hashIntervalInstructions;
    }
    const uncovered = st.held.some((h) => h.coverSeq === null && h.out.icount < ic);
    const quiet = ic - st.lastLoggedIcount >= this.settings.progressIntervalInstructions;
    const idle = res.reason === 'wfi' && st.lastLoggedIcount < ic;
    if (uncovered || quiet || idle) {
      const seq = this.log({ icount: ic, kind: 'progress' });
      for (const h of st.held) if (h.coverSeq === null && h.out.icount < ic) h.coverSeq = seq;
    }
    this.flush();
    this.releaseCovered(nowUs);
  }

  // ---- nondeterminism and output, called by the machine mid-run ----

  private answerNondet(kind: NondetKind, icount: number): number {
    let value: number;
    if (kind === 'rng') {
      value = this.rng.nextU32() >>> 0;
    } else {
      const tUs = this.clockAt(icount);
      value = kind === 'time-lo' ? tUs >>> 0 : Math.floor(tUs / 0x1_0000_0000) >>> 0;
    }
    this.log({ icount, kind: 'nondet', source: kind, value });
    return value;
  }

  /** Host time at `icount` inside this slice: slice start plus instructions at the current speed. */
  private clockAt(icount: number): number {
    const tUs = this.sliceStartUs + Math.floor(((icount - this.sliceStartIcount) * 1e6) / this.effectiveIps());
    this.st.lastTimeUs = Math.max(this.st.lastTimeUs, tUs);
    return this.st.lastTimeUs;
  }

  private effectiveIps(): number {
    return this.settings.speedIps * this.st.cpuShare;
  }

  private holdOutput(out: MachineOutput): void {
    const isRead = out.kind === 'disk' && out.req.op === 'read';
    const needsAck = this.settings.outputRuleEnabled && (!isRead || this.settings.holdDiskReads);
    this.st.held.push({ out, heldAtUs: this.clockAt(out.icount), needsAck, coverSeq: null });
    if (needsAck) this.fx.push({ kind: 'output-held', out });
    else this.releaseCovered(this.clockAt(out.icount));
  }

  /** Releases held outputs in production order while the front one is covered by an ack. */
  private releaseCovered(nowUs: number): void {
    const st = this.st;
    while (st.held.length > 0) {
      const h = st.held[0];
      if (h.needsAck && (h.coverSeq === null || st.ackedSeq < h.coverSeq)) break;
      st.held.shift();
      const releasedAtUs = Math.max(nowUs, h.heldAtUs);
      if (h.needsAck) st.stalls.push({ icount: h.out.icount, outKind: h.out.kind, heldAtUs: h.heldAtUs, releasedAtUs });
      this.fx.push({ kind: 'release-output', out: h.out, heldUs: releasedAtUs - h.heldAtUs, held: h.needsAck });
    }
  }

  // ---- logging ----

  private log(e: UnnumberedEntry): number {
    const entry = { ...e, seq: this.st.nextSeq++ } as LogEntry;
    this.pending.push(entry);
    this.st.lastLoggedIcount = entry.icount;
    return entry.seq;
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    const entries = this.pending;
    this.pending = [];
    const bytes = encodeBatch(entries);
    for (const e of entries) {
      const b = entryWireBytes(e);
      this.st.inflight.push({ seq: e.seq, icount: e.icount, bytes: b });
      this.st.inflightBytes += b;
    }
    this.st.entriesSent += entries.length;
    this.st.bytesSent += bytes.byteLength;
    this.fx.push({ kind: 'send-log', bytes, entries });
  }

  // ---- throttling ----

  /** Backup execution lag in µs: instructions behind, at this host's nominal speed (§3.4). */
  lagUs(): number {
    const behind = Math.max(0, this.machine.icount - this.st.backupIcount);
    return (behind * 1e6) / this.settings.speedIps;
  }

  /**
   * One step of the slow feedback loop (§3.4), at most once per throttleIntervalUs. Above the
   * threshold the share is cut while the lag still grows and held while it shrinks; below it, the
   * share is restored, pausing while the lag grows in the upper half of the band. Watching the
   * trend keeps the loop from winding down to the floor while a lag already on its way back
   * decays (a plain "above → cut" rule oscillates between the floor and full speed).
   */
  private updateThrottle(nowUs: number): void {
    const st = this.st;
    const s = this.settings;
    if (nowUs - st.lastThrottleUs < s.throttleIntervalUs) return;
    st.lastThrottleUs = nowUs;
    const lagUs = this.lagUs();
    const rising = lagUs > st.lastLagUs;
    st.lastLagUs = lagUs;
    st.maxLagUs = Math.max(st.maxLagUs, lagUs);
    let next = st.cpuShare;
    if (lagUs > s.lagThresholdUs) {
      if (rising) next = Math.max(s.cpuShareMin, st.cpuShare - s.throttleStep);
    } else if (!(rising && lagUs > s.lagThresholdUs / 2)) {
      next = Math.min(1, st.cpuShare + s.throttleStep);
    }
    if (next !== st.cpuShare) {
      st.cpuShare = Math.round(next * 1e6) / 1e6;
      this.fx.push({ kind: 'cpu-share', share: st.cpuShare, lagUs });
    }
  }

  private takeEffects(): FtEffect[] {
    const fx = this.fx;
    this.fx = [];
    return fx;
  }

  // ---- observation ----

  get cpuShare(): number {
    return this.st.cpuShare;
  }
  get inflightBytes(): number {
    return this.st.inflightBytes;
  }
  get blocked(): boolean {
    return this.st.blockedSinceUs !== null;
  }
  get heldCount(): number {
    return this.st.held.length;
  }
  get ackedSeq(): number {
    return this.st.ackedSeq;
  }
  get lastSentSeq(): number {
    return this.st.nextSeq - 1;
  }
  stats(): {
    entriesSent: number;
    bytesSent: number;
    stalls: StallSummary;
    logFullStalls: StallSummary;
    maxLagUs: number;
    cpuShare: number;
  } {
    const st = this.st;
    return {
      entriesSent: st.entriesSent,
      bytesSent: st.bytesSent,
      stalls: summarizeDurations(st.stalls.map((s) => s.releasedAtUs - s.heldAtUs)),
      logFullStalls: summarizeDurations(st.logFullStallsUs),
      maxLagUs: st.maxLagUs,
      cpuShare: st.cpuShare,
    };
  }
  outputStalls(): readonly OutputStall[] {
    return this.st.stalls;
  }

  /** Hypervisor state as plain data (the machine snapshots itself). */
  snapshot(): PrimaryState {
    return structuredClone(this.st);
  }
  restore(snap: PrimaryState): void {
    this.st = structuredClone(snap);
  }
}

function initialState(s: FtSettings, icount: number): PrimaryState {
  return {
    nextSeq: 1,
    ackedSeq: 0,
    appliedSeq: 0,
    backupIcount: icount,
    lastLoggedIcount: icount,
    inflight: [],
    inflightBytes: 0,
    held: [],
    bounce: [],
    timerDeliveredForUs: null,
    lastTimeUs: 0,
    nextHashIcount: icount + s.hashIntervalInstructions,
    cpuShare: 1,
    lastThrottleUs: -Infinity,
    lastLagUs: 0,
    blockedSinceUs: null,
    stalls: [],
    logFullStallsUs: [],
    entriesSent: 0,
    bytesSent: 0,
    maxLagUs: 0,
  };
}
