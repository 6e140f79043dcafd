/**
 * The primary's FT hypervisor (docs/design.md §4 "Primary"; the paper §2.1–2.2, §3.2). Pure and
 * transport-free: the VM host (host.ts) passes `nowUs` in, calls `step` to run one slice, hands in
 * packets, disk completions and logging-channel messages, and carries out the effects returned.
 *
 *  - Async events wait in a bounce buffer and are delivered between slices at the exact icount,
 *    each logged with that icount (§2.1 deterministic replay; §3.4 no DMA race).
 *  - Nondet reads are answered from the host clock / injected PRNG and logged at their icount.
 *  - The Output Rule (output-rule.ts), flow control and the lag cap (flow-control.ts), throttling
 *    (throttle.ts) and the reliable logging channel (reliable.ts) each live in their own file.
 */
import type { DiskRequest, GuestMachine, MachineOutput, NondetKind, RunResult } from '../machine/types';
import type { LogAck, LogResend } from './channels';
import { encodeBatch, entryWireBytes, LogFormatError, type BatchBuffers, type LogEntry, type UnnumberedEntry } from './log';
import type { FtEffect } from './effects';
import { resolveFtSettings, type FtSettings } from './settings';
import { OutputRule, type OutputRuleState, type OutputStall } from './output-rule';
import { FlowControl, type FlowControlState } from './flow-control';
import { Throttle, type ThrottleState } from './throttle';
import { LogSender, type LogSenderState, type SentBatch } from './reliable';
import type { StallSummary } from './stats';

/** The injected PRNG behind the guest's hardware RNG. */
export interface RandomSource {
  nextU32(): number;
  /** Its position, for a host's snapshot (a seeded Prng has one; a test's source may not). */
  snapshot?(): unknown;
  restore?(state: never): void;
}

type BounceEvent = { kind: 'net-rx'; bytes: Uint8Array } | { kind: 'disk-done'; id: number; data?: Uint8Array; failed?: true };

export interface PrimaryOptions {
  /** Start with no backup (a backup that has just gone live). */
  alone?: boolean;
  /** The next nondet value the guest reads, if the log held one the guest had not reached yet. */
  handedOver?: { icount: number; source: NondetKind; value: number } | null;
}

export interface PrimaryStepResult {
  retired: number;
  /** 'blocked': flow control or the lag cap stopped it; else the machine's stop reason. */
  reason: RunResult['reason'] | 'blocked';
  /** The machine's fault or exit detail, when it stopped. */
  detail?: string;
  effects: FtEffect[];
}

interface PrimaryCore {
  nextSeq: number;
  lastLogged: { icount: number; kind: LogEntry['kind'] };
  bounce: BounceEvent[];
  lastTimeUs: number;
  nextHashIcount: number;
  /** The last slice stopped at wfi: the guest sleeps until an event is delivered. */
  idle: boolean;
  entriesSent: number;
  bytesSent: number;
}

export interface PrimaryState {
  core: PrimaryCore;
  rule: OutputRuleState;
  flow: FlowControlState;
  throttle: ThrottleState;
  sender: LogSenderState;
}

/**
 * On a real clock (free run) hash entries are at least this far apart in its time, whatever the
 * interval in instructions. The hash is this app's own check on replay, not part of the protocol:
 * the bench guest hashes every 1 M instructions, which in free run is ~800 hashes a second and 2–3 %
 * of each VM's time (both hash); the lecture guests' intervals already last longer than this. The
 * simulator and lockstep have no real clock: their hashes stay where the interval puts them.
 */
const REAL_HASH_GAP_US = 10_000;

export class PrimaryHypervisor {
  readonly role = 'primary' as const;
  readonly settings: FtSettings;
  private st: PrimaryCore;
  private readonly rule: OutputRule;
  private flow: FlowControl;
  private throttle: Throttle;
  private sender: LogSender;
  /** No backup: nothing is logged and outputs leave at once (after a failover, until FT VMotion). */
  private alone: boolean;
  /** A nondet value the old primary logged that this guest has not read yet (go-live hand-over). */
  private handedOver: { icount: number; source: NondetKind; value: number } | null;
  /** Per-call scratch: effects of the call in progress, entries logged but not yet sent. */
  private fx: FtEffect[] = [];
  /** Spent batch buffers to encode into (a vm worker's, whose batches are handed over: log.ts). */
  logBuffers: BatchBuffers | null = null;
  private pending: LogEntry[] = [];
  private sliceStartUs = 0;
  /** The host's real clock and measured speed, in free run (useRealClock). */
  private real: { now(): number; ips(): number } | null = null;
  /** Free run: the real time of the last hash entry (hashes are kept REAL_HASH_GAP_US apart). */
  private lastHashRealUs = -Infinity;
  private sliceStartIcount = 0;

