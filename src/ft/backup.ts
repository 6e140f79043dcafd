/**
 * The backup's FT hypervisor (docs/design.md §4 "Backup"; the paper §2.1, §3.2). It replays the
 * primary's log: it runs the guest only up to the icount of the next buffered entry and delivers
 * that entry's event exactly there; it answers nondet reads from `nondet` entries, never from its
 * own hardware; it never delivers its own timer; it discards output (counting it); it acks every
 * batch on receipt (the Output Rule needs receipt only), again as replay drains its log buffer
 * (flow control), and periodically (a lost ack is repaired); and it compares `hash` entries with
 * its own state, reporting the first divergence with its icount. Batches arrive through the
 * LogReceiver (reliable.ts): in order, gaps asked for, duplicates dropped.
 *
 * The run limit: a nondet read happens mid-run at the icount of the reading instruction, so the
 * backup never runs past the icount of the last entry it holds — it lags by at least one entry.
 */
import type { GuestMachine, MachineOutput, NondetKind } from '../machine/types';
import type { LogAck, LogBatchMsg } from './channels';
import { assertNever, describeEntry, LogFormatError, type LogEntry } from './log';
import type { FtEffect } from './effects';
import { resolveFtSettings, type FtSettings } from './settings';
import { LogReceiver, type LogReceiverState } from './reliable';
import { Ring } from './stats';

export interface Divergence {
  icount: number;
  reason: string;
}

export interface BackupStepResult {
  retired: number;
  /** true: nothing more can run until more log arrives (or it diverged). */
  waiting: boolean;
  effects: FtEffect[];
}

interface BackupCore {
  queue: LogEntry[];
  appliedSeq: number;
  lastAck: { ackSeq: number; appliedSeq: number; icount: number; atUs: number } | null;
  replayIps: number;
  suppressed: number;
  hashesChecked: number;
  divergence: Divergence | null;
  entriesReceived: number;
  /** Bounce buffer off: seqs of net-rx entries whose bytes already landed, not yet delivered. */
  earlyRx: number[];
}

export interface BackupState {
  core: BackupCore;
  receiver: LogReceiverState;
}

export const RECENT_SUPPRESSED = 64;

export class BackupHypervisor {
  readonly role = 'backup' as const;
  readonly settings: FtSettings;
  private st: BackupCore;
  private readonly receiver: LogReceiver;
  private fx: FtEffect[] = [];
  /** Index of the first unapplied entry in st.queue (compacted now and then). */
  private head = 0;
  /** The most recent suppressed outputs, for the UI. */
  readonly recentSuppressed = new Ring<MachineOutput>(RECENT_SUPPRESSED);

  /** Host time at the start of the current step: the backup's own clock, for the "break it" switches. */
  private stepUs = 0;
  private stepIcount = 0;

  constructor(
    readonly machine: GuestMachine,
    settings: Partial<FtSettings> = {},
    /** The backup's own RNG: read only with the logNondet switch off. */
    private readonly ownRng: { nextU32(): number } | null = null,
  ) {
    this.settings = resolveFtSettings(settings);
    this.st = {
      queue: [], appliedSeq: 0, lastAck: null, replayIps: 0, suppressed: 0, hashesChecked: 0, divergence: null, entriesReceived: 0, earlyRx: [],
    };
    this.receiver = new LogReceiver(machine.icount, this.settings.resendTimeoutUs);
    machine.setNondetSource({ read: (kind, icount) => this.replayNondet(kind, icount) });
    machine.setOutputSink({ output: (out) => this.suppress(out) });
  }

  /**
   * A batch arrived on the logging channel: validated whole (a malformed one is dropped with a
   * `log-rejected` effect and changes nothing), placed in order, and acknowledged at once.
   */
  onLoggingMsg(msg: LogBatchMsg, nowUs: number): FtEffect[] {
    this.fx = [];
    let outcome;
    try {
      outcome = this.receiver.receive(msg.bytes, nowUs);
    } catch (err) {
      if (!(err instanceof LogFormatError)) throw err;
      return [{ ev: 'log-rejected', error: err.message }];
    }
    switch (outcome.kind) {
      case 'accepted':
        for (const e of outcome.entries) this.st.queue.push(e);
        this.st.entriesReceived += outcome.entries.length;
        if (!this.settings.bounceBuffer) this.dmaOnArrival(outcome.entries);
        this.ack(nowUs);
        break;
      case 'duplicate':
        this.fx.push({ ev: 'log-duplicate', first: outcome.first, last: outcome.last });
        this.ack(nowUs);
        break;
      case 'gap':
        this.fx.push({ ev: 'log-gap', expected: outcome.expected, first: outcome.first });
        if (outcome.askFrom !== null) this.fx.push({ ev: 'resend-requested', fromSeq: outcome.askFrom });
        break;
      default:
        assertNever(outcome);
    }
    return this.takeEffects();
  }

