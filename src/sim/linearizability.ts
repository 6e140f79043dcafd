/**
 * Linearizability checker for the client histories (docs/design.md §5.1, §6.5), with models for the
 * counter and the key/value store, written for this project.
 *
 * The search is Wing & Gong's with Lowe's memoization, as Porcupine and Knossos run it: a depth-first
 * search that repeatedly linearizes some operation invoked before the earliest return still open,
 * remembering every (model state, set of operations linearized) already explored so that no
 * configuration is searched twice.
 *
 * What the checker assumes about the history, and why:
 * - A reply with STATUS_DISK_ERROR or STATUS_BAD_REQUEST says the request was not applied (the guests
 *   undo a failed write before answering): such operations are dropped before checking, as if never
 *   invoked. (A server rebooted on a disk it cannot read answers a retry of an operation it applied
 *   before the reboot with DISK_ERROR too; the checker believes the reply, so that shows up as a
 *   violation.)
 * - An operation that never returned (`returnUs === null`) may have taken effect at any time after
 *   its invocation, or never. A get that never returned constrains nothing and is dropped; a kv put
 *   that never returned matters only if some get read its value, and is dropped otherwise.
 * - Equal times are concurrent: an operation precedes another only if it returned strictly before
 *   the other was invoked.
 * - The counter does not wrap at 2^32 (a run would need four billion increments).
 *
 * Keeping the search small:
 * - kv histories are split by key (P-compositionality: each key is an independent register).
 * - Each object's history is cut at quiescent points, where every returned operation invoked before
 *   has returned and none spans the point; the windows between cuts are searched one after another,
 *   carrying the state across. A carried state must stand for every linearization of the prefix:
 *   - counter: the value after a window is the start plus one per increment applied, so it is fixed
 *     except for never-returned increments, which may apply in any later window. Those are carried
 *     as "tokens" too, and the window is searched for the fewest tokens it needs: that outcome
 *     dominates the others, since the next window can apply any spare token first.
 *   - kv: the value after a window is the last put linearized, which differs between linearizations
 *     when puts overlap at the end. A final value that no later get reads is as good as any other
 *     (every later read must follow a later put), so a window is closed only where at most one
 *     candidate final value is read later; if several are, the window runs on to the next cut. The
 *     window is then searched for that value (a virtual final read) before any other. A
 *     never-returned put read by some get stretches its window to that get's return, so it never
 *     needs carrying.
 * - The search budget counts steps (one operation tried, or one step back) per window, so a long
 *   history costs time in proportion to its length and only a window that is really ambiguous
 *   comes back 'unknown'.
 *
 * A violation names the operations whose replies cannot all be explained, found by relaxing replies
 * in the failing window: a get is dropped, an increment or put keeps its effect but its reply is no
 * longer checked (dropping a write would change what the others could see and make up a different
 * failure). Relaxing only makes a history easier to linearize, so a binary search finds the first
 * and last reply needed, then each reply between is relaxed if the window still fails without it.
 * The window is judged from the state the earlier windows leave, which the explanation states.
 */
import { HistoryError, type HistoryEntry } from '../world/history';
import {
  OP_COUNTER_GET, OP_COUNTER_INC, OP_KV_GET, OP_KV_PUT, STATUS_BAD_REQUEST, STATUS_DISK_ERROR,
  STATUS_NOT_FOUND, STATUS_OK,
} from '../world/wire';

export type LinModel = 'counter' | 'kv';

export interface LinOptions {
  /** Search steps allowed per window (and again for shrinking a violation); default 1,000,000. */
  budget?: number;
  /** counter: the value before the first operation (a disk may hold one); default 0. */
  counterStart?: number;
}

export type LinResult =
  | { kind: 'ok' }
  | { kind: 'violation'; subHistory: HistoryEntry[]; explanation: string }
  | { kind: 'unknown'; reason: string };

export const LIN_BUDGET_DEFAULT = 1_000_000;

/** The kv model's value for "never put" (values are uint32, so -1 is never a value). */
const ABSENT = -1;

/**
 * Checks that `history` (any order) is linearizable under `model`: 'ok', a violation naming the
 * operations that cannot be explained, or 'unknown' when a window's search ran out of budget.
 * Throws HistoryError for an entry that cannot belong to the model's history.
 */
