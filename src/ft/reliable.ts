/**
 * The logging channel made reliable over a link that may lose, reorder or cut messages (paper
 * §2.2 runs it over TCP; docs/design.md §4). Two halves, one per role:
 *
 *  - `LogSender` (primary): keeps every batch until the backup has acknowledged receiving it;
 *    resends from the first unacknowledged seq when the backup asks (it saw a gap), or after
 *    `resendTimeoutUs` without an ack advancing — backing off while nothing gets through, so a long
 *    partition does not flood the link. Acks are cumulative, so a lost ack costs nothing once a
 *    later one arrives, and a resent batch makes the backup repeat its ack.
 *  - `LogReceiver` (backup): accepts batches in seq order; holds early batches (a gap before them)
 *    and asks for the missing ones; drops duplicates and overlaps, answering with its cumulative
 *    ack so the primary learns what got through.
 *
 * Batches are resent as they were first sent (the same entries, encoded to the same bytes), so a seq
 * is always in the same batch; the receiver still trims overlaps entry by entry, so it never depends
 * on that.
 */
import { decodeBatch, LogFormatError, type LogEntry } from './log';

/**
 * A batch as the sender keeps it: its entries, encoded again for a resend. Not its bytes: where
 * the channel crosses threads they are handed over with the message, not copied (log.ts,
 * `BatchBuffers`). A batch encodes to the same bytes every time.
 */
export interface SentBatch {
  first: number;
  last: number;
  entries: readonly LogEntry[];
}

export interface LogSenderState {
  unacked: SentBatch[];
  ackedSeq: number;
  /** When the oldest unacked batch is due for a resend (null: nothing unacked). */
  resendAtUs: number | null;
  backoff: number;
  resends: number;
}

/** Resend timeouts double while nothing gets through, up to this many times the base timeout. */
const BACKOFF_MAX = 4;

export class LogSender {
  private st: LogSenderState = { unacked: [], ackedSeq: 0, resendAtUs: null, backoff: 1, resends: 0 };

  constructor(private readonly resendTimeoutUs: number) {}

  /** A batch was sent for the first time. */
  sent(batch: SentBatch, nowUs: number): void {
    const prev = this.st.unacked[this.st.unacked.length - 1];
    if (prev && batch.first !== prev.last + 1) throw new Error(`log sender: batch #${batch.first} does not follow #${prev.last}`);
    this.st.unacked.push(batch);
    if (this.st.resendAtUs === null) this.st.resendAtUs = nowUs + this.resendTimeoutUs;
  }

  /** The backup has every entry up to ackSeq: forget those batches; progress resets the timer. */
  acked(ackSeq: number, nowUs: number): void {
    const st = this.st;
    if (ackSeq <= st.ackedSeq) return;
    st.ackedSeq = ackSeq;
    while (st.unacked.length > 0 && st.unacked[0].last <= ackSeq) st.unacked.shift();
    st.backoff = 1;
    st.resendAtUs = st.unacked.length > 0 ? nowUs + this.resendTimeoutUs : null;
  }

  /** No backup any more: every kept batch dropped, no resend due (what was counted stays). */
  forget(): void {
    this.st.unacked = [];
    this.st.resendAtUs = null;
    this.st.backoff = 1;
  }

  /** A new backup, a new log sequence from seq 1 (FT VMotion): as new, but the count of resends stays. */
  restart(): void {
    this.forget();
    this.st.ackedSeq = 0;
  }

  /** The backup asks for everything from `fromSeq`: the batches to send again. */
  resendFrom(fromSeq: number, nowUs: number): SentBatch[] {
    const out = this.st.unacked.filter((b) => b.last >= fromSeq);
    if (out.length > 0) {
      this.st.resends += out.length;
      this.st.resendAtUs = nowUs + this.resendTimeoutUs * this.st.backoff;
    }
    return out;
  }

  /** Timer: if no ack advanced for the timeout, every unacked batch again (with back-off). */
  due(nowUs: number): SentBatch[] {
    const st = this.st;
    if (st.resendAtUs === null || nowUs < st.resendAtUs || st.unacked.length === 0) return [];
    st.backoff = Math.min(BACKOFF_MAX, st.backoff * 2);
    st.resendAtUs = nowUs + this.resendTimeoutUs * st.backoff;
    st.resends += st.unacked.length;
    return [...st.unacked];
  }

  nextDueUs(): number | null {
    return this.st.unacked.length > 0 ? this.st.resendAtUs : null;
  }

  get unackedBatches(): number {
    return this.st.unacked.length;
  }
  get resends(): number {
    return this.st.resends;
  }