  /**
   * "Break it" (no bounce buffer): the data of each packet and disk read lands in guest memory now,
   * at whatever instruction the guest is at, not at the entry's icount — the DMA race of FT paper
   * §3.4. The completion still comes at the icount (apply).
   */
  private dmaOnArrival(entries: readonly LogEntry[]): void {
    const m = this.machine;
    for (const e of entries) {
      let landed = false;
      if (e.kind === 'net-rx') {
        landed = m.dmaPacketAhead(e.bytes, this.st.earlyRx.length);
        if (landed) this.st.earlyRx.push(e.seq);
      } else if (e.kind === 'disk-done' && e.data !== undefined && e.failed !== true) {
        landed = m.dmaDiskAhead(e.id, e.data);
      }
      if (landed) this.fx.push({ ev: 'dma-early', kind: e.kind as 'net-rx' | 'disk-done', seq: e.seq, loggedIcount: e.icount, icount: m.icount });
    }
  }

  /** The host's measured replay speed (instructions per second of its time), reported in acks. */
  setReplayIps(ips: number): void {
    if (Number.isFinite(ips) && ips > 0) this.st.replayIps = ips;
  }

  private ack(nowUs: number): void {
    const icount = this.machine.icount;
    const ack: LogAck = { type: 'ack', ackSeq: this.receiver.receivedSeq, appliedSeq: this.st.appliedSeq, backupIcount: icount, replayIps: this.st.replayIps };
    this.st.lastAck = { ackSeq: ack.ackSeq, appliedSeq: ack.appliedSeq, icount, atUs: nowUs };
    this.fx.push({ ev: 'ack-sent', ack });
  }

  /**
   * Timers: the first ack goes out at once, before any log arrives — it tells the primary the
   * backup's replay speed, so the lag cap holds from the first slice on; after that the cumulative
   * ack is repeated every ackRepeatIntervalUs, so a lost ack is repaired.
   */
  due(nowUs: number): FtEffect[] {
    this.fx = [];
    const due = this.nextDueUs();
    if (due !== null && nowUs >= due) this.ack(nowUs);
    return this.takeEffects();
  }

  nextDueUs(): number | null {
    const a = this.st.lastAck;
    return a === null ? 0 : a.atUs + this.settings.ackRepeatIntervalUs;
  }

  /** Replays buffered entries, running at most `budgetInstructions` guest instructions. */
  step(budgetInstructions: number, nowUs: number): BackupStepResult {
    this.fx = [];
    this.stepUs = nowUs;
    this.stepIcount = this.machine.icount;
    // "Break it": with timer interrupts not logged, the backup takes them from its own clock.
    if (!this.settings.logTimer) {
      const d = this.machine.timerDeadline();
      if (d !== null && d <= nowUs) this.machine.deliverTimer();
    }
    let retired = 0;
    let waiting = false;
    while (!this.st.divergence) {
      this.applyDue();
      if (this.st.divergence) break;
      const target = this.runTarget();
      const ic = this.machine.icount;
      if (target === null || target <= ic) {
        waiting = true;
        break;
      }
      if (retired >= budgetInstructions) break;
      const res = this.machine.run(Math.min(target - ic, budgetInstructions - retired));
      retired += res.retired;
      const at = this.machine.icount;
      if (res.reason === 'exit' || res.reason === 'fault') {
        // Stopped exactly where the primary logged its next entry: the primary's guest stopped
        // there too (it logs the icount it stopped at); apply what is due there. Stopped earlier,
        // or (next time round) with entries past it, the primary ran on where this guest did not.
        if (at === target) {
          this.fx.push({ ev: 'guest-stopped', reason: res.reason, detail: res.fault ?? (res.tohost !== undefined ? `tohost ${res.tohost}` : '') });
          continue;
        }
        this.diverge(at, `guest stopped (${res.reason}${res.fault ? `: ${res.fault}` : ''}) before entry at ${target}`);
      } else if (res.reason === 'wfi' && at < target && !this.entryAt(at)) {
        // The primary's guest sleeps at a wfi until an event, logged at that icount, wakes it.
        this.diverge(at, `guest sleeps at wfi at ${at} but the primary ran on to ${target} with no event here`);
      }
    }
    if (this.st.divergence) waiting = true;
    this.compact();
    const a = this.st.lastAck;
    const moved = a === null || this.machine.icount !== a.icount;
    if (a === null || this.st.appliedSeq !== a.appliedSeq || (waiting && moved)) this.ack(nowUs);
    return { retired, waiting, effects: this.takeEffects() };
  }

  /**
   * How far the guest may run now: to the first event entry (it is delivered there); if only
   * nondet entries are buffered, to the last one's icount, so no read can run past the log.
   */
  private runTarget(): number | null {
    const q = this.st.queue;
    if (this.head >= q.length) return null;
    for (let i = this.head; i < q.length; i++) if (q[i].kind !== 'nondet') return q[i].icount;
    return q[q.length - 1].icount;
  }

  private entryAt(icount: number): boolean {
    const e = this.st.queue[this.head];
    return e !== undefined && e.icount === icount;
  }

