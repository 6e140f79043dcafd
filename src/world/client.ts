/**
 * A client of the replicated service (docs/design.md §5). Closed loop: at most one operation
 * outstanding. It sends the request to SERVICE_ADDR, retransmits it with the *same* seq when the
 * retry timeout passes (the server may have executed it already — that is why the seq is kept),
 * and records every operation for the linearizability checker — compactly (op-log.ts), since a
 * long run makes about a million of them.
 *
 * Replies are matched by seq. At failover cut-over the new primary may re-emit a reply the old one
 * already sent (docs/design.md §4, "Outputs may be duplicated at cut-over"), so a reply for a seq that
 * has already completed is a *duplicate* and is dropped and recorded; a reply for an operation the
 * client gave up on is *stale*, dropped and recorded. A frame that is not a reply to this client at
 * all is *malformed*: counted by cause and reported, never thrown. Drops and malformed frames are
 * counted exactly for ever, but only the most recent ones are kept as records (recent.ts).
 *
 * No clock and no randomness of its own: `nowUs` is passed in, and the workload draws from a
 * seeded PRNG whose state is part of the snapshot.
 */
import {
  CLIENT_ADDR_BASE, FRAME_BYTES, MSG_REPLY, MSG_REQUEST, OP_COUNTER_INC, OP_KV_GET, OP_KV_PUT,
  SERVICE_ADDR, WireError, decodeMessage, encodeMessage, type ServiceMessage,
} from './wire';
import type { HistoryEntry } from './history';
import { OpLog, type OpLogSnapshot, type OpRecord } from './op-log';
import { mulberry32 } from './prng';
import { Recent } from './recent';

export type { OpRecord } from './op-log';

export type WorkloadKind = 'counter' | 'kv';

export interface ClientSettings {
  workload: WorkloadKind;
  /** How long to wait for a reply before sending the request again (same seq). */
  retryTimeoutUs: number;
  /** Give up on an operation after this many sends; 0 = retry forever. */
  giveUpAfterAttempts: number;
  /** kv: keys are 0 .. kvKeys-1 (a small space, so operations conflict). */
  kvKeys: number;
  /** kv: share of operations that are puts, 0..100. */
  kvPutPercent: number;
}

export const CLIENT_SETTINGS_DEFAULT: ClientSettings = {
  workload: 'counter',
  retryTimeoutUs: 200_000,
  giveUpAfterAttempts: 0,
  kvKeys: 4,
  kvPutPercent: 50,
};

/** Highest client id whose address still fits the 16-bit dst/src fields of the wire format. */
export const CLIENT_ID_MAX = 0xffff - CLIENT_ADDR_BASE;

export type DropReason = 'duplicate' | 'stale';

/** A reply the client dropped, kept (the most recent DROPS_KEPT) so the UI can show each one. */
export interface DropRecord {
  seq: number;
  atUs: number;
  reason: DropReason;
  value: number;
  status: number;
  /** Duplicate: does it carry the same result as the reply that completed the op? */
  sameResult: boolean | null;
}

/** Every reply the client dropped, by reason, since it was created. */
export interface DropCounts {
  duplicate: number;
  stale: number;
  /** Duplicates whose result differed from the completing reply's: the service ran an operation twice. */
  duplicateDiffering: number;
}

/** Why a frame is not a reply meant for this client (the `reason` text says it in full). */
export type MalformedCause =
  | 'length' | 'undecodable' | 'not-reply' | 'wrong-dst' | 'wrong-client' | 'unissued-seq' | 'wrong-op';

export const MALFORMED_CAUSES: readonly MalformedCause[] = [
  'length', 'undecodable', 'not-reply', 'wrong-dst', 'wrong-client', 'unissued-seq', 'wrong-op',
];

export interface MalformedRecord {
  atUs: number;
  cause: MalformedCause;
  reason: string;
}

export interface MalformedSummary {
  /** Every malformed frame since the client was created. */
  count: number;
  byCause: Record<MalformedCause, number>;
  /** The most recent MALFORMED_KEPT, oldest first. */
  recent: MalformedRecord[];
}

export type ReplyOutcome =
  | { kind: 'completed'; record: OpRecord }
  | { kind: 'duplicate'; drop: DropRecord }
  | { kind: 'stale'; drop: DropRecord }
  | { kind: 'malformed'; reason: string };