export function checkLinearizable(history: readonly HistoryEntry[], model: LinModel, opts: LinOptions = {}): LinResult {
  const budget = opts.budget ?? LIN_BUDGET_DEFAULT;
  if (!(budget >= 1)) throw new RangeError(`budget ${budget} must be at least 1 step`);
  const applied = history.filter((e) => e.status !== STATUS_DISK_ERROR && e.status !== STATUS_BAD_REQUEST);
  for (const e of applied) checkEntry(e, model);
  if (model === 'counter') return checkCounter(applied.map(counterOp), opts.counterStart ?? 0, budget);
  return checkKv(applied, budget);
}

function checkEntry(e: HistoryEntry, model: LinModel): void {
  const ops = model === 'counter' ? [OP_COUNTER_INC, OP_COUNTER_GET] : [OP_KV_GET, OP_KV_PUT];
  if (!ops.includes(e.op)) throw new HistoryError(`client ${e.client} seq ${e.seq}: op ${e.op} is not a ${model} operation`);
  if (e.returnUs !== null && (e.result === null || e.status === null)) {
    throw new HistoryError(`client ${e.client} seq ${e.seq} returned without a result and status`);
  }
}

// ---------------------------------------------------------------------------------------------
// Operations as the search sees them

/** An operation in the search. Times are µs; a never-returned operation has returnUs Infinity. */
interface SearchOp {
  /** The history entry; null for the virtual final read of a targeted kv search. */
  entry: HistoryEntry | null;
  op: number;
  arg: number;
  /** Is the reply checked? Not for a never-returned operation, nor for one the shrinker relaxed. */
  known: boolean;
  /** The reply as a model value (counter value; kv value or ABSENT); NaN for a reply no state gives. */
  result: number;
  invokeUs: number;
  returnUs: number;
  /** Never returned: may be linearized any time after its invocation, or not at all. */
  optional: boolean;
}

/** The model's transition: the state after `op`, or NaN if `op`'s reply cannot come from `state`. */
type Step = (state: number, op: SearchOp) => number;

function counterStep(state: number, op: SearchOp): number {
  const next = op.op === OP_COUNTER_INC ? state + 1 : state;
  return !op.known || op.result === next ? next : NaN;
}

/** A put replies with the value it stored; a get with the value, or NOT_FOUND if never put. */
function kvStep(state: number, op: SearchOp): number {
  if (op.op === OP_KV_PUT) return !op.known || op.result === op.arg ? op.arg : NaN;
  return !op.known || op.result === state ? state : NaN;
}

function searchOp(e: HistoryEntry, result: number): SearchOp {
  const returned = e.returnUs !== null;
  return {
    entry: e, op: e.op, arg: e.arg, known: returned, result: returned ? result : NaN,
    invokeUs: e.invokeUs, returnUs: e.returnUs ?? Infinity, optional: !returned,
  };
}

function counterOp(e: HistoryEntry): SearchOp {
  return searchOp(e, e.status === STATUS_OK ? (e.result as number) : NaN);
}

function kvOp(e: HistoryEntry): SearchOp {
  if (e.status === STATUS_OK) return searchOp(e, e.result as number);
  // NOT_FOUND carries value 0 on the wire; only the status says "no value".
  return searchOp(e, e.status === STATUS_NOT_FOUND && e.op === OP_KV_GET ? ABSENT : NaN);
}

const isRead = (op: SearchOp): boolean => op.op === OP_COUNTER_GET || op.op === OP_KV_GET;

// ---------------------------------------------------------------------------------------------
// Windows: cuts at quiescent points

/** An operation and the time until which it keeps the history from being cut. */
interface Span {
  op: SearchOp;
  endUs: number;
}

interface Window {
  ops: SearchOp[];
  /** The latest end of its spans: every later window's operations are invoked after it. */
  endUs: number;
}

/** Splits spans at every point that all earlier spans have ended strictly before. */
function quiescentWindows(spans: Span[]): Window[] {
  spans.sort((a, b) => a.op.invokeUs - b.op.invokeUs || compareEntries(a.op.entry, b.op.entry));
  const out: Window[] = [];
  for (const s of spans) {
    const last = out[out.length - 1];
    if (last && s.op.invokeUs <= last.endUs) {
      last.ops.push(s.op);
      last.endUs = Math.max(last.endUs, s.endUs);
    } else {
      out.push({ ops: [s.op], endUs: s.endUs });
    }
  }
  return out;
}