  constructor(
    readonly machine: GuestMachine,
    private readonly rng: RandomSource,
    settings: Partial<FtSettings> = {},
    opts: PrimaryOptions = {},
  ) {
    this.settings = resolveFtSettings(settings);
    this.alone = opts.alone === true;
    this.handedOver = opts.handedOver ?? null;
    const s = this.settings;
    const ic = machine.icount;
    this.st = {
      nextSeq: 1, lastLogged: { icount: ic, kind: 'progress' }, bounce: [], lastTimeUs: 0,
      nextHashIcount: ic + s.hashIntervalInstructions, idle: false, entriesSent: 0, bytesSent: 0,
    };
    this.rule = new OutputRule(s);
    this.rule.setAlone(this.alone);
    this.flow = new FlowControl(s, ic);
    this.throttle = new Throttle(s);
    this.sender = new LogSender(s.resendTimeoutUs);
    machine.setNondetSource({ read: (kind, icount) => this.answerNondet(kind, icount) });
    machine.setOutputSink({ output: (out) => this.holdOutput(out) });
  }

  // ---- inputs from the host ----

  /** A packet arrived for the VM: into the bounce buffer; delivered at the next slice boundary. */
  onPacket(bytes: Uint8Array): void {
    this.st.bounce.push({ kind: 'net-rx', bytes: bytes.slice() });
  }

  /** The disk server completed request `id` (with the data, for reads), or failed it. */
  onDiskDone(id: number, data?: Uint8Array, failed = false): void {
    if (failed) this.st.bounce.push({ kind: 'disk-done', id, failed: true });
    else this.st.bounce.push(data ? { kind: 'disk-done', id, data: data.slice() } : { kind: 'disk-done', id });
  }

  /** An ack or a resend request from the backup. */
  onLoggingMsg(msg: LogAck | LogResend, nowUs: number): FtEffect[] {
    this.fx = [];
    if (msg.type === 'resend') {
      for (const b of this.sender.resendFrom(msg.fromSeq, nowUs)) this.resend(b);
    } else {
      this.onAck(msg, nowUs);
    }
    return this.takeEffects();
  }

  private onAck(ack: LogAck, nowUs: number): void {
    if (ack.ackSeq >= this.st.nextSeq) throw new LogFormatError(`ack for seq ${ack.ackSeq} beyond the last sent ${this.st.nextSeq - 1}`);
    this.fx.push({ ev: 'ack-received', ack });
    this.flow.onAck(ack, this.machine.icount);
    this.sender.acked(ack.ackSeq, nowUs);
    this.rule.release(this.flow.ackedSeq, nowUs, this.fx);
    this.maybeUnblock(nowUs);
    this.adjustThrottle(nowUs);
  }

  /** Timers: resends after the resend timeout. */
  due(nowUs: number): FtEffect[] {
    this.fx = [];
    for (const b of this.sender.due(nowUs)) this.resend(b);
    return this.takeEffects();
  }

  /** When `due` has work next (µs), or null. */
  nextDueUs(): number | null {
    return this.sender.nextDueUs();
  }

  // ---- one slice ----

