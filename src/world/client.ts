/**
 * A client of the replicated service (DESIGN.md §5). Closed loop: at most one operation
 * outstanding. It sends the request to SERVICE_ADDR, retransmits it with the *same* seq when the
 * retry timeout passes (the server may have executed it already — that is why the seq is kept),
 * and records every operation for the linearizability checker.
 *
 * Replies are matched by seq. At failover cut-over the new primary may re-emit a reply the old one
 * already sent (DESIGN.md §4, "Outputs may be duplicated at cut-over"), so a reply for a seq that
 * has already completed is a *duplicate* and is dropped and recorded; a reply for an operation the
 * client gave up on is *stale*, dropped and recorded. A frame that is not a reply to this client at
 * all is *malformed*: counted and reported, never thrown.
 *
 * No clock and no randomness of its own: `nowUs` is passed in, and the workload draws from a
 * seeded PRNG whose state is part of the snapshot.
 */
import {
  CLIENT_ADDR_BASE, FRAME_BYTES, MSG_REPLY, MSG_REQUEST, OP_COUNTER_INC, OP_KV_GET, OP_KV_PUT,
  SERVICE_ADDR, WireError, decodeMessage, encodeMessage, type ServiceMessage,
} from './wire';
import type { HistoryEntry } from './history';
import { mulberry32 } from './prng';

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

/** An operation: its history entry plus what the UI shows about its delivery. */
export interface OpRecord extends HistoryEntry {
  attempts: number;
  lastSentUs: number;
  gaveUp: boolean;
}

export type DropReason = 'duplicate' | 'stale';

/** A reply the client dropped, kept so the UI can show each one. */
export interface DropRecord {
  seq: number;
  atUs: number;
  reason: DropReason;
  value: number;
  status: number;
  /** Duplicate: does it carry the same result as the reply that completed the op? */
  sameResult: boolean | null;
}

export interface MalformedRecord {
  atUs: number;
  reason: string;
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

/** Malformed-reply reasons kept for the UI; older ones are only counted. */
const MALFORMED_KEPT = 32;

export interface ClientSnapshot {
  id: number;
  settings: ClientSettings;
  rngState: number;
  records: OpRecord[];
  outstandingSeq: number | null;
  deadlineUs: number | null;
  drops: DropRecord[];
  malformedCount: number;
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
  /** records[seq - 1]: seqs start at 1 and are contiguous. */
  private records: OpRecord[] = [];
  private outstandingSeq: number | null = null;
  private deadlineUs: number | null = null;
  private drops: DropRecord[] = [];
  private malformedCount = 0;
  private malformed: MalformedRecord[] = [];

  constructor(id: number, seed: number, settings: Partial<ClientSettings> = {}) {
    if (!Number.isInteger(id) || id < 0 || id > CLIENT_ID_MAX) {
      throw new ClientError(`client id ${id} is not an integer in 0..${CLIENT_ID_MAX}`);
    }
    this.id = id;
    this.addr = CLIENT_ADDR_BASE + id;
    this.settings = checkSettings({ ...CLIENT_SETTINGS_DEFAULT, ...settings });
    this.rngState = seed >>> 0;
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
    const record: OpRecord = {
      client: this.id, seq: this.records.length + 1, op, key, arg,
      invokeUs: nowUs, returnUs: null, result: null, status: null,
      attempts: 0, lastSentUs: nowUs, gaveUp: false,
    };
    this.records.push(record);
    this.outstandingSeq = record.seq;
    return this.send(record, nowUs);
  }

  /** Retransmits the outstanding request if its deadline has passed, or gives up on it. */
  due(nowUs: number): ClientDue {
    const record = this.outstanding();
    if (!record || this.deadlineUs === null || nowUs < this.deadlineUs) return { frames: [], gaveUp: null };
    const limit = this.settings.giveUpAfterAttempts;
    if (limit > 0 && record.attempts >= limit) {
      record.gaveUp = true;
      this.clearOutstanding();
      return { frames: [], gaveUp: { ...record } };
    }
    return { frames: [this.send(record, nowUs)], gaveUp: null };
  }

  /** When due() next has something to do, or null when nothing is outstanding. */
  nextDeadlineUs(): number | null {
    return this.deadlineUs;
  }

