/**
 * Log entries and their wire encoding on the logging channel (docs/design.md §4).
 *
 * An entry is `{seq, icount, kind, ...data}`. Entries travel in batches; a batch is one
 * ArrayBuffer laid out as:
 *
 *   words 0..3                 batch header: MAGIC, VERSION, entry count, payload bytes total
 *   words 4 .. 4+7n            one 7-word header per entry (ENTRY_HEADER_WORDS):
 *                                seq, icount low, icount high, kind code, arg0, arg1, payload length
 *   then                       the entries' payloads, each padded to 4 bytes, in entry order
 *
 * icount takes two words because a guest passes 2^32 retired instructions in minutes. `decodeBatch`
 * validates everything (sizes, kinds, per-kind arguments, seq continuity, icount monotonic) before
 * it returns a single entry, so a malformed batch is rejected whole and never half-applied.
 */
import type { NondetKind } from '../machine/types';

export type LogEntry =
  | { seq: number; icount: number; kind: 'timer' }
  | { seq: number; icount: number; kind: 'net-rx'; bytes: Uint8Array }
  /** A disk request finished: `data` for a read; `failed` when the disk server answered an error. */
  | { seq: number; icount: number; kind: 'disk-done'; id: number; data?: Uint8Array; failed?: true }
  | { seq: number; icount: number; kind: 'nondet'; source: NondetKind; value: number }
  /** No event up to `icount`: lets the backup advance (and gives held output an entry to ack). */
  | { seq: number; icount: number; kind: 'progress' }
  /**
   * The primary's machine.stateHash() at `icount`. `full`: computed over every page, not from the
   * per-page cache (a run's last check: nothing that bypassed dirty tracking can hide).
   */
  | { seq: number; icount: number; kind: 'hash'; hash: string; full?: true }
  /**
   * Control operations carried in the log stream, at an icount (e.g. a VMotion hand-over point).
   * Heartbeats are never log entries: they are their own channel messages (channels.ts), so flow
   * control cannot starve them. The backup acknowledges control entries like any entry.
   */
  | { seq: number; icount: number; kind: 'control'; op: number; bytes: Uint8Array };

export type EntryKind = LogEntry['kind'];

/** An entry before the primary numbers it. */
export type UnnumberedEntry = LogEntry extends infer E ? (E extends LogEntry ? Omit<E, 'seq'> : never) : never;

export const BATCH_MAGIC = 0x4654_4c47; // 'FTLG'
export const BATCH_VERSION = 1;
export const BATCH_HEADER_WORDS = 4;
export const ENTRY_HEADER_WORDS = 7;
/** A single entry's payload may not exceed this (a jumbo frame or a 64-block disk read fits). */
export const ENTRY_PAYLOAD_BYTES_MAX = 64 * 1024;
export const BATCH_ENTRIES_MAX = 1 << 16;

const KIND_CODES: Record<EntryKind, number> = {
  timer: 1,
  'net-rx': 2,
  'disk-done': 3,
  nondet: 4,
  progress: 5,
  hash: 6,
  control: 7,
};
/** Kinds by code, as an array: the decoder looks one up per entry. */
const KIND_BY_CODE: (EntryKind | undefined)[] = [];
for (const [k, c] of Object.entries(KIND_CODES)) KIND_BY_CODE[c] = k as EntryKind;
const NONDET_CODES: Record<NondetKind, number> = { 'time-lo': 1, 'time-hi': 2, rng: 3 };
const NONDET_BY_CODE: (NondetKind | undefined)[] = [];
for (const [k, c] of Object.entries(NONDET_CODES)) NONDET_BY_CODE[c] = k as NondetKind;

const TWO32 = 0x1_0000_0000;

/** disk-done's arg1: no payload (a write), a read's data, or the request failed (no payload). */
const DISK_DONE_PLAIN = 0;
const DISK_DONE_DATA = 1;
const DISK_DONE_FAILED = 2;

export class LogFormatError extends Error {
  override name = 'LogFormatError';
}

/** What the receiver already holds, so continuity can be checked across batches. */
export interface BatchExpectation {
  nextSeq: number;
  lastIcount: number;
}

function pad4(n: number): number {
  return (n + 3) & ~3;
}