  /**
   * Delivers pending events at the current icount, runs one slice of at most `budgetInstructions`
   * (trimmed to the timer deadline, the next hash point and the lag cap), then logs hash/progress
   * entries and sends the slice's batch. Does not run while flow control or the lag cap blocks it.
   */
  step(nowUs: number, budgetInstructions = this.settings.sliceInstructions): PrimaryStepResult {
    this.fx = [];
    if (!this.alone) {
      this.adjustThrottle(nowUs);
      this.maybeUnblock(nowUs);
    }
    const why = this.alone ? null : this.flow.blockReason(this.machine.icount);
    if (why !== null) {
      if (this.flow.block(why, nowUs)) {
        // The backup must be able to replay to exactly here, or nothing would ever unblock us.
        this.logProgressIfBehind();
        this.flush(nowUs);
        this.fx.push({ ev: 'blocked', why, inflightBytes: this.flow.inflightBytes, lagUs: this.flow.lagUs(this.machine.icount) });
      }
      return { retired: 0, reason: 'blocked', effects: this.takeEffects() };
    }
    // A sleeping guest wakes only with an event, logged at this icount: the backup, which stops at
    // the same wfi, then knows the primary did not run on from there (a divergence if it did).
    if (!this.deliverEvents(nowUs) && this.st.idle) return { retired: 0, reason: 'wfi', effects: this.takeEffects() };
    this.sliceStartUs = nowUs;
    this.sliceStartIcount = this.machine.icount;
    const res = this.machine.run(this.sliceBudget(nowUs, budgetInstructions));
    this.endSlice(res, nowUs);
    const detail = res.fault ?? (res.tohost !== undefined ? `tohost ${res.tohost}` : undefined);
    return { retired: res.retired, reason: res.reason, detail, effects: this.takeEffects() };
  }

  /**
   * The end of a run: logs a `hash` entry over every page (not the per-page cache) at the current
   * icount and sends it, so the backup replays to exactly here and compares whole states.
   */
  checkpoint(nowUs: number): FtEffect[] {
    this.fx = [];
    this.log({ icount: this.machine.icount, kind: 'hash', hash: this.machine.stateHash({ full: true }), full: true });
    this.flush(nowUs);
    return this.takeEffects();
  }

  /**
   * No backup any more (this primary won test-and-set, or a backup went live): every held output
   * leaves now, and from here nothing is logged and outputs leave at once (docs/design.md §4.9).
   */
  goAlone(nowUs: number): FtEffect[] {
    this.fx = [];
    this.alone = true;
    this.pending = [];
    // Nobody to send the unacknowledged batches to: without this they went on being resent to the
    // dead backup, with back-off, for as long as the primary served alone.
    this.sender.forget();
    this.rule.setAlone(true);
    this.rule.releaseAll(nowUs, this.fx);
    if (this.flow.blocked !== null) this.flow.unblock(nowUs);
    return this.takeEffects();
  }

  /**
   * A new backup starts from this machine's state at the current icount (FT VMotion): a new log
   * sequence from seq 1, an empty log buffer, full CPU share.
   */
  pairAnew(): void {
    const s = this.settings;
    const ic = this.machine.icount;
    this.alone = false;
    this.rule.setAlone(false);
    this.pending = [];
    this.flow = new FlowControl(s, ic);
    this.throttle = new Throttle(s);
    this.sender.restart();
    this.st.nextSeq = 1;
    this.st.lastLogged = { icount: ic, kind: 'progress' };
    this.st.nextHashIcount = ic + s.hashIntervalInstructions;
  }

  /** Sends disk requests again (a backup gone live: their completions were never logged). */
  reissue(requests: readonly DiskRequest[]): FtEffect[] {
    return requests.map((req) => ({ ev: 'output-released', out: { kind: 'disk', icount: this.machine.icount, req }, heldUs: 0, held: false }));
  }

  get isAlone(): boolean {
    return this.alone;
  }

  /** When the guest's timer wants attention (µs): the host wakes an idle guest then. */
  nextDeadlineUs(): number | null {
    return this.machine.timerDeadline();
  }

  hasPendingEvents(): boolean {
    return this.st.bounce.length > 0;
  }

  /**
   * Delivers the timer and everything in the bounce buffer now, at this icount. MTIP is a level
   * (privileged spec §3.2.1): the machine reports a deadline only while the timer is armed and not
   * already pending, so a guest that re-arms a past deadline is interrupted again.
   */
  private deliverEvents(nowUs: number): boolean {
    const m = this.machine;
    let delivered = false;
    const deadline = m.timerDeadline();
    if (deadline !== null && deadline <= nowUs) {
      delivered = true;
      m.deliverTimer();
      if (this.settings.logTimer) this.log({ icount: m.icount, kind: 'timer' });
    }
    for (const ev of this.st.bounce) {
      delivered = true;
      if (ev.kind === 'net-rx') {
        const r = m.deliverPacket(ev.bytes);
        if (r !== 'delivered') this.fx.push({ ev: 'packet-dropped', reason: r });
        this.log({ icount: m.icount, kind: 'net-rx', bytes: ev.bytes });
      } else {
        m.completeDisk(ev.id, ev.data, ev.failed === true);
        this.log({ icount: m.icount, kind: 'disk-done', id: ev.id, ...(ev.data ? { data: ev.data } : {}), ...(ev.failed ? { failed: true } : {}) });
      }
    }
    this.st.bounce = [];
    if (delivered) this.st.idle = false;
    return delivered;
  }