function compareEntries(a: HistoryEntry | null, b: HistoryEntry | null): number {
  if (!a || !b) return 0;
  return a.client - b.client || a.seq - b.seq;
}

/** The returned operation that returned last among `ops` (for explanations), or the previous one. */
function lastReturned(ops: readonly SearchOp[], prev: SearchOp | null): SearchOp | null {
  let last = prev;
  for (const op of ops) if (!op.optional && (!last || op.returnUs >= last.returnUs)) last = op;
  return last;
}

// ---------------------------------------------------------------------------------------------
// The counter

function checkCounter(ops: SearchOp[], start: number, budget: number): LinResult {
  const twice = sameIncrement(ops);
  if (twice) return twice;
  // Never-returned gets constrain nothing. Never-returned increments do not hold a window open:
  // they are carried as tokens (a zero-length span puts them in the window they were invoked in).
  const kept = ops.filter((op) => !(op.optional && op.op === OP_COUNTER_GET));
  const windows = quiescentWindows(kept.map((op) => ({ op, endUs: op.optional ? op.invokeUs : op.returnUs })));
  let state = start;
  let tokens: SearchOp[] = [];
  let before: SearchOp | null = null;
  for (const w of windows) {
    const r = counterWindow(w.ops, state, tokens, { left: budget });
    if (r.kind === 'budget') return { kind: 'unknown', reason: budgetReason(budget, w.ops, '') };
    if (r.kind === 'none') return counterViolation(w.ops, state, tokens, before, budget);
    state = r.state;
    tokens = r.unused.map((t) => ({ ...t, invokeUs: -Infinity }));
    before = lastReturned(w.ops, before);
  }
  return { kind: 'ok' };
}

/**
 * Two increments that both replied v: the value only grows, by one per increment, so no order gives
 * it twice. Checked first because it is the lecture's failure and this says it plainly.
 */
function sameIncrement(ops: readonly SearchOp[]): LinResult | null {
  const byValue = new Map<number, SearchOp>();
  const incs = ops.filter((op) => op.op === OP_COUNTER_INC && op.known && !Number.isNaN(op.result));
  incs.sort((a, b) => a.invokeUs - b.invokeUs || compareEntries(a.entry, b.entry));
  for (const op of incs) {
    const first = byValue.get(op.result);
    if (!first) {
      byValue.set(op.result, op);
      continue;
    }
    const pair = [first.entry, op.entry] as HistoryEntry[];
    return {
      kind: 'violation', subHistory: pair,
      explanation: `${describeOp(pair[0])} and ${describeOp(pair[1])}: two increments returned the same value`,
    };
  }
  return null;
}

type WindowResult = { kind: 'found'; state: number; unused: SearchOp[] } | { kind: 'none' } | { kind: 'budget' };

/**
 * One counter window from `start` with `tokens` (never-returned increments from earlier windows):
 * the outcome that uses the fewest never-returned increments. Using j of them ends at
 * start + increments + j, and no reply may exceed that, so j starts at the smallest that reaches the
 * highest reply; j need not exceed highest reply − start, since an increment applied after the
 * last checked reply could as well be applied in the next window.
 */
function counterWindow(ops: readonly SearchOp[], start: number, tokens: readonly SearchOp[], steps: Steps): WindowResult {
  const all = [...tokens, ...ops];
  let incs = 0;
  let optional = 0;
  let highest = -Infinity;
  for (const op of all) {
    if (op.optional) optional++;
    else if (op.op === OP_COUNTER_INC) incs++;
    if (op.known && op.result > highest) highest = op.result;
  }
  const lo = highest === -Infinity ? 0 : Math.max(0, highest - start - incs);
  const hi = highest === -Infinity ? 0 : Math.min(optional, Math.max(lo, highest - start));
  for (let j = lo; j <= hi; j++) {
    const r = search(all, start, counterStep, j, steps);
    if (r.kind !== 'none') return r;
  }
  return { kind: 'none' };
}