/** The bytes an entry occupies on the channel (header + padded payload): the flow-control unit. */
export function entryWireBytes(e: LogEntry): number {
  return ENTRY_HEADER_WORDS * 4 + pad4(payloadOf(e).length);
}

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8', { fatal: true });
const EMPTY = new Uint8Array(0);

function payloadOf(e: LogEntry): Uint8Array {
  switch (e.kind) {
    case 'net-rx':
      return e.bytes;
    case 'disk-done':
      return e.data ?? EMPTY;
    case 'hash':
      return textEncoder.encode(e.hash);
    case 'control':
      return e.bytes;
    case 'timer':
    case 'progress':
    case 'nondet':
      return EMPTY;
    default:
      return assertNever(e);
  }
}

function argsOf(e: LogEntry): [number, number] {
  switch (e.kind) {
    case 'disk-done':
      return [e.id | 0, e.failed ? DISK_DONE_FAILED : e.data ? DISK_DONE_DATA : DISK_DONE_PLAIN];
    case 'nondet':
      return [NONDET_CODES[e.source], e.value | 0];
    case 'control':
      return [e.op | 0, 0];
    case 'hash':
      return [e.full ? 1 : 0, 0];
    default:
      return [0, 0];
  }
}

export function assertNever(x: never): never {
  throw new Error(`unexpected value ${JSON.stringify(x)}`);
}

/**
 * Encodes a batch of entries (consecutive seqs, non-decreasing icounts) into one buffer of exactly
 * its length, from `alloc` (a `BatchBuffers` pool; the default a new ArrayBuffer). Every byte of
 * it is written, so a reused buffer carries nothing of the batch it held before.
 */
export function encodeBatch(entries: readonly LogEntry[], alloc?: (byteLength: number) => ArrayBuffer): ArrayBuffer {
  // Plain loops and no per-entry allocation: this runs once per entry on the logging channel's hot
  // path, and most entries (nondet, timer, progress) carry no payload.
  const n = entries.length;
  let payloads: (Uint8Array | undefined)[] | null = null;
  let payloadTotal = 0;
  for (let i = 0; i < n; i++) {
    const e = entries[i];
    if (e.kind === 'nondet' || e.kind === 'timer' || e.kind === 'progress') continue;
    const p = payloadOf(e);
    if (p.length === 0) continue;
    (payloads ??= new Array<Uint8Array | undefined>(n))[i] = p;
    payloadTotal += pad4(p.length);
  }
  const headerBytes = (BATCH_HEADER_WORDS + ENTRY_HEADER_WORDS * n) * 4;
  const total = headerBytes + payloadTotal;
  const buf = alloc ? alloc(total) : new ArrayBuffer(total);
  if (buf.byteLength !== total) throw new Error(`encodeBatch: a buffer of ${buf.byteLength} bytes for a batch of ${total}`);
  const words = new Int32Array(buf, 0, headerBytes / 4);
  const bytes = new Uint8Array(buf);
  words[0] = BATCH_MAGIC;
  words[1] = BATCH_VERSION;
  words[2] = n;
  words[3] = payloadTotal;
  let off = headerBytes;
  for (let i = 0; i < n; i++) {
    const e = entries[i];
    const w = BATCH_HEADER_WORDS + i * ENTRY_HEADER_WORDS;
    words[w] = e.seq | 0;
    words[w + 1] = e.icount % TWO32 | 0;
    words[w + 2] = Math.floor(e.icount / TWO32) | 0;
    words[w + 3] = KIND_CODES[e.kind];
    if (e.kind === 'nondet') {
      words[w + 4] = NONDET_CODES[e.source];
      words[w + 5] = e.value | 0;
    } else if (e.kind !== 'timer' && e.kind !== 'progress') {
      const [a0, a1] = argsOf(e);
      words[w + 4] = a0;
      words[w + 5] = a1;
    } else {
      words[w + 4] = 0;
      words[w + 5] = 0;
    }
    const p = payloads === null ? undefined : payloads[i];
    if (p !== undefined) {
      words[w + 6] = p.length;
      bytes.set(p, off);
      bytes.fill(0, off + p.length, off + pad4(p.length));
      off += pad4(p.length);
    } else words[w + 6] = 0;
  }
  return buf;
}

