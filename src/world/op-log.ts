/**
 * One client's operations, stored column by column in growable typed arrays. A ten-minute
 * simulated run does about a million client operations; as one JS object each (≈150 bytes of heap)
 * the history alone would crowd the two VMs out of the process's memory budget. Here an operation
 * costs 46 bytes (more only while the columns have room to grow), and the complete history — which
 * the linearizability checker needs — is kept for ever. Objects are built on demand.
 *
 * Seqs start at 1 and are contiguous (the client numbers its operations), so seq is the row + 1
 * and is not stored; neither is the client id, the same on every row.
 */
import type { HistoryEntry } from './history';

/** An operation: its history entry plus what the UI shows about its delivery. */
export interface OpRecord extends HistoryEntry {
  attempts: number;
  lastSentUs: number;
  gaveUp: boolean;
}

/** The columns, one element per operation (row = seq - 1). Also the snapshot form, sliced to length. */
export interface OpColumns {
  op: Uint8Array;
  /** FLAG_RETURNED, FLAG_GAVE_UP. */
  flags: Uint8Array;
  key: Uint32Array;
  arg: Uint32Array;
  /** Meaningful only with FLAG_RETURNED; 0 otherwise. */
  result: Uint32Array;
  status: Uint32Array;
  attempts: Uint32Array;
  invokeUs: Float64Array;
  /** Meaningful only with FLAG_RETURNED; 0 otherwise. */
  returnUs: Float64Array;
  lastSentUs: Float64Array;
}

export type OpLogSnapshot = OpColumns;

export class OpLogError extends Error {
  override name = 'OpLogError';
}

/** A reply arrived: returnUs, result and status hold it. A flag, since any time or value is valid. */
const FLAG_RETURNED = 1;
const FLAG_GAVE_UP = 2;

const COLUMN_TYPES = {
  op: Uint8Array, flags: Uint8Array,
  key: Uint32Array, arg: Uint32Array, result: Uint32Array, status: Uint32Array, attempts: Uint32Array,
  invokeUs: Float64Array, returnUs: Float64Array, lastSentUs: Float64Array,
} as const;

type ColumnName = keyof OpColumns;
const COLUMN_NAMES = Object.keys(COLUMN_TYPES) as ColumnName[];

/** Bytes one operation takes across all columns. */
export const OP_LOG_BYTES_PER_OP = COLUMN_NAMES.reduce((n, c) => n + COLUMN_TYPES[c].BYTES_PER_ELEMENT, 0);

/** Columns start here and double when full: appends stay O(1) amortised, and at most half is spare. */
const CAPACITY_INITIAL = 64;
const UINT32_MAX = 0xffff_ffff;

export class OpLog {
  readonly client: number;
  private cols: OpColumns;
  private count = 0;

  constructor(client: number) {
    this.client = client;
    this.cols = allocate(CAPACITY_INITIAL);
  }

  /** Operations recorded so far; the last one has seq === length. */
  get length(): number {
    return this.count;
  }

  /** Records a new operation (not yet sent) and returns its seq. */
  append(op: number, key: number, arg: number, invokeUs: number): number {
    if (!isUint(op, 0xff) || !isUint(key, UINT32_MAX) || !isUint(arg, UINT32_MAX)) {
      throw new OpLogError(`operation op ${op} key ${key} arg ${arg} does not fit the wire fields`);
    }
    if (this.count === this.cols.op.length) this.cols = resized(this.cols, this.count, this.count * 2);
    const row = this.count++;
    const c = this.cols;
    c.op[row] = op;
    c.flags[row] = 0;
    c.key[row] = key;
    c.arg[row] = arg;
    c.result[row] = 0;
    c.status[row] = 0;
    c.attempts[row] = 0;
    c.invokeUs[row] = invokeUs;
    c.returnUs[row] = 0;
    c.lastSentUs[row] = invokeUs;
    return this.count;
  }

  has(seq: number): boolean {
    return Number.isInteger(seq) && seq >= 1 && seq <= this.count;
  }

  opOf(seq: number): number {
    return this.cols.op[this.row(seq)];
  }

  keyOf(seq: number): number {
    return this.cols.key[this.row(seq)];
  }

  argOf(seq: number): number {
    return this.cols.arg[this.row(seq)];
  }

  attemptsOf(seq: number): number {
    return this.cols.attempts[this.row(seq)];
  }

  returned(seq: number): boolean {
    return (this.cols.flags[this.row(seq)] & FLAG_RETURNED) !== 0;
  }

  /** Whether a reply carries the result that completed `seq` (false if it never completed). */
  sameResult(seq: number, result: number, status: number): boolean {
    const row = this.row(seq);
    return this.returned(seq) && this.cols.result[row] === result && this.cols.status[row] === status;
  }

  /** One more send of `seq` at `nowUs`; returns the attempt number. */
  noteSent(seq: number, nowUs: number): number {
    const row = this.row(seq);
    this.cols.lastSentUs[row] = nowUs;
    return ++this.cols.attempts[row];
  }

  complete(seq: number, returnUs: number, result: number, status: number): void {
    const row = this.row(seq);
    if (!isUint(result, UINT32_MAX) || !isUint(status, UINT32_MAX)) {
      throw new OpLogError(`reply result ${result} status ${status} does not fit the wire fields`);
    }
    this.cols.flags[row] |= FLAG_RETURNED;
    this.cols.returnUs[row] = returnUs;
    this.cols.result[row] = result;
    this.cols.status[row] = status;
  }