function counterViolation(ops: SearchOp[], start: number, tokens: SearchOp[], before: SearchOp | null, budget: number): LinResult {
  const fails = (relaxed: SearchOp[], steps: Steps): boolean => counterWindow(relaxed, start, tokens, steps).kind === 'none';
  const needed = essentialOps(ops, fails, budget);
  const returned = ops.filter((op) => !op.optional).length;
  const spare = tokens.length > 0 ? ` and ${tokens.length} earlier never-returned increment(s) that may still apply` : '';
  const from = before ? ` (where the operations up to ${describeOp(before.entry as HistoryEntry)} leave it)` : '';
  return violation(needed, `no order of the ${returned} overlapping operation(s), starting from counter = ${start}${from}${spare}`);
}

// ---------------------------------------------------------------------------------------------
// The key/value store

function checkKv(entries: readonly HistoryEntry[], budget: number): LinResult {
  const byKey = new Map<number, SearchOp[]>();
  for (const e of entries) {
    const list = byKey.get(e.key) ?? [];
    list.push(kvOp(e));
    byKey.set(e.key, list);
  }
  let unknown: LinResult | null = null;
  for (const key of [...byKey.keys()].sort((a, b) => a - b)) {
    const r = checkKvKey(key, byKey.get(key) as SearchOp[], budget);
    if (r.kind === 'violation') return r;
    if (r.kind === 'unknown' && !unknown) unknown = r;
  }
  return unknown ?? { kind: 'ok' };
}

/** One key as a register from "never put". */
function checkKvKey(key: number, ops: SearchOp[], budget: number): LinResult {
  const readUntil = lastReads(ops);
  const spans = kvSpans(ops);
  let state = ABSENT;
  let before: SearchOp | null = null;
  let open: SearchOp[] = [];
  for (const w of quiescentWindows(spans)) {
    open = open.concat(w.ops);
    const live = liveFinals(open, state, readUntil, w.endUs);
    if (live.length > 1) continue;
    const r = kvWindow(open, state, live[0] ?? null, { left: budget });
    if (r.kind === 'budget') return { kind: 'unknown', reason: budgetReason(budget, open, `key ${key}, `) };
    if (r.kind === 'none') return kvViolation(key, open, state, before, ops, budget);
    state = r.state;
    before = lastReturned(open, before);
    open = [];
  }
  return { kind: 'ok' };
}

/** Per value (ABSENT for NOT_FOUND): when the last get that read it was invoked, and when it returned. */
function lastReads(ops: readonly SearchOp[]): Map<number, { invokeUs: number; returnUs: number }> {
  const out = new Map<number, { invokeUs: number; returnUs: number }>();
  for (const op of ops) {
    if (op.op !== OP_KV_GET || op.optional || Number.isNaN(op.result)) continue;
    const seen = out.get(op.result) ?? { invokeUs: -Infinity, returnUs: -Infinity };
    out.set(op.result, { invokeUs: Math.max(seen.invokeUs, op.invokeUs), returnUs: Math.max(seen.returnUs, op.returnUs) });
  }
  return out;
}

/**
 * Never-returned gets are dropped. A never-returned put matters only to gets that read its value and
 * returned after it was invoked: it is dropped if there are none, and otherwise holds its window open
 * until the last of them returned, so it is searched with every get that could have seen it.
 */
function kvSpans(ops: readonly SearchOp[]): Span[] {
  const readUntil = new Map<number, number>();
  for (const op of ops) {
    if (op.op === OP_KV_GET && !op.optional) readUntil.set(op.result, Math.max(readUntil.get(op.result) ?? -Infinity, op.returnUs));
  }
  const spans: Span[] = [];
  for (const op of ops) {
    if (!op.optional) spans.push({ op, endUs: op.returnUs });
    else if (op.op === OP_KV_PUT && (readUntil.get(op.arg) ?? -Infinity) >= op.invokeUs) spans.push({ op, endUs: readUntil.get(op.arg) as number });
  }
  return spans;
}

/**
 * The values a window may end with that some later get reads (a get invoked after `endUs`). The
 * window ends with its last put: one of the returned puts no other returned put follows, or a
 * never-returned put; with no returned put it may also end with the value it started from.
 */
