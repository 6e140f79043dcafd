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
 * - A get that may go now and whose reply is the current state is taken at once, with no
 *   alternative tried (it changes nothing, and any linearization that takes it later can take it
 *   now), so reads do not multiply the orders searched.
 * - Never-returned operations with the same op and arg are interchangeable and used in invocation
 *   order, so the search does not try every subset of them.
 * - The search budget counts steps (one operation tried, or one step back) per window, so a long
 *   history costs time in proportion to its length and only a window that is really ambiguous
 *   comes back 'unknown'.
 *
 * A violation: for the counter, two increments that replied the same value are looked for first
 * (the lecture's failure, said plainly). Otherwise it names the operations of the failing window
 * whose replies cannot all be explained, found by relaxing replies: a get is dropped, an increment or
 * put keeps its effect but its reply is no longer checked (dropping a write would change what the
 * others could see and make up a different failure). Relaxing only makes a window easier, so a
 * binary search finds the last reply needed; then, walking back, each reply is relaxed if the
 * window still fails without it (see essentialOps). The window is judged from the state the earlier
 * windows leave, which the explanation states.
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

/**
 * A violation's `subHistory` holds the operations whose replies, together, no linearization gives —
 * starting from the state the earlier operations leave (stated in `explanation`), with the other
 * operations of their window kept but their replies unchecked (except, in a long window, the earlier
 * replies the explanation says it takes as recorded).
 */
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

/**
 * The longest prefix of a counter history (in mergeHistories order) that a later check need not
 * see again: every operation in it returned, and every later one was invoked after the last of
 * them returned — a quiescent point, where the checker cuts its windows too. A prefix that checked
 * linearizable from `start` leaves the counter at one value whatever its order, `value` (one more
 * per increment applied), and the rest checks from there exactly as the whole history would. A
 * never-returned operation (which may take effect at any later time) ends the search: nothing at or
 * after it is settled. `length` 0: nothing can be.
 */
export function counterSettledPrefix(history: readonly HistoryEntry[], start: number): { length: number; value: number } {
  let best = { length: 0, value: start };
  let lastReturnUs = -Infinity;
  let value = start;
  for (let i = 0; i < history.length; i++) {
    const e = history[i];
    if (i > 0 && lastReturnUs < e.invokeUs) best = { length: i, value };
    if (e.returnUs === null) break;
    lastReturnUs = Math.max(lastReturnUs, e.returnUs);
    if (e.op === OP_COUNTER_INC && e.status !== STATUS_DISK_ERROR && e.status !== STATUS_BAD_REQUEST) value++;
  }
  return best;
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
  /** The history entry; null for a carried counter increment or the final read of a targeted kv search. */
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
  let tokens = 0;
  let before: SearchOp | null = null;
  for (const w of windows) {
    const r = counterWindow(w.ops, state, tokens, { left: budget });
    if (r.kind === 'budget') return { kind: 'unknown', reason: budgetReason(budget, w.ops, '') };
    if (r.kind === 'none') return counterViolation(w.ops, state, tokens, before, budget);
    state = r.state;
    tokens = r.tokens;
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

type CounterResult = { kind: 'found'; state: number; tokens: number } | { kind: 'none' } | { kind: 'budget' };

/**
 * One counter window from `start` with `tokens` never-returned increments carried from earlier
 * windows: the outcome that uses the fewest never-returned increments. Using j of them ends at
 * start + increments + j, and no reply may exceed that, so j starts at the smallest that reaches the
 * highest reply; j need not exceed highest reply − start, since an increment applied after the
 * last checked reply could as well be applied in the next window. Carried increments are
 * interchangeable, so they are a count, and only as many as j can reach are searched.
 */
function counterWindow(ops: readonly SearchOp[], start: number, tokens: number, steps: Steps): CounterResult {
  let incs = 0;
  let optional = tokens;
  let highest = -Infinity;
  for (const op of ops) {
    if (op.optional) optional++;
    else if (op.op === OP_COUNTER_INC) incs++;
    if (op.known && op.result > highest) highest = op.result;
  }
  const lo = highest === -Infinity ? 0 : Math.max(0, highest - start - incs);
  const hi = highest === -Infinity ? 0 : Math.min(optional, Math.max(lo, highest - start));
  const reachable = Math.min(tokens, hi);
  const all = [...Array.from({ length: reachable }, carriedIncrement), ...ops];
  for (let j = lo; j <= hi; j++) {
    const r = search(all, start, counterStep, j, steps);
    if (r.kind === 'found') return { kind: 'found', state: r.state, tokens: r.unused.length + tokens - reachable };
    if (r.kind === 'budget') return r;
  }
  return { kind: 'none' };
}

/** A never-returned increment from an earlier window: available from the start. */
function carriedIncrement(): SearchOp {
  return { entry: null, op: OP_COUNTER_INC, arg: 0, known: false, result: NaN, invokeUs: -Infinity, returnUs: Infinity, optional: true };
}

function counterViolation(ops: SearchOp[], start: number, tokens: number, before: SearchOp | null, budget: number): LinResult {
  const fails = (relaxed: SearchOp[], steps: Steps): Verdict => verdict(counterWindow(relaxed, start, tokens, steps));
  const after = before ? ` (after ${describeOp(before.entry as HistoryEntry)} and all before it)` : '';
  const spare = tokens > 0 ? `, with ${tokens} never-returned increment(s) that may still apply` : '';
  return violation(essentialOps(ops, fails, budget), ops, `counter = ${start}${after}${spare}`);
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
  const reads = lastReads(ops);
  let state = ABSENT;
  let before: SearchOp | null = null;
  let open: SearchOp[] = [];
  for (const w of quiescentWindows(kvSpans(ops, reads))) {
    open = open.concat(w.ops);
    const live = liveFinals(open, state, reads, w.endUs);
    if (live.length > 1) continue;
    const r = kvWindow(open, state, live[0] ?? null, { left: budget });
    if (r.kind === 'budget') return { kind: 'unknown', reason: budgetReason(budget, open, ` on key ${key}`) };
    if (r.kind === 'none') return kvViolation(key, open, state, before, ops, budget);
    state = r.state;
    before = lastReturned(open, before);
    open = [];
  }
  return { kind: 'ok' };
}

/** Per value (ABSENT for NOT_FOUND): the latest invocation and the latest return of a get that read it. */
interface Reads {
  invokeUs: number;
  returnUs: number;
}

function lastReads(ops: readonly SearchOp[]): Map<number, Reads> {
  const out = new Map<number, Reads>();
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
function kvSpans(ops: readonly SearchOp[], reads: Map<number, Reads>): Span[] {
  const spans: Span[] = [];
  for (const op of ops) {
    const readUntilUs = reads.get(op.arg)?.returnUs ?? -Infinity;
    if (!op.optional) spans.push({ op, endUs: op.returnUs });
    else if (op.op === OP_KV_PUT && readUntilUs >= op.invokeUs) spans.push({ op, endUs: readUntilUs });
  }
  return spans;
}

/**
 * The values a window may end with that some later get reads (a get invoked after `endUs`). The
 * window ends with its last put: one of the returned puts no other returned put follows, or a
 * never-returned put; with no returned put it may also end with the value it started from.
 */
function liveFinals(ops: readonly SearchOp[], start: number, reads: Map<number, Reads>, endUs: number): number[] {
  let lastPutInvokeUs = -Infinity;
  for (const op of ops) if (op.op === OP_KV_PUT && !op.optional) lastPutInvokeUs = Math.max(lastPutInvokeUs, op.invokeUs);
  const finals = new Set<number>();
  for (const op of ops) {
    if (op.op === OP_KV_PUT && (op.optional || op.returnUs >= lastPutInvokeUs)) finals.add(op.arg);
  }
  if (lastPutInvokeUs === -Infinity) finals.add(start);
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
  const fails = (relaxed: SearchOp[], steps: Steps): Verdict => verdict(search(relaxed, start, kvStep, Infinity, steps));
  const needed = essentialOps(ops, fails, budget);
  const written = new Set(all.filter((op) => op.op === OP_KV_PUT).map((op) => op.arg));
  const unwritten = needed.ops.find((op) => op.op === OP_KV_GET && op.result !== ABSENT && !written.has(op.result));
  if (unwritten) {
    const e = unwritten.entry as HistoryEntry;
    return { kind: 'violation', subHistory: [e], explanation: `key ${key}: ${describeOp(e)}, a value no put ever stored under key ${key}` };
  }
  const writer = start === ABSENT ? null : lastWriter(all, start, before);
  const from = start === ABSENT ? 'no value' : `value ${start}${writer ? ` (put by ${describeOp(writer)})` : ''}`;
  return violation(needed, ops, from, `key ${key}: `);
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

/** The operations a violation is about, and how many earlier replies in the window it takes as given. */
interface Needed {
  ops: SearchOp[];
  given: number;
}

/**
 * "client 3 seq 1 get → 1: impossible from counter = 2 (after …)" when the window is just the
 * operations named; otherwise "no order of these and the N other operation(s) in their window of
 * overlapping operations, from …, gives these replies".
 */
function violation(needed: Needed, window: readonly SearchOp[], from: string, prefix = ''): LinResult {
  const subHistory = needed.ops.map((op) => op.entry as HistoryEntry);
  const head = `${prefix}${subHistory.map(describeOp).join(', ')}`;
  const others = window.filter((op) => !op.optional).length - subHistory.length;
  if (others === 0) return { kind: 'violation', subHistory, explanation: `${head}: impossible from ${from}` };
  const these = subHistory.length === 1 ? ['this', 'its', 'this reply'] : ['these', 'their', 'these replies'];
  const given = needed.given > 0 ? `, taking the replies of the ${needed.given} invoked first as recorded` : '';
  return {
    kind: 'violation', subHistory,
    explanation: `${head}: no order of ${these[0]} and the ${others} other operation(s) in ${these[1]} window of overlapping operations, from ${from}${given}, gives ${these[2]}`,
  };
}

/** Whether a relaxed window was proved to fail, proved to pass, or ran out of steps. */
type Verdict = 'fails' | 'passes' | 'budget';

function verdict(r: { kind: 'found' | 'none' | 'budget' }): Verdict {
  return r.kind === 'none' ? 'fails' : r.kind === 'found' ? 'passes' : 'budget';
}

/** Replies relaxed in a row, walking back from the last reply needed, after which shrinking stops. */
const SHRINK_RUN = 16;

/**
 * The operations of a failing window whose replies it needs to fail. First the last reply needed
 * (a binary search, every later reply relaxed: relaxing only makes a window easier, so failing is
 * monotone in it); then, walking back from there, each reply is relaxed if the window still fails
 * without it. Replies further back mostly just pin the state the failure starts from, so the walk
 * stops after SHRINK_RUN relaxed in a row or when `budget` steps are spent, and the replies not
 * reached stay checked ("given"). A reply is relaxed only on a proof that the window still fails, and
 * reported only on a proof that it does not without it.
 */
function essentialOps(ops: readonly SearchOp[], fails: (ops: SearchOp[], steps: Steps) => Verdict, budget: number): Needed {
  const steps: Steps = { left: budget };
  const checked = ops.filter((op) => op.known && op.entry !== null);
  const relaxed = new Set<SearchOp>();
  const without = (more: readonly SearchOp[]): Verdict => {
    if (steps.left <= 0) return 'budget';
    const out = new Set([...relaxed, ...more]);
    return fails(ops.flatMap((op) => (!out.has(op) ? [op] : isRead(op) ? [] : [{ ...op, known: false }])), steps);
  };
  let lo = 0;
  let hi = checked.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (without(checked.slice(mid + 1)) === 'fails') hi = mid;
    else lo = mid + 1;
  }
  const last = hi;
  for (const op of checked.slice(last + 1)) relaxed.add(op);
  let i = last - 1;
  for (let run = 0; i >= 0 && run < SHRINK_RUN; i--) {
    const v = without([checked[i]]);
    if (v === 'budget') break;
    if (v === 'passes') {
      run = 0;
      continue;
    }
    relaxed.add(checked[i]);
    run++;
  }
  return { ops: checked.filter((op, j) => j > i && j <= last && !relaxed.has(op)), given: Math.max(0, i + 1) };
}

function budgetReason(budget: number, ops: readonly SearchOp[], where: string): string {
  const first = ops.find((op) => op.entry !== null && op.invokeUs > -Infinity);
  const at = first ? ` starting with ${describeOp(first.entry as HistoryEntry)} at ${first.invokeUs} µs` : '';
  return `search budget of ${budget} steps ran out on a window of ${ops.length} overlapping operation(s)${where}${at}`;
}

/**
 * "client 2 seq 7 inc → 11", "client 1 seq 3 get key 4 → not found", "client 1 seq 2 put key 4 = 9"
 * (a put's reply is shown only when it is not the plain echo of its value: "→ ?", "→ 8").
 */
export function describeOp(e: HistoryEntry): string {
  const who = `client ${e.client} seq ${e.seq}`;
  const reply = e.returnUs === null ? '?' : e.status === STATUS_OK ? String(e.result) : e.status === STATUS_NOT_FOUND ? 'not found' : `status ${e.status}`;
  if (e.op === OP_COUNTER_INC) return `${who} inc → ${reply}`;
  if (e.op === OP_COUNTER_GET) return `${who} get → ${reply}`;
  if (e.op === OP_KV_GET) return `${who} get key ${e.key} → ${reply}`;
  const echo = e.status === STATUS_OK && e.result === e.arg;
  return `${who} put key ${e.key} = ${e.arg}${echo ? '' : ` → ${reply}`}`;
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
  /**
   * Each `may` operation's class (same op and arg), and how many of each class are used: twins are
   * used in order, so the used ones of a class are always its first ones, and the counts say which.
   */
  private readonly mayClass: Int32Array;
  private readonly classUsed: Int32Array;
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
  private state = 0;
  /** The choices made, the state before each, and whether each was a forced read (no alternative). */
  private readonly chosen: number[] = [];
  private readonly saved: number[] = [];
  private readonly forced: boolean[] = [];

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
    const classes = new Map<string, number>();
    const lastOfClass: number[] = [];
    this.mayClass = Int32Array.from(this.may, (op) => {
      const cls = `${op.op}:${op.arg}`;
      if (!classes.has(cls)) classes.set(cls, classes.size);
      return classes.get(cls) as number;
    });
    this.twin = Int32Array.from(this.mayClass, (cls, p) => {
      const prev = lastOfClass[cls] ?? -1;
      lastOfClass[cls] = p;
      return prev;
    });
    this.classUsed = new Int32Array(classes.size);
  }

  run(start: number, steps: Steps): WindowResult {
    this.state = start;
    let cursor = 0;
    for (;;) {
      if (this.firstOpen === this.must.length) return { kind: 'found', state: this.state, unused: this.may.filter((_, p) => !this.mayDone[p]) };
      if (steps.left <= 0) return { kind: 'budget' };
      steps.left--;
      const read = cursor === 0 ? this.matchingRead() : -1;
      if (read >= 0) {
        cursor = this.tryLift(read, true) ? 0 : this.backtrack();
      } else {
        const c = this.next(cursor);
        cursor = c < 0 ? this.backtrack() : this.tryLift(c, false) ? 0 : c + 1;
      }
      if (cursor < 0) return { kind: 'none' };
    }
  }

  /** Linearizes candidate `c` next, unless its reply does not fit or the result was searched before. */
  private tryLift(c: number, forced: boolean): boolean {
    const after = this.step(this.state, this.opAt(c));
    if (Number.isNaN(after)) return false;
    this.lift(c);
    const key = this.memoKey(after);
    if (this.memo.has(key)) {
      this.unlift(c);
      return false;
    }
    this.memo.add(key);
    this.chosen.push(c);
    this.saved.push(this.state);
    this.forced.push(forced);
    this.state = after;
    return true;
  }

  /**
   * Undoes choices back to the latest one that has an alternative left: returns the candidate to
   * resume from there, or -1 when none has.
   */
  private backtrack(): number {
    while (this.chosen.length > 0) {
      const c = this.chosen.pop() as number;
      this.state = this.saved.pop() as number;
      this.unlift(c);
      if (!this.forced.pop()) return c + 1;
    }
    return -1;
  }

  /**
   * A read that may go now and whose reply is the current state. Taking it next is as good as any
   * other choice: it changes nothing, and nothing still open had to come before it (it was invoked
   * before every open return), so a linearization that takes it later can take it now. Forcing it
   * keeps the search from trying every interleaving of reads with the writes around them.
   */
  private matchingRead(): number {
    const n = this.must.length;
    const limitUs = this.limitUs();
    for (let i = this.firstOpen; i < n && this.must[i].invokeUs <= limitUs; i++) {
      const op = this.must[i];
      if (!this.mustDone[i] && isRead(op) && this.step(this.state, op) === this.state) return i;
    }
    return -1;
  }

  /** The earliest return among open `must` operations: nothing invoked after it can go yet. */
  private limitUs(): number {
    return this.firstReturn < this.must.length ? this.must[this.byReturn[this.firstReturn]].returnUs : Infinity;
  }

  /** Candidates are numbered `must` 0..n-1, then `may` n..: the first one at or after `cursor`. */
  private next(cursor: number): number {
    const n = this.must.length;
    const limitUs = this.limitUs();
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
      this.classUsed[this.mayClass[c - n]]++;
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
      this.classUsed[this.mayClass[c - n]]--;
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
   * the others done past it, and how many `may` operations of each class are used.
   */
  private memoKey(state: number): string {
    let key = `${state}|${this.firstOpen}`;
    for (let i = this.firstOpen + 1; i <= this.lastDone; i++) if (this.mustDone[i]) key += `,${i - this.firstOpen}`;
    if (this.mayUsed === 0) return key;
    key += '|';
    for (let cls = 0; cls < this.classUsed.length; cls++) if (this.classUsed[cls] > 0) key += `${cls}:${this.classUsed[cls]},`;
    return key;
  }
}