/** What due() found: at most one retransmission, or the operation it gave up on. */
export interface ClientDue {
  frames: Uint8Array[];
  gaveUp: OpRecord | null;
}

/** Dropped replies kept as records for the UI; older ones are only counted. */
export const DROPS_KEPT = 256;
/** Malformed-reply reasons kept for the UI; older ones are only counted. */
export const MALFORMED_KEPT = 32;

export interface ClientSnapshot {
  id: number;
  settings: ClientSettings;
  rngState: number;
  /** Every operation, as typed-array columns (op-log.ts). */
  ops: OpLogSnapshot;
  outstandingSeq: number | null;
  deadlineUs: number | null;
  dropCounts: DropCounts;
  /** The most recent drops, oldest first. */
  drops: DropRecord[];
  malformedCounts: Record<MalformedCause, number>;
  /** The most recent malformed frames, oldest first. */
  malformed: MalformedRecord[];
}

export class ClientError extends Error {
  override name = 'ClientError';
}

export class Client {
  readonly id: number;
  readonly addr: number;
  private settings: ClientSettings;
  private rngState: number;
  private log: OpLog;
  private outstandingSeq: number | null = null;
  private deadlineUs: number | null = null;
  private dropCounters: DropCounts = zeroDropCounts();
  private drops = new Recent<DropRecord>(DROPS_KEPT);
  private malformedCounts = zeroMalformedCounts();
  private malformed = new Recent<MalformedRecord>(MALFORMED_KEPT);

  constructor(id: number, seed: number, settings: Partial<ClientSettings> = {}) {
    if (!Number.isInteger(id) || id < 0 || id > CLIENT_ID_MAX) {
      throw new ClientError(`client id ${id} is not an integer in 0..${CLIENT_ID_MAX}`);
    }
    this.id = id;
    this.addr = CLIENT_ADDR_BASE + id;
    this.settings = checkSettings({ ...CLIENT_SETTINGS_DEFAULT, ...settings });
    this.rngState = seed >>> 0;
    this.log = new OpLog(id);
  }

  get busy(): boolean {
    return this.outstandingSeq !== null;
  }

  get currentSettings(): ClientSettings {
    return { ...this.settings };
  }

  /** New settings apply from the next send (a pending deadline is kept). */
  configure(patch: Partial<ClientSettings>): void {
    this.settings = checkSettings({ ...this.settings, ...patch });
  }

  /** Starts a new operation and returns its request frame; null if one is still outstanding. */
  invoke(nowUs: number): Uint8Array | null {
    if (this.busy) return null;
    const { op, key, arg } = this.nextOperation();
    const seq = this.log.append(op, key, arg, nowUs);
    this.outstandingSeq = seq;
    return this.send(seq, nowUs);
  }

  /** Retransmits the outstanding request if its deadline has passed, or gives up on it. */
  due(nowUs: number): ClientDue {
    const seq = this.outstandingSeq;
    if (seq === null || this.deadlineUs === null || nowUs < this.deadlineUs) return { frames: [], gaveUp: null };
    const limit = this.settings.giveUpAfterAttempts;
    if (limit > 0 && this.log.attemptsOf(seq) >= limit) {
      this.log.markGaveUp(seq);
      this.clearOutstanding();
      return { frames: [], gaveUp: this.log.record(seq) };
    }
    return { frames: [this.send(seq, nowUs)], gaveUp: null };
  }

  /** When due() next has something to do, or null when nothing is outstanding. */
  nextDeadlineUs(): number | null {
    return this.deadlineUs;
  }

  /** Takes a frame the network delivered to this client's address. Never throws. */
  onReply(bytes: Uint8Array, nowUs: number): ReplyOutcome {
    const parsed = this.parseReply(bytes);
    if ('cause' in parsed) return this.rejectMalformed(parsed, nowUs);
    const seq = parsed.seq;
    if (!this.log.has(seq)) return this.rejectMalformed({ cause: 'unissued-seq', reason: `reply for seq ${seq}, never issued` }, nowUs);
    const op = this.log.opOf(seq);
    if (parsed.op !== op) {
      return this.rejectMalformed({ cause: 'wrong-op', reason: `reply for seq ${seq} has op ${parsed.op}, request had op ${op}` }, nowUs);
    }
    if (seq === this.outstandingSeq) return { kind: 'completed', record: this.complete(seq, parsed, nowUs) };
    const drop = this.recordDrop(parsed, nowUs);
    return drop.reason === 'duplicate' ? { kind: 'duplicate', drop: { ...drop } } : { kind: 'stale', drop: { ...drop } };
  }