function liveFinals(ops: readonly SearchOp[], start: number, reads: Map<number, { invokeUs: number }>, endUs: number): number[] {
  const puts = ops.filter((op) => op.op === OP_KV_PUT && !op.optional);
  const lastPutInvokeUs = Math.max(-Infinity, ...puts.map((op) => op.invokeUs));
  const finals = new Set<number>();
  for (const op of ops) {
    if (op.op === OP_KV_PUT && (op.optional || op.returnUs >= lastPutInvokeUs)) finals.add(op.arg);
  }
  if (puts.length === 0) finals.add(start);
  return [...finals].filter((v) => (reads.get(v)?.invokeUs ?? -Infinity) > endUs);
}

/**
 * One kv window: any linearization, and if its final value is not the one later gets read (`live`),
 * a second search that must end with it. A failed second search leaves a final value no later get
 * reads, which is as good as any.
 */
function kvWindow(ops: readonly SearchOp[], start: number, live: number | null, steps: Steps): WindowResult {
  const r = search(ops, start, kvStep, Infinity, steps);
  if (r.kind !== 'found' || live === null || r.state === live) return r;
  const finalRead: SearchOp = {
    entry: null, op: OP_KV_GET, arg: 0, known: true, result: live, invokeUs: Infinity, returnUs: Infinity, optional: false,
  };
  const t = search([...ops, finalRead], start, kvStep, Infinity, steps);
  return t.kind === 'none' ? r : t;
}

function kvViolation(key: number, ops: SearchOp[], start: number, before: SearchOp | null, all: SearchOp[], budget: number): LinResult {
  const fails = (relaxed: SearchOp[], steps: Steps): boolean => search(relaxed, start, kvStep, Infinity, steps).kind === 'none';
  const needed = essentialOps(ops, fails, budget);
  const written = new Set(all.filter((op) => op.op === OP_KV_PUT).map((op) => op.arg));
  const unwritten = needed.find((op) => op.op === OP_KV_GET && op.result !== ABSENT && !written.has(op.result));
  if (unwritten) {
    const e = unwritten.entry as HistoryEntry;
    return { kind: 'violation', subHistory: [e], explanation: `key ${key}: ${describeOp(e)}, a value never put under key ${key}` };
  }
  const writer = start === ABSENT ? null : lastWriter(all, start, before);
  const from = start === ABSENT ? 'no value' : `value ${start}${writer ? ` (put by ${describeOp(writer)})` : ''}`;
  const returned = ops.filter((op) => !op.optional).length;
  return violation(needed, `no order of the ${returned} overlapping operation(s) on key ${key}, starting from ${from}`, `key ${key}: `);
}

/** The put of `value` invoked last before the window (the one that most likely left it there). */
function lastWriter(all: readonly SearchOp[], value: number, before: SearchOp | null): HistoryEntry | null {
  let found: SearchOp | null = null;
  for (const op of all) {
    if (op.op !== OP_KV_PUT || op.arg !== value || (before && op.invokeUs > before.returnUs)) continue;
    if (!found || op.invokeUs >= found.invokeUs) found = op;
  }
  return found?.entry ?? null;
}

// ---------------------------------------------------------------------------------------------
// Violations

function violation(needed: SearchOp[], context: string, prefix = ''): LinResult {
  const subHistory = needed.map((op) => op.entry as HistoryEntry);
  const replies = subHistory.length === 1 ? 'this reply' : 'these replies';
  return { kind: 'violation', subHistory, explanation: `${prefix}${subHistory.map(describeOp).join(', ')}: ${context}, gives ${replies}` };
}

/**
 * The operations of a failing window whose replies are needed for it to fail. `fails` must say true
 * only when it proved the relaxed window fails; shrinking stops relaxing when `budget` steps are spent.
 */
function essentialOps(ops: readonly SearchOp[], fails: (ops: SearchOp[], steps: Steps) => boolean, budget: number): SearchOp[] {
  const steps: Steps = { left: budget };
  const checked = ops.filter((op) => op.known && op.entry !== null);
  const relaxed = new Set<SearchOp>();
  const failsWithout = (lo: number, hi: number, extra: SearchOp | null): boolean => {
    const drop = (op: SearchOp, i: number): boolean => i < lo || i > hi || relaxed.has(op) || op === extra;
    const dropped = new Set(checked.filter(drop));
    const window = ops.flatMap((op) => (!dropped.has(op) ? [op] : isRead(op) ? [] : [{ ...op, known: false }]));
    return steps.left > 0 && fails(window, steps);
  };
  // The last reply needed with everything after it relaxed, then the first with everything before it
  // relaxed too (relaxing more only helps, so both searches are monotone).
  let lo = 0;
  let hi = checked.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (failsWithout(0, mid, null)) hi = mid;
    else lo = mid + 1;
  }
  const last = hi;
  lo = 0;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (failsWithout(mid, last, null)) lo = mid;
    else hi = mid - 1;
  }
  const first = lo;
  for (let i = first + 1; i < last; i++) {
    if (failsWithout(first, last, checked[i])) relaxed.add(checked[i]);
  }
  return checked.filter((op, i) => i >= first && i <= last && !relaxed.has(op));
}