  /** Takes a frame the network delivered to this client's address. Never throws. */
  onReply(bytes: Uint8Array, nowUs: number): ReplyOutcome {
    const parsed = this.parseReply(bytes);
    if (typeof parsed === 'string') return this.rejectMalformed(parsed, nowUs);
    const record = this.records[parsed.seq - 1];
    if (parsed.seq === 0 || !record) return this.rejectMalformed(`reply for seq ${parsed.seq}, never issued`, nowUs);
    if (parsed.op !== record.op) {
      return this.rejectMalformed(`reply for seq ${parsed.seq} has op ${parsed.op}, request had op ${record.op}`, nowUs);
    }
    if (parsed.seq === this.outstandingSeq) return { kind: 'completed', record: this.complete(record, parsed, nowUs) };
    const reason: DropReason = record.returnUs !== null ? 'duplicate' : 'stale';
    const drop: DropRecord = {
      seq: parsed.seq, atUs: nowUs, reason, value: parsed.value, status: parsed.status,
      sameResult: reason === 'duplicate' ? parsed.value === record.result && parsed.status === record.status : null,
    };
    this.drops.push(drop);
    return reason === 'duplicate' ? { kind: 'duplicate', drop: { ...drop } } : { kind: 'stale', drop: { ...drop } };
  }

  /** Every operation invoked so far, as a checker reads it. */
  history(): HistoryEntry[] {
    return this.records.map((r) => ({
      client: r.client, seq: r.seq, op: r.op, key: r.key, arg: r.arg,
      invokeUs: r.invokeUs, returnUs: r.returnUs, result: r.result, status: r.status,
    }));
  }

  /** Every operation with its delivery details (attempts, given up). */
  operations(): OpRecord[] {
    return this.records.map((r) => ({ ...r }));
  }

  /** One operation by seq, or null if never issued. */
  operation(seq: number): OpRecord | null {
    const r = this.records[seq - 1];
    return r ? { ...r } : null;
  }

  dropped(): DropRecord[] {
    return this.drops.map((d) => ({ ...d }));
  }

  malformedReplies(): { count: number; recent: MalformedRecord[] } {
    return { count: this.malformedCount, recent: this.malformed.map((m) => ({ ...m })) };
  }

  snapshot(): ClientSnapshot {
    return {
      id: this.id,
      settings: { ...this.settings },
      rngState: this.rngState,
      records: this.operations(),
      outstandingSeq: this.outstandingSeq,
      deadlineUs: this.deadlineUs,
      drops: this.dropped(),
      malformedCount: this.malformedCount,
      malformed: this.malformed.map((m) => ({ ...m })),
    };
  }

  restore(s: ClientSnapshot): void {
    if (s.id !== this.id) throw new ClientError(`snapshot of client ${s.id} restored into client ${this.id}`);
    this.settings = checkSettings({ ...s.settings });
    this.rngState = s.rngState >>> 0;
    this.records = s.records.map((r) => ({ ...r }));
    this.outstandingSeq = s.outstandingSeq;
    this.deadlineUs = s.deadlineUs;
    this.drops = s.drops.map((d) => ({ ...d }));
    this.malformedCount = s.malformedCount;
    this.malformed = s.malformed.map((m) => ({ ...m }));
  }

  private outstanding(): OpRecord | null {
    return this.outstandingSeq === null ? null : this.records[this.outstandingSeq - 1];
  }

  private clearOutstanding(): void {
    this.outstandingSeq = null;
    this.deadlineUs = null;
  }

  /** Encodes the request for `record` (the same bytes on every attempt) and arms the deadline. */
  private send(record: OpRecord, nowUs: number): Uint8Array {
    record.attempts += 1;
    record.lastSentUs = nowUs;
    this.deadlineUs = nowUs + this.settings.retryTimeoutUs;
    return encodeMessage({
      dst: SERVICE_ADDR, src: this.addr, type: MSG_REQUEST, op: record.op, client: this.id,
      seq: record.seq, key: record.key, value: record.arg, status: 0,
    });
  }

  private complete(record: OpRecord, reply: ServiceMessage, nowUs: number): OpRecord {
    record.returnUs = nowUs;
    record.result = reply.value;
    record.status = reply.status;
    this.clearOutstanding();
    return { ...record };
  }

  /** The reply as a message, or why it is not a reply meant for this client. */
  private parseReply(bytes: Uint8Array): ServiceMessage | string {
    if (bytes.length !== FRAME_BYTES) return `frame is ${bytes.length} bytes, expected ${FRAME_BYTES}`;
    let m: ServiceMessage;
    try {
      m = decodeMessage(bytes);
    } catch (e) {
      if (e instanceof WireError) return e.message;
      throw e;
    }
    if (m.type !== MSG_REPLY) return `message type ${m.type} is not a reply`;
    if (m.dst !== this.addr) return `frame is addressed to ${m.dst}, this client is ${this.addr}`;
    if (m.client !== this.id) return `reply names client ${m.client}, this client is ${this.id}`;
    return m;
  }

  private rejectMalformed(reason: string, nowUs: number): ReplyOutcome {
    this.malformedCount += 1;
    this.malformed.push({ atUs: nowUs, reason });
    if (this.malformed.length > MALFORMED_KEPT) this.malformed.shift();
    return { kind: 'malformed', reason };
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
    const seq = this.records.length + 1;
    return { op: OP_KV_PUT, key, arg: ((this.id << 20) | (seq & 0xfffff)) >>> 0 };
  }
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