  /** Every operation invoked so far, as a checker reads it (built from the compact log). */
  history(): HistoryEntry[] {
    return this.log.entries();
  }

  /** The operations from row `from` (0-based: seq from + 1) on, as a checker reads them. */
  historyFrom(from: number): HistoryEntry[] {
    return this.log.entriesFrom(from);
  }

  /** How many operations this client has invoked (the highest seq). */
  operationCount(): number {
    return this.log.length;
  }

  /** Every operation with its delivery details (attempts, given up). */
  operations(): OpRecord[] {
    return this.log.records();
  }

  /** One operation by seq, or null if never issued. */
  operation(seq: number): OpRecord | null {
    return this.log.has(seq) ? this.log.record(seq) : null;
  }

  /** The most recent dropped replies (up to DROPS_KEPT), oldest first; dropCounts() has them all. */
  dropped(): DropRecord[] {
    return this.drops.toArray().map((d) => ({ ...d }));
  }

  /** Every dropped reply since the client was created, by reason. */
  dropCounts(): DropCounts {
    return { ...this.dropCounters };
  }

  /** Malformed frames: counted exactly, and the most recent ones (up to MALFORMED_KEPT) with their reason. */
  malformedReplies(): MalformedSummary {
    const byCause = { ...this.malformedCounts };
    const count = MALFORMED_CAUSES.reduce((n, c) => n + byCause[c], 0);
    return { count, byCause, recent: this.malformed.toArray().map((m) => ({ ...m })) };
  }

  /**
   * Bytes the operation log's columns hold, spare capacity included: the only part of a client that
   * grows with the run (drops and malformed frames are kept in bounded rings, not counted here).
   */
  retainedBytes(): number {
    return this.log.retainedBytes();
  }

  snapshot(): ClientSnapshot {
    return {
      id: this.id,
      settings: { ...this.settings },
      rngState: this.rngState,
      ops: this.log.snapshot(),
      outstandingSeq: this.outstandingSeq,
      deadlineUs: this.deadlineUs,
      dropCounts: this.dropCounts(),
      drops: this.dropped(),
      malformedCounts: { ...this.malformedCounts },
      malformed: this.malformedReplies().recent,
    };
  }

  /** Replaces this client's state with a snapshot's; throws before changing anything if it does not fit. */
  restore(s: ClientSnapshot): void {
    if (s.id !== this.id) throw new ClientError(`snapshot of client ${s.id} restored into client ${this.id}`);
    const settings = checkSettings({ ...s.settings });
    const log = new OpLog(this.id);
    log.restore(s.ops);
    if (s.outstandingSeq !== null && (!log.has(s.outstandingSeq) || log.returned(s.outstandingSeq))) {
      throw new ClientError(`snapshot's outstanding seq ${s.outstandingSeq} is not an unanswered operation`);
    }
    this.settings = settings;
    this.rngState = s.rngState >>> 0;
    this.log = log;
    this.outstandingSeq = s.outstandingSeq;
    this.deadlineUs = s.deadlineUs;
    this.dropCounters = { ...zeroDropCounts(), ...s.dropCounts };
    this.drops = new Recent(DROPS_KEPT, s.drops.map((d) => ({ ...d })));
    this.malformedCounts = { ...zeroMalformedCounts(), ...s.malformedCounts };
    this.malformed = new Recent(MALFORMED_KEPT, s.malformed.map((m) => ({ ...m })));
  }

  private clearOutstanding(): void {
    this.outstandingSeq = null;
    this.deadlineUs = null;
  }

  /** Encodes the request for `seq` (the same bytes on every attempt) and arms the deadline. */
  private send(seq: number, nowUs: number): Uint8Array {
    this.log.noteSent(seq, nowUs);
    this.deadlineUs = nowUs + this.settings.retryTimeoutUs;
    return encodeMessage({
      dst: SERVICE_ADDR, src: this.addr, type: MSG_REQUEST, op: this.log.opOf(seq), client: this.id,
      seq, key: this.log.keyOf(seq), value: this.log.argOf(seq), status: 0,
    });
  }