function budgetReason(budget: number, ops: readonly SearchOp[], where: string): string {
  const first = ops.find((op) => op.entry !== null && op.invokeUs > -Infinity);
  const at = first ? ` from ${describeOp(first.entry as HistoryEntry)} at ${first.invokeUs} µs` : '';
  return `search budget of ${budget} steps ran out in a window of ${ops.length} operation(s) (${where}${ops.length} overlapping${at})`;
}

/** "client 2 seq 7 inc → 11", "client 1 seq 3 get key 4 → not found", "client 1 seq 2 put key 4 = 9 → ?". */
export function describeOp(e: HistoryEntry): string {
  const who = `client ${e.client} seq ${e.seq}`;
  const reply = e.returnUs === null ? '?' : e.status === STATUS_OK ? String(e.result) : e.status === STATUS_NOT_FOUND ? 'not found' : `status ${e.status}`;
  if (e.op === OP_COUNTER_INC) return `${who} inc → ${reply}`;
  if (e.op === OP_COUNTER_GET) return `${who} get → ${reply}`;
  if (e.op === OP_KV_GET) return `${who} get key ${e.key} → ${reply}`;
  return `${who} put key ${e.key} = ${e.arg}${e.returnUs === null ? ' → ?' : ''}`;
}

// ---------------------------------------------------------------------------------------------
// The search

interface Steps {
  left: number;
}

/**
 * Depth-first search for a linearization of `ops` from `start` that linearizes every returned
 * operation and at most `optionalMax` never-returned ones. Returns the final state and the
 * never-returned operations left unused, 'none' when there is no such linearization, or 'budget'
 * when `steps` ran out first.
 */
function search(ops: readonly SearchOp[], start: number, step: Step, optionalMax: number, steps: Steps): WindowResult {
  return new Search(ops, step, optionalMax).run(start, steps);
}

/**
 * The search's configuration: which operations are linearized, kept so that the next candidate,
 * the earliest open return and the memo key each cost about the number of overlapping operations,
 * not the window's length (a window with no quiescent point can be a whole run).
 */
class Search {
  /** Returned operations by invocation: each must be linearized. */
  private readonly must: SearchOp[];
  /** Never-returned operations by invocation: each may be. */
  private readonly may: SearchOp[];
  /** `must` indices by return time, and each index's rank in that order. */
  private readonly byReturn: Int32Array;
  private readonly returnRank: Int32Array;
  /** The previous `may` operation with the same op and arg, or -1. */
  private readonly twin: Int32Array;
  private readonly mustDone: Uint8Array;
  private readonly mayDone: Uint8Array;
  /** Every `must` index below this is linearized. */
  private firstOpen = 0;
  /** No `must` index above this is linearized. */
  private lastDone = -1;
  /** Every rank below this in `byReturn` is linearized. */
  private firstReturn = 0;
  private mayUsed = 0;
  private readonly memo = new Set<string>();

  constructor(ops: readonly SearchOp[], private readonly step: Step, private readonly optionalMax: number) {
    const byInvoke = (a: SearchOp, b: SearchOp): number => a.invokeUs - b.invokeUs || compareEntries(a.entry, b.entry);
    this.must = ops.filter((op) => !op.optional).sort(byInvoke);
    this.may = ops.filter((op) => op.optional).sort(byInvoke);
    const n = this.must.length;
    this.byReturn = Int32Array.from(this.must.keys()).sort((a, b) => this.must[a].returnUs - this.must[b].returnUs);
    this.returnRank = new Int32Array(n);
    this.byReturn.forEach((i, rank) => (this.returnRank[i] = rank));
    this.mustDone = new Uint8Array(n);
    this.mayDone = new Uint8Array(this.may.length);
    this.twin = twins(this.may);
  }