  private sliceBudget(nowUs: number, budget: number): number {
    const ic = this.machine.icount;
    let b = Math.max(1, Math.floor(budget));
    b = Math.min(b, this.st.nextHashIcount - ic, this.flow.budgetUnderCap(ic));
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
      if (this.real === null || this.real.now() - this.lastHashRealUs >= REAL_HASH_GAP_US) {
        this.log({ icount: ic, kind: 'hash', hash: this.machine.stateHash() });
        if (this.real) this.lastHashRealUs = this.real.now();
      }
      while (st.nextHashIcount <= ic) st.nextHashIcount += this.settings.hashIntervalInstructions;
    }
    const quiet = ic - st.lastLogged.icount >= this.settings.progressIntervalInstructions;
    st.idle = res.reason === 'wfi';
    const idle = st.idle && st.lastLogged.icount < ic;
    // A trailing nondet entry can only be consumed by a backup that runs past its icount.
    const trailingRead = st.lastLogged.kind === 'nondet' && st.lastLogged.icount < ic;
    // A guest that stopped (exit, fault) ran its last instruction here: the backup replays to here.
    const stopped = (res.reason === 'exit' || res.reason === 'fault') && st.lastLogged.icount < ic;
    if (this.rule.needsCover(ic) || quiet || idle || trailingRead || stopped) this.log({ icount: ic, kind: 'progress' });
    this.flush(nowUs);
    this.rule.release(this.flow.ackedSeq, nowUs, this.fx);
  }

  private logProgressIfBehind(): void {
    if (this.st.lastLogged.icount < this.machine.icount) this.log({ icount: this.machine.icount, kind: 'progress' });
  }

  private maybeUnblock(nowUs: number): void {
    const why = this.flow.blocked;
    if (why === null || this.flow.blockReason(this.machine.icount) !== null) return;
    const stalledUs = this.flow.unblock(nowUs);
    if (stalledUs !== null) this.fx.push({ ev: 'unblocked', why, stalledUs });
  }

  // ---- nondeterminism and output, called by the machine mid-run ----

  private answerNondet(kind: NondetKind, icount: number): number {
    const h = this.handedOver;
    this.handedOver = null;
    if (h && h.icount === icount && h.source === kind) return h.value;
    let value: number;
    if (kind === 'rng') {
      value = this.rng.nextU32() >>> 0;
    } else {
      const tUs = this.clockAt(icount);
      value = kind === 'time-lo' ? tUs >>> 0 : Math.floor(tUs / 0x1_0000_0000) >>> 0;
    }
    if (this.settings.logNondet) this.log({ icount, kind: 'nondet', source: kind, value });
    return value;
  }

  /** Host time at `icount` inside this slice: slice start plus instructions at the current speed. */
  private clockAt(icount: number): number {
    const tUs = this.real ? Math.floor(this.real.now()) : this.sliceStartUs + Math.floor(((icount - this.sliceStartIcount) * 1e6) / this.effectiveIps());
    this.st.lastTimeUs = Math.max(this.st.lastTimeUs, tUs);
    return this.st.lastTimeUs;
  }

  private effectiveIps(): number {
    return (this.real ? this.real.ips() : this.settings.speedIps) * this.throttle.cpuShare;
  }

  /**
   * The host runs on a real clock (free run): the guest's time reads take the clock itself, and a
   * slice's budget up to the timer deadline is reckoned at the host's measured speed.
   */
  useRealClock(real: { now(): number; ips(): number }): void {
    this.real = real;
  }

  private holdOutput(out: MachineOutput): void {
    this.rule.hold(out, this.clockAt(out.icount), this.fx);
    if (!this.rule.needsAck(out)) this.rule.release(this.flow.ackedSeq, this.clockAt(out.icount), this.fx);
  }

  // ---- logging ----

  private log(e: UnnumberedEntry): number {
    if (this.alone) return 0;
    const last = this.st.lastLogged;
    if (e.icount < last.icount) throw new Error(`log: entry at icount ${e.icount} after one at ${last.icount}`);
    const entry = { ...e, seq: this.st.nextSeq++ } as LogEntry;
    this.pending.push(entry);
    this.st.lastLogged = { icount: entry.icount, kind: entry.kind };
    if (entry.kind !== 'nondet') this.rule.cover(entry.seq, entry.icount);
    return entry.seq;
  }

  private flush(nowUs: number): void {
    if (this.pending.length === 0) return;
    const entries = this.pending;
    this.pending = [];
    const bytes = encodeBatch(entries, this.logBuffers?.take);
    this.flow.sent(entries.map((e) => ({ seq: e.seq, icount: e.icount, bytes: entryWireBytes(e) })));
    this.sender.sent({ first: entries[0].seq, last: entries[entries.length - 1].seq, entries }, nowUs);
    this.st.entriesSent += entries.length;
    this.st.bytesSent += bytes.byteLength;
    this.fx.push({ ev: 'log-sent', bytes, first: entries[0].seq, last: entries[entries.length - 1].seq, entries, resent: false });
  }

  private resend(b: SentBatch): void {
    this.fx.push({ ev: 'log-sent', bytes: encodeBatch(b.entries, this.logBuffers?.take), first: b.first, last: b.last, entries: [], resent: true });
  }

  // ---- throttling ----

  /** Backup lag in µs: its replay backlog at its measured replay speed (flow-control.ts). */
  lagUs(): number {
    return this.flow.lagUs(this.machine.icount);
  }

  private adjustThrottle(nowUs: number): void {
    const lagUs = this.lagUs();
    this.flow.noteLag(this.machine.icount);
    const share = this.throttle.update(nowUs, lagUs);
    if (share !== null) this.fx.push({ ev: 'cpu-share', share, lagUs });
  }

  private takeEffects(): FtEffect[] {
    const fx = this.fx;
    this.fx = [];
    return fx;
  }

  // ---- observation ----

  get cpuShare(): number {
    return this.throttle.cpuShare;
  }
  get inflightBytes(): number {
    return this.flow.inflightBytes;
  }
  get blocked(): boolean {
    return this.flow.blocked !== null;
  }
  get heldCount(): number {
    return this.rule.heldCount;
  }
  get ackedSeq(): number {
    return this.flow.ackedSeq;
  }
  get appliedSeq(): number {
    return this.flow.appliedSeq;
  }
  get lastSentSeq(): number {
    return this.st.nextSeq - 1;
  }
  get unackedBatches(): number {
    return this.sender.unackedBatches;
  }
  oldestHeldSinceUs(): number | null {
    return this.rule.oldestHeldSinceUs();
  }

  oldestHeldAgeUs(nowUs: number): number {
    return this.rule.oldestHeldAgeUs(nowUs);
  }
  stats(): {
    entriesSent: number;
    bytesSent: number;
    resends: number;
    stalls: StallSummary;
    blockedStalls: StallSummary;
    maxLagUs: number;
    cpuShare: number;
  } {
    return {
      entriesSent: this.st.entriesSent,
      bytesSent: this.st.bytesSent,
      resends: this.sender.resends,
      stalls: this.rule.summary(),
      blockedStalls: this.flow.summary(),
      maxLagUs: this.flow.maxLagUs,
      cpuShare: this.throttle.cpuShare,
    };
  }
  /** What every view shows: output-rule stalls so far (count, longest) and the log sent. */
  viewFigures(): { stallCount: number; stallMaxUs: number; entriesSent: number; bytesSent: number } {
    return { stallCount: this.rule.stalls.countAll, stallMaxUs: this.rule.stalls.maxAllUs, entriesSent: this.st.entriesSent, bytesSent: this.st.bytesSent };
  }

  /** The most recent output stalls (bounded), oldest first. */
  recentStalls(): OutputStall[] {
    return this.rule.recent.toArray();
  }

  /** Hypervisor state as plain data, bounded by what is in flight (the machine snapshots itself). */
  snapshot(): PrimaryState {
    return {
      core: structuredClone(this.st),
      rule: this.rule.snapshot(),
      flow: this.flow.snapshot(),
      throttle: this.throttle.snapshot(),
      sender: this.sender.snapshot(),
    };
  }
  restore(snap: PrimaryState): void {
    this.st = structuredClone(snap.core);
    this.rule.restore(snap.rule);
    this.flow.restore(snap.flow);
    this.throttle.restore(snap.throttle);
    this.sender.restore(snap.sender);
  }
}