/**
 * Spent batch buffers, kept to encode later batches into (by exact length: a run's batches come in
 * few sizes). Where the logging channel crosses threads the batch's buffer is transferred, not
 * copied, and comes back from the other end once decoded (node-server.ts): fresh memory is what a
 * batch costs most on a host slow to fault pages in — there a new 28 KB buffer cost ten times
 * encoding into it. Holds at most `max` buffers, `perLength` of each length.
 */
export class BatchBuffers {
  private readonly free = new Map<number, ArrayBuffer[]>();
  private count = 0;
  reused = 0;

  constructor(
    private readonly max = 64,
    private readonly perLength = 8,
  ) {}

  /** A buffer of `byteLength` bytes: a spent one if there is one, else a new one. */
  readonly take = (byteLength: number): ArrayBuffer => {
    const list = this.free.get(byteLength);
    const buf = list?.pop();
    if (buf === undefined) return new ArrayBuffer(byteLength);
    this.count--;
    this.reused++;
    return buf;
  };

  /** A spent buffer back (a detached or empty one is no use, and one past the bounds is dropped). */
  give(buf: ArrayBuffer): void {
    if (buf.byteLength === 0 || buf.byteLength > BATCH_BYTES_MAX) return;
    let list = this.free.get(buf.byteLength);
    if (list === undefined) {
      if (this.count >= this.max) {
        // Full: make room by dropping the length put in longest ago.
        const [oldest, dropped] = this.free.entries().next().value as [number, ArrayBuffer[]];
        this.free.delete(oldest);
        this.count -= dropped.length;
      }
      this.free.set(buf.byteLength, (list = []));
    }
    if (list.length >= this.perLength || this.count >= this.max) return;
    list.push(buf);
    this.count++;
  }

  get size(): number {
    return this.count;
  }
}

/** The largest batch buffer kept for reuse (bigger batches are rare: jumbo frames, disk reads). */
const BATCH_BYTES_MAX = 256 * 1024;

function fail(msg: string): never {
  throw new LogFormatError(`malformed log batch: ${msg}`);
}

/**
 * Decodes and validates a batch. With `expect`, the first seq must be `expect.nextSeq` and the
 * first icount at least `expect.lastIcount`. Throws LogFormatError; returns nothing partial.
 */
export function decodeBatch(buf: ArrayBuffer, expect?: BatchExpectation): LogEntry[] {
  if (!(buf instanceof ArrayBuffer)) fail('not an ArrayBuffer');
  if (buf.byteLength < BATCH_HEADER_WORDS * 4 || buf.byteLength % 4 !== 0) fail(`length ${buf.byteLength} is not a whole header`);
  const head = new Int32Array(buf, 0, BATCH_HEADER_WORDS);
  if (head[0] !== BATCH_MAGIC) fail(`bad magic 0x${(head[0] >>> 0).toString(16)}`);
  if (head[1] !== BATCH_VERSION) fail(`unsupported version ${head[1]}`);
  const count = head[2];
  const payloadTotal = head[3];
  if (count < 0 || count > BATCH_ENTRIES_MAX) fail(`entry count ${count} out of range`);
  const headerBytes = (BATCH_HEADER_WORDS + ENTRY_HEADER_WORDS * count) * 4;
  if (payloadTotal < 0 || buf.byteLength !== headerBytes + payloadTotal) {
    fail(`length ${buf.byteLength} != headers ${headerBytes} + payload ${payloadTotal}`);
  }
  const words = new Int32Array(buf, 0, headerBytes / 4);
  const bytes = new Uint8Array(buf);
  const out: LogEntry[] = [];
  let off = headerBytes;
  let checked = expect !== undefined;
  let prevSeq = expect ? expect.nextSeq - 1 : 0;
  let prevIcount = expect ? expect.lastIcount : 0;
  for (let i = 0; i < count; i++) {
    const w = BATCH_HEADER_WORDS + i * ENTRY_HEADER_WORDS;
    const len = words[w + 6];
    if (len < 0 || len > ENTRY_PAYLOAD_BYTES_MAX) fail(`entry ${i}: payload length ${len} out of range`);
    if (off + pad4(len) > buf.byteLength) fail(`entry ${i}: payload runs past the end`);
    const payload = len === 0 ? EMPTY : bytes.slice(off, off + len);
    off += pad4(len);
    const e = decodeEntry(words, w, payload, i);
    if (checked && e.seq !== prevSeq + 1) fail(`entry ${i}: seq ${e.seq} does not follow ${prevSeq}`);
    if (checked && e.icount < prevIcount) fail(`entry ${i}: icount ${e.icount} goes back from ${prevIcount}`);
    checked = true;
    prevSeq = e.seq;
    prevIcount = e.icount;
    out.push(e);
  }
  if (off !== buf.byteLength) fail(`payload total ${payloadTotal} does not match entries (${off - headerBytes})`);
  return out;
}