  markGaveUp(seq: number): void {
    this.cols.flags[this.row(seq)] |= FLAG_GAVE_UP;
  }

  /** One operation as a checker reads it. */
  entry(seq: number): HistoryEntry {
    const c = this.cols;
    const row = this.row(seq);
    const returned = (c.flags[row] & FLAG_RETURNED) !== 0;
    return {
      client: this.client, seq, op: c.op[row], key: c.key[row], arg: c.arg[row], invokeUs: c.invokeUs[row],
      returnUs: returned ? c.returnUs[row] : null, result: returned ? c.result[row] : null, status: returned ? c.status[row] : null,
    };
  }

  /**
   * One operation with its delivery details: the entry, with three fields set on the same object
   * (not spread into a new one: this runs on every send).
   */
  record(seq: number): OpRecord {
    const c = this.cols;
    const row = this.row(seq);
    const r = this.entry(seq) as OpRecord;
    r.attempts = c.attempts[row];
    r.lastSentUs = c.lastSentUs[row];
    r.gaveUp = (c.flags[row] & FLAG_GAVE_UP) !== 0;
    return r;
  }


  entries(): HistoryEntry[] {
    return this.entriesFrom(0);
  }

  /** The operations from row `from` (0-based) on: what a reader holding the rows before it lacks. */
  entriesFrom(from: number): HistoryEntry[] {
    const start = Math.min(Math.max(0, Math.floor(from)), this.count);
    return Array.from({ length: this.count - start }, (_, i) => this.entry(start + i + 1));
  }

  records(): OpRecord[] {
    return Array.from({ length: this.count }, (_, i) => this.record(i + 1));
  }

  /** Bytes the columns hold, spare capacity included: what the log really costs. */
  retainedBytes(): number {
    return COLUMN_NAMES.reduce((n, c) => n + this.cols[c].byteLength, 0);
  }

  /** The columns sliced to length: plain structured-clone data, independent of this log. */
  snapshot(): OpLogSnapshot {
    return resized(this.cols, this.count, this.count);
  }

  /** Replaces the log with a snapshot's; throws before changing anything if it is malformed. */
  restore(s: OpLogSnapshot): void {
    const count = checkSnapshot(s);
    this.cols = resized(s, count, Math.max(count, CAPACITY_INITIAL));
    this.count = count;
  }

  private row(seq: number): number {
    if (!this.has(seq)) throw new OpLogError(`client ${this.client} has no operation with seq ${seq}`);
    return seq - 1;
  }
}

/**
 * Rows [`from`, `to`) of a snapshot's columns, copied. Every row of a log but its last is final (a
 * client has one operation outstanding, its newest), so a later snapshot of the same log holds an
 * earlier one's rows but the last unchanged: time travel's checkpoints keep only that row each
 * (src/runtime/checkpoints.ts) and share the rest.
 */
export function sliceOps(s: OpLogSnapshot, from: number, to: number): OpLogSnapshot {
  const count = checkSnapshot(s);
  if (!(Number.isInteger(from) && Number.isInteger(to) && 0 <= from && from <= to && to <= count)) throw new OpLogError(`rows ${from} to ${to} of an operation log of ${count}`);
  return copyRows(s, from, to, to - from);
}

/** The first `n` rows of `head` followed by every row of `tail`, copied into new columns. */
export function concatOps(head: OpLogSnapshot, n: number, tail: OpLogSnapshot): OpLogSnapshot {
  const count = checkSnapshot(head);
  const more = checkSnapshot(tail);
  if (!(Number.isInteger(n) && 0 <= n && n <= count)) throw new OpLogError(`the first ${n} rows of an operation log of ${count}`);
  const out = allocate(n + more);
  for (const name of COLUMN_NAMES) {
    out[name].set(head[name].subarray(0, n));
    out[name].set(tail[name], n);
  }
  return out;
}

function allocate(capacity: number): OpColumns {
  const out = {} as Record<ColumnName, unknown>;
  for (const name of COLUMN_NAMES) out[name] = new COLUMN_TYPES[name](capacity);
  return out as OpColumns;
}

/** New columns of `capacity` holding the first `count` rows of `cols` (a copy, never a view). */
function resized(cols: OpColumns, count: number, capacity: number): OpColumns {
  return copyRows(cols, 0, count, capacity);
}

/** New columns of `capacity` holding rows [`from`, `to`) of `cols` (a copy, never a view). */
function copyRows(cols: OpColumns, from: number, to: number, capacity: number): OpColumns {
  const out = allocate(capacity);
  for (const name of COLUMN_NAMES) out[name].set(cols[name].subarray(from, to));
  return out;
}

/** The snapshot's row count, or OpLogError naming what is wrong. */
function checkSnapshot(s: OpLogSnapshot): number {
  if (typeof s !== 'object' || s === null) throw new OpLogError('operation log snapshot is not an object');
  if (!(s.op instanceof Uint8Array)) throw new OpLogError('operation log snapshot column op is not a Uint8Array');
  const count = s.op.length;
  for (const name of COLUMN_NAMES) {
    const col: unknown = s[name];
    if (!(col instanceof COLUMN_TYPES[name]) || col.length !== count) {
      throw new OpLogError(`operation log snapshot column ${name} is not a ${COLUMN_TYPES[name].name} of ${count} rows`);
    }
  }
  return count;
}

function isUint(x: number, max: number): boolean {
  return Number.isInteger(x) && x >= 0 && x <= max;
}