  /** Applies every entry due at the current icount (nondet entries wait for their read). */
  private applyDue(): void {
    const q = this.st.queue;
    const ic = this.machine.icount;
    while (this.head < q.length && !this.st.divergence) {
      const e = q[this.head];
      if (e.icount < ic) return this.diverge(ic, `ran past entry ${describeEntry(e)}`);
      if (e.icount > ic || e.kind === 'nondet') return;
      this.head++;
      this.st.appliedSeq = e.seq;
      this.apply(e);
    }
  }

  private apply(e: LogEntry): void {
    const m = this.machine;
    switch (e.kind) {
      case 'timer':
        m.deliverTimer();
        break;
      case 'net-rx':
        if (this.st.earlyRx[0] === e.seq) this.st.earlyRx.shift();
        m.deliverPacket(e.bytes);
        break;
      case 'disk-done':
        m.completeDisk(e.id, e.data, e.failed === true);
        break;
      case 'hash':
        return this.checkHash(e);
      case 'progress':
      case 'control':
        break;
      case 'nondet':
        throw new Error('nondet entries are consumed by reads');
      default:
        assertNever(e);
    }
    this.fx.push({ ev: 'entry-applied', entry: e });
  }

  private checkHash(e: Extract<LogEntry, { kind: 'hash' }>): void {
    const mine = this.machine.stateHash(e.full ? { full: true } : undefined);
    this.st.hashesChecked++;
    if (mine !== e.hash) return this.diverge(e.icount, `state hash ${short(mine)} != primary's ${short(e.hash)}`);
    this.fx.push({ ev: 'hash-ok', icount: e.icount, hash: e.hash });
  }

  private replayNondet(kind: NondetKind, icount: number): number {
    if (!this.settings.logNondet) return this.ownNondet(kind, icount);
    const e = this.st.queue[this.head];
    if (!e || e.kind !== 'nondet' || e.icount !== icount || e.source !== kind) {
      this.diverge(icount, `guest read ${kind} at ${icount}, log has ${e ? describeEntry(e) : 'nothing'}`);
      return 0;
    }
    this.head++;
    this.st.appliedSeq = e.seq;
    return e.value;
  }

  /** "Break it": the backup's own clock and RNG, as the primary would answer on this host. */
  private ownNondet(kind: NondetKind, icount: number): number {
    if (kind === 'rng') return (this.ownRng?.nextU32() ?? 0) >>> 0;
    const tUs = this.stepUs + Math.floor(((icount - this.stepIcount) * 1e6) / this.settings.speedIps);
    return kind === 'time-lo' ? tUs >>> 0 : Math.floor(tUs / 0x1_0000_0000) >>> 0;
  }

  private suppress(out: MachineOutput): void {
    this.st.suppressed++;
    this.recentSuppressed.push(out);
    this.fx.push({ ev: 'output-suppressed', out });
  }

  private diverge(icount: number, reason: string): void {
    if (this.st.divergence) return;
    this.st.divergence = { icount, reason };
    this.fx.push({ ev: 'divergence', icount, reason });
  }

  private compact(): void {
    if (this.head > 4096 && this.head * 2 > this.st.queue.length) {
      this.st.queue = this.st.queue.slice(this.head);
      this.head = 0;
    }
  }

  private takeEffects(): FtEffect[] {
    const fx = this.fx;
    this.fx = [];
    return fx;
  }

  /**
   * Going live: the nondet value logged for the read the guest is about to make, if the log held
   * one (the old primary already answered it, so the new one must answer it the same way).
   */
  handOver(): { icount: number; source: NondetKind; value: number } | null {
    const e = this.st.queue[this.head];
    if (!e || e.kind !== 'nondet' || e.icount !== this.machine.icount) return null;
    return { icount: e.icount, source: e.source, value: e.value };
  }

  // ---- observation ----

  get divergence(): Divergence | null {
    return this.st.divergence;
  }
  get receivedSeq(): number {
    return this.receiver.receivedSeq;
  }
  get appliedSeq(): number {
    return this.st.appliedSeq;
  }
  get bufferedEntries(): number {
    return this.st.queue.length - this.head;
  }
  /** Icount of the last entry received: how far the backup could replay with what it holds. */
  get lastReceivedIcount(): number {
    const q = this.st.queue;
    return q.length > this.head ? q[q.length - 1].icount : this.machine.icount;
  }
  get hashesChecked(): number {
    return this.st.hashesChecked;
  }
  get suppressedCount(): number {
    return this.st.suppressed;
  }
  entriesReceived(): number {
    return this.st.entriesReceived;
  }

  /** Hypervisor state as plain data: what is buffered, bounded by the log buffer. */
  snapshot(): BackupState {
    return { core: structuredClone({ ...this.st, queue: this.st.queue.slice(this.head) }), receiver: this.receiver.snapshot() };
  }
  restore(snap: BackupState): void {
    this.st = structuredClone(snap.core);
    this.receiver.restore(snap.receiver);
    this.head = 0;
  }
}

function short(h: string): string {
  return h.length > 16 ? `${h.slice(0, 16)}…` : h;
}