  private complete(seq: number, reply: ServiceMessage, nowUs: number): OpRecord {
    this.log.complete(seq, nowUs, reply.value, reply.status);
    this.clearOutstanding();
    return this.log.record(seq);
  }

  /** A reply for an issued seq that is not outstanding: completed before (duplicate) or given up (stale). */
  private recordDrop(reply: ServiceMessage, nowUs: number): DropRecord {
    const reason: DropReason = this.log.returned(reply.seq) ? 'duplicate' : 'stale';
    const sameResult = reason === 'duplicate' ? this.log.sameResult(reply.seq, reply.value, reply.status) : null;
    const drop: DropRecord = { seq: reply.seq, atUs: nowUs, reason, value: reply.value, status: reply.status, sameResult };
    this.dropCounters[reason] += 1;
    if (sameResult === false) this.dropCounters.duplicateDiffering += 1;
    this.drops.push(drop);
    return drop;
  }

  /** The reply as a message, or why it is not a reply meant for this client. */
  private parseReply(bytes: Uint8Array): ServiceMessage | Malformed {
    if (bytes.length !== FRAME_BYTES) return { cause: 'length', reason: `frame is ${bytes.length} bytes, expected ${FRAME_BYTES}` };
    let m: ServiceMessage;
    try {
      m = decodeMessage(bytes);
    } catch (e) {
      if (e instanceof WireError) return { cause: 'undecodable', reason: e.message };
      throw e;
    }
    if (m.type !== MSG_REPLY) return { cause: 'not-reply', reason: `message type ${m.type} is not a reply` };
    if (m.dst !== this.addr) return { cause: 'wrong-dst', reason: `frame is addressed to ${m.dst}, this client is ${this.addr}` };
    if (m.client !== this.id) return { cause: 'wrong-client', reason: `reply names client ${m.client}, this client is ${this.id}` };
    return m;
  }

  private rejectMalformed(m: Malformed, nowUs: number): ReplyOutcome {
    this.malformedCounts[m.cause] += 1;
    this.malformed.push({ atUs: nowUs, cause: m.cause, reason: m.reason });
    return { kind: 'malformed', reason: m.reason };
  }

  private draw(): number {
    const d = mulberry32(this.rngState);
    this.rngState = d.state;
    return d.value;
  }

  /**
   * The workload. counter: increments. kv: puts and gets over a small key space; every put writes
   * a value unique to (client, seq), so a checker can tell which put a get observed.
   */
  private nextOperation(): { op: number; key: number; arg: number } {
    if (this.settings.workload === 'counter') return { op: OP_COUNTER_INC, key: 0, arg: 0 };
    const key = this.draw() % this.settings.kvKeys;
    const isPut = this.draw() % 100 < this.settings.kvPutPercent;
    if (!isPut) return { op: OP_KV_GET, key, arg: 0 };
    const seq = this.log.length + 1;
    return { op: OP_KV_PUT, key, arg: ((this.id << 20) | (seq & 0xfffff)) >>> 0 };
  }
}

interface Malformed {
  cause: MalformedCause;
  reason: string;
}

function zeroDropCounts(): DropCounts {
  return { duplicate: 0, stale: 0, duplicateDiffering: 0 };
}

function zeroMalformedCounts(): Record<MalformedCause, number> {
  const out = {} as Record<MalformedCause, number>;
  for (const c of MALFORMED_CAUSES) out[c] = 0;
  return out;
}

function checkSettings(s: ClientSettings): ClientSettings {
  if (s.workload !== 'counter' && s.workload !== 'kv') throw new ClientError(`unknown workload ${String(s.workload)}`);
  if (!(s.retryTimeoutUs > 0)) throw new ClientError(`retry timeout ${s.retryTimeoutUs} µs must be > 0`);
  if (!Number.isInteger(s.giveUpAfterAttempts) || s.giveUpAfterAttempts < 0) {
    throw new ClientError(`giveUpAfterAttempts ${s.giveUpAfterAttempts} must be an integer ≥ 0`);
  }
  if (!Number.isInteger(s.kvKeys) || s.kvKeys < 1) throw new ClientError(`kvKeys ${s.kvKeys} must be an integer ≥ 1`);
  if (!(s.kvPutPercent >= 0 && s.kvPutPercent <= 100)) throw new ClientError(`kvPutPercent ${s.kvPutPercent} must be 0..100`);
  return s;
}