function decodeEntry(words: Int32Array, w: number, payload: Uint8Array, i: number): LogEntry {
  const seq = words[w];
  const lo = words[w + 1] >>> 0;
  const hi = words[w + 2];
  if (seq < 0) fail(`entry ${i}: negative seq ${seq}`);
  if (hi < 0 || hi >= 1 << 21) fail(`entry ${i}: icount high word ${hi} out of range`);
  const icount = hi * TWO32 + lo;
  const code = words[w + 3];
  const kind = code >= 0 && code < KIND_BY_CODE.length ? KIND_BY_CODE[code] : undefined;
  if (!kind) fail(`entry ${i}: unknown kind code ${code}`);
  const a0 = words[w + 4];
  const a1 = words[w + 5];
  switch (kind) {
    case 'timer':
    case 'progress':
      needEmpty(payload, kind, i);
      return { seq, icount, kind };
    case 'net-rx':
      return { seq, icount, kind, bytes: payload };
    case 'disk-done':
      if (a1 === DISK_DONE_DATA) return { seq, icount, kind, id: a0, data: payload };
      if (a1 !== DISK_DONE_PLAIN && a1 !== DISK_DONE_FAILED) fail(`entry ${i}: disk-done flag ${a1}`);
      needEmpty(payload, kind, i);
      return a1 === DISK_DONE_FAILED ? { seq, icount, kind, id: a0, failed: true } : { seq, icount, kind, id: a0 };
    case 'nondet': {
      needEmpty(payload, kind, i);
      const source = a0 >= 0 && a0 < NONDET_BY_CODE.length ? NONDET_BY_CODE[a0] : undefined;
      if (!source) fail(`entry ${i}: unknown nondet source code ${a0}`);
      return { seq, icount, kind, source, value: a1 >>> 0 };
    }
    case 'hash':
      if (payload.length === 0) fail(`entry ${i}: empty hash`);
      if (a0 !== 0 && a0 !== 1) fail(`entry ${i}: hash full flag ${a0}`);
      try {
        const hash = textDecoder.decode(payload);
        return a0 === 1 ? { seq, icount, kind, hash, full: true } : { seq, icount, kind, hash };
      } catch {
        return fail(`entry ${i}: hash is not UTF-8`);
      }
    case 'control':
      return { seq, icount, kind, op: a0, bytes: payload };
    default:
      return assertNever(kind);
  }
}

function needEmpty(payload: Uint8Array, kind: EntryKind, i: number): void {
  if (payload.length !== 0) fail(`entry ${i}: ${kind} carries ${payload.length} payload bytes`);
}

/** One line per entry, for traces and error messages. */
export function describeEntry(e: LogEntry): string {
  switch (e.kind) {
    case 'net-rx':
      return `#${e.seq} @${e.icount} net-rx ${e.bytes.length}B`;
    case 'disk-done':
      return `#${e.seq} @${e.icount} disk-done id=${e.id}${e.data ? ` ${e.data.length}B` : ''}${e.failed ? ' FAILED' : ''}`;
    case 'nondet':
      return `#${e.seq} @${e.icount} nondet ${e.source}=${e.value}`;
    case 'hash':
      return `#${e.seq} @${e.icount} hash ${e.hash.slice(0, 12)}`;
    case 'control':
      return `#${e.seq} @${e.icount} control op=${e.op}`;
    default:
      return `#${e.seq} @${e.icount} ${e.kind}`;
  }
}