  run(start: number, steps: Steps): WindowResult {
    const chosen: number[] = [];
    const states: number[] = [];
    let state = start;
    let cursor = 0;
    for (;;) {
      if (this.firstOpen === this.must.length) return { kind: 'found', state, unused: this.may.filter((_, p) => !this.mayDone[p]) };
      if (steps.left <= 0) return { kind: 'budget' };
      steps.left--;
      const c = this.next(cursor);
      if (c >= 0) {
        cursor = c + 1;
        const after = this.step(state, this.opAt(c));
        if (Number.isNaN(after)) continue;
        this.lift(c);
        const key = this.memoKey(after);
        if (this.memo.has(key)) {
          this.unlift(c);
          continue;
        }
        this.memo.add(key);
        chosen.push(c);
        states.push(state);
        state = after;
        cursor = 0;
        continue;
      }
      // Nothing more to try here: undo the last choice and try the one after it.
      if (chosen.length === 0) return { kind: 'none' };
      const back = chosen.pop() as number;
      state = states.pop() as number;
      this.unlift(back);
      cursor = back + 1;
    }
  }

  /** Candidates are numbered `must` 0..n-1, then `may` n..: the first one at or after `cursor`. */
  private next(cursor: number): number {
    const n = this.must.length;
    const limitUs = this.firstReturn < n ? this.must[this.byReturn[this.firstReturn]].returnUs : Infinity;
    for (let i = Math.max(cursor, this.firstOpen); i < n && this.must[i].invokeUs <= limitUs; i++) {
      if (!this.mustDone[i]) return i;
    }
    if (this.mayUsed >= this.optionalMax) return -1;
    // Never-returned twins are interchangeable: use them in invocation order, so the search does
    // not try every subset of them.
    for (let p = Math.max(cursor - n, 0); p < this.may.length && this.may[p].invokeUs <= limitUs; p++) {
      if (!this.mayDone[p] && (this.twin[p] < 0 || this.mayDone[this.twin[p]])) return n + p;
    }
    return -1;
  }

  private opAt(c: number): SearchOp {
    return c < this.must.length ? this.must[c] : this.may[c - this.must.length];
  }

  private lift(c: number): void {
    const n = this.must.length;
    if (c >= n) {
      this.mayDone[c - n] = 1;
      this.mayUsed++;
      return;
    }
    this.mustDone[c] = 1;
    while (this.firstOpen < n && this.mustDone[this.firstOpen]) this.firstOpen++;
    this.lastDone = Math.max(this.lastDone, c);
    while (this.firstReturn < n && this.mustDone[this.byReturn[this.firstReturn]]) this.firstReturn++;
  }

  private unlift(c: number): void {
    const n = this.must.length;
    if (c >= n) {
      this.mayDone[c - n] = 0;
      this.mayUsed--;
      return;
    }
    this.mustDone[c] = 0;
    this.firstOpen = Math.min(this.firstOpen, c);
    while (this.lastDone >= 0 && !this.mustDone[this.lastDone]) this.lastDone--;
    this.firstReturn = Math.min(this.firstReturn, this.returnRank[c]);
  }

  /**
   * State and linearized set, compactly: the count of `must` operations all done from the start,
   * the others done past it, and the `may` operations done as runs.
   */
  private memoKey(state: number): string {
    let key = `${state}|${this.firstOpen}`;
    for (let i = this.firstOpen + 1; i <= this.lastDone; i++) if (this.mustDone[i]) key += `,${i - this.firstOpen}`;
    if (this.mayUsed === 0) return key;
    key += '|';
    for (let p = 0; p < this.may.length; p++) {
      if (this.mayDone[p] && (p === 0 || !this.mayDone[p - 1])) key += `${p}-`;
      if (this.mayDone[p] && (p === this.may.length - 1 || !this.mayDone[p + 1])) key += `${p},`;
    }
    return key;
  }
}

function twins(may: readonly SearchOp[]): Int32Array {
  const lastOf = new Map<string, number>();
  return Int32Array.from(may, (op, p) => {
    const cls = `${op.op}:${op.arg}`;
    const prev = lastOf.get(cls) ?? -1;
    lastOf.set(cls, p);
    return prev;
  });
}