  snapshot(): LogSenderState {
    return structuredClone(this.st);
  }
  restore(s: LogSenderState): void {
    this.st = structuredClone(s);
  }
}

/** What the receiver made of one arriving batch. */
export type ReceiveOutcome =
  /** New entries in order (possibly several held batches joined up behind this one). */
  | { kind: 'accepted'; entries: LogEntry[] }
  /** Everything in it was received before: answer with the cumulative ack. */
  | { kind: 'duplicate'; first: number; last: number }
  /** A gap before it: held (if there is room) and the missing seqs asked for. */
  | { kind: 'gap'; expected: number; first: number; askFrom: number | null };

export interface LogReceiverState {
  receivedSeq: number;
  lastReceivedIcount: number;
  early: LogEntry[][];
  askedFromSeq: number;
  askedAtUs: number;
}

/** At most this many early batches are held; more are dropped (the resend brings them again). */
export const EARLY_BATCHES_MAX = 256;

export class LogReceiver {
  private st: LogReceiverState;

  constructor(
    icount: number,
    private readonly resendTimeoutUs: number,
  ) {
    this.st = { receivedSeq: 0, lastReceivedIcount: icount, early: [], askedFromSeq: 0, askedAtUs: -Infinity };
  }

  /** Decodes and places one batch. Throws LogFormatError (nothing changed) if it is malformed. */
  receive(bytes: ArrayBuffer, nowUs: number): ReceiveOutcome {
    const entries = decodeBatch(bytes);
    if (entries.length === 0) throw new LogFormatError('malformed log batch: no entries');
    const first = entries[0].seq;
    const last = entries[entries.length - 1].seq;
    const st = this.st;
    if (last <= st.receivedSeq) return { kind: 'duplicate', first, last };
    if (first > st.receivedSeq + 1) return this.hold(entries, nowUs);
    const fresh = first > st.receivedSeq ? entries : entries.filter((e) => e.seq > st.receivedSeq);
    this.checkIcount(fresh[0]);
    const accepted = fresh;
    this.advance(fresh);
    for (;;) {
      const next = this.takeEarly();
      if (!next) break;
      accepted.push(...next);
    }
    return { kind: 'accepted', entries: accepted };
  }

  private hold(entries: LogEntry[], nowUs: number): ReceiveOutcome {
    const st = this.st;
    const first = entries[0].seq;
    if (st.early.length < EARLY_BATCHES_MAX && !st.early.some((b) => b[0].seq === first)) {
      st.early.push(entries);
      st.early.sort((a, b) => a[0].seq - b[0].seq);
    }
    const askFrom = st.receivedSeq + 1;
    // One request per gap per timeout: every early batch behind the same gap would ask again.
    const ask = askFrom !== st.askedFromSeq || nowUs - st.askedAtUs >= this.resendTimeoutUs;
    if (ask) {
      st.askedFromSeq = askFrom;
      st.askedAtUs = nowUs;
    }
    return { kind: 'gap', expected: askFrom, first, askFrom: ask ? askFrom : null };
  }

  /** The next held batch, if it now joins on (trimmed of what was already received). */
  private takeEarly(): LogEntry[] | null {
    const st = this.st;
    while (st.early.length > 0 && st.early[0][st.early[0].length - 1].seq <= st.receivedSeq) st.early.shift();
    const b = st.early[0];
    if (!b || b[0].seq > st.receivedSeq + 1) return null;
    st.early.shift();
    const fresh = b.filter((e) => e.seq > st.receivedSeq);
    // A held batch that does not continue the icounts is dropped (the resend brings a good one);
    // throwing here would lose the batch just accepted in front of it.
    if (fresh[0].icount < st.lastReceivedIcount) return null;
    this.advance(fresh);
    return fresh;
  }

  private checkIcount(e: LogEntry): void {
    if (e.icount < this.st.lastReceivedIcount) {
      throw new LogFormatError(`malformed log batch: entry #${e.seq} icount ${e.icount} goes back from ${this.st.lastReceivedIcount}`);
    }
  }

  private advance(entries: LogEntry[]): void {
    const last = entries[entries.length - 1];
    this.st.receivedSeq = last.seq;
    this.st.lastReceivedIcount = last.icount;
  }

  get receivedSeq(): number {
    return this.st.receivedSeq;
  }
  get heldEarly(): number {
    return this.st.early.length;
  }

  snapshot(): LogReceiverState {
    return structuredClone(this.st);
  }
  restore(s: LogReceiverState): void {
    this.st = structuredClone(s);
  }
}
