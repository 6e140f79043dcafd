/**
 * The backup's FT hypervisor (DESIGN.md §4, "Backup"; the paper §2.1, §3.4). It replays the
 * primary's log: it runs the guest only up to the icount of the next buffered entry and delivers
 * that entry's event exactly there; it answers nondet reads from `nondet` entries, never from its
 * own hardware; it never delivers its own timer; it discards output (keeping a list, so checkers
 * can compare it with what the primary released); it acks every batch on receipt (the Output Rule
 * needs receipt only) and again as replay drains its log buffer (flow control); and it compares
 * `hash` entries with its own state, reporting the first divergence with its icount.
 *
 * Note the run limit: a nondet read happens mid-run at the icount of the reading instruction, so
 * the backup never runs past the icount of the last entry it holds — it lags by at least one entry.
 */
import type { GuestMachine, MachineOutput, NondetKind } from '../machine/types';
import { assertNever, decodeBatch, describeEntry, type LogAck, type LogEntry } from './log';
import type { FtEffect } from './effects';

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

export interface BackupState {
  queue: LogEntry[];
  receivedSeq: number;
  lastReceivedIcount: number;
  appliedSeq: number;
  lastAckIcount: number;
  lastAckAppliedSeq: number;
  suppressed: MachineOutput[];
  hashesChecked: number;
  divergence: Divergence | null;
  entriesReceived: number;
}

export class BackupHypervisor {
  readonly role = 'backup' as const;
  private st: BackupState;
  private fx: FtEffect[] = [];
  /** Index of the first unapplied entry in st.queue (compacted now and then). */
  private head = 0;

  constructor(readonly machine: GuestMachine) {
    this.st = {
      queue: [],
      receivedSeq: 0,
      lastReceivedIcount: machine.icount,
      appliedSeq: 0,
      lastAckIcount: -1,
      lastAckAppliedSeq: 0,
      suppressed: [],
      hashesChecked: 0,
      divergence: null,
      entriesReceived: 0,
    };
    machine.setNondetSource({ read: (kind, icount) => this.replayNondet(kind, icount) });
    machine.setOutputSink({ output: (out) => this.suppress(out) });
  }

  /**
   * A batch arrived on the logging channel. Validated whole (LogFormatError on any fault, nothing
   * applied); then buffered and acknowledged at once, cumulatively.
   */
  onLog(bytes: ArrayBuffer): FtEffect[] {
    const entries = decodeBatch(bytes, { nextSeq: this.st.receivedSeq + 1, lastIcount: this.st.lastReceivedIcount });
    if (entries.length === 0) return [];
    this.st.queue.push(...entries);
    const last = entries[entries.length - 1];
    this.st.receivedSeq = last.seq;
    this.st.lastReceivedIcount = last.icount;
    this.st.entriesReceived += entries.length;
    return [this.ack()];
  }

  private ack(): FtEffect {
    this.st.lastAckIcount = this.machine.icount;
    this.st.lastAckAppliedSeq = this.st.appliedSeq;
    const ack: LogAck = { type: 'ack', ackSeq: this.st.receivedSeq, appliedSeq: this.st.appliedSeq, backupIcount: this.machine.icount };
    return { kind: 'send-ack', ack };
  }

  /** Replays buffered entries, running at most `budgetInstructions` guest instructions. */
  step(budgetInstructions: number): BackupStepResult {
    this.fx = [];
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
      if (res.reason === 'exit' || res.reason === 'fault') {
        this.diverge(this.machine.icount, `guest stopped (${res.reason}${res.fault ? `: ${res.fault}` : ''}) before entry at ${target}`);
      } else if (res.reason === 'wfi' && res.retired === 0) {
        // The primary ran on from here, so it took an interrupt we have not been given.
        this.diverge(this.machine.icount, `guest idles at ${this.machine.icount} but the log runs to ${target}`);
      }
    }
    if (this.st.divergence) waiting = true;
    this.compact();
    // Tell the primary what left the log buffer (flow control) and where we are (lag).
    const moved = this.machine.icount !== this.st.lastAckIcount;
    if (this.st.appliedSeq !== this.st.lastAckAppliedSeq || (waiting && moved)) this.fx.push(this.ack());
    const effects = this.fx;
    this.fx = [];
    return { retired, waiting, effects };
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
        m.deliverPacket(e.bytes);
        break;
      case 'disk-done':
        m.completeDisk(e.id, e.data);
        break;
      case 'hash':
        return this.checkHash(e);
      case 'progress':
      case 'control': // control operations (heartbeat, go-live, VMotion) are handled by later roles
        break;
      case 'nondet':
        throw new Error('nondet entries are consumed by reads');
      default:
        assertNever(e);
    }
    this.fx.push({ kind: 'entry-applied', entry: e });
  }

  private checkHash(e: Extract<LogEntry, { kind: 'hash' }>): void {
    const mine = this.machine.stateHash();
    this.st.hashesChecked++;
    if (mine !== e.hash) return this.diverge(e.icount, `state hash ${short(mine)} != primary's ${short(e.hash)}`);
    this.fx.push({ kind: 'hash-ok', icount: e.icount, hash: e.hash });
  }

  private replayNondet(kind: NondetKind, icount: number): number {
    const e = this.st.queue[this.head];
    if (!e || e.kind !== 'nondet' || e.icount !== icount || e.source !== kind) {
      this.diverge(icount, `guest read ${kind} at ${icount}, log has ${e ? describeEntry(e) : 'nothing'}`);
      return 0;
    }
    this.head++;
    this.st.appliedSeq = e.seq;
    return e.value;
  }

  private suppress(out: MachineOutput): void {
    this.st.suppressed.push(out);
    this.fx.push({ kind: 'output-suppressed', out });
  }

  private diverge(icount: number, reason: string): void {
    if (this.st.divergence) return;
    this.st.divergence = { icount, reason };
    this.fx.push({ kind: 'divergence', icount, reason });
  }

  private compact(): void {
    if (this.head > 4096 && this.head * 2 > this.st.queue.length) {
      this.st.queue = this.st.queue.slice(this.head);
      this.head = 0;
    }
  }

  // ---- observation ----

  get divergence(): Divergence | null {
    return this.st.divergence;
  }
  get receivedSeq(): number {
    return this.st.receivedSeq;
  }
  get appliedSeq(): number {
    return this.st.appliedSeq;
  }
  get bufferedEntries(): number {
    return this.st.queue.length - this.head;
  }
  get hashesChecked(): number {
    return this.st.hashesChecked;
  }
  get suppressedCount(): number {
    return this.st.suppressed.length;
  }
  /** Every output the backup discarded, in order (for checkers). */
  suppressedOutputs(): readonly MachineOutput[] {
    return this.st.suppressed;
  }
  entriesReceived(): number {
    return this.st.entriesReceived;
  }

  snapshot(): BackupState {
    return structuredClone({ ...this.st, queue: this.st.queue.slice(this.head) });
  }
  restore(snap: BackupState): void {
    this.st = structuredClone(snap);
    this.head = 0;
  }
}

function short(h: string): string {
  return h.length > 16 ? `${h.slice(0, 16)}…` : h;
}
