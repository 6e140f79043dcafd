/**
 * Client histories in the form a linearizability checker reads (docs/design.md §5, §6): one entry per
 * operation a client invoked, with the time it was invoked and the time its reply arrived.
 * An operation that never returned (still outstanding, or given up) has `returnUs: null` and
 * `result: null`: it may or may not have taken effect, and the checker must allow both.
 *
 * Times are the world's clock in µs (virtual time in the simulator, host time in the browser).
 */

/** One operation as a checker sees it. `op` is a wire OP_* code (src/world/wire.ts). */
export interface HistoryEntry {
  client: number;
  seq: number;
  op: number;
  key: number;
  /** Request argument: the value of a kv put; 0 otherwise. */
  arg: number;
  invokeUs: number;
  returnUs: number | null;
  /** Reply value: the counter after an increment, the value read by a kv get. */
  result: number | null;
  /**
   * Reply status (wire STATUS_*): a kv get of a missing key returns STATUS_NOT_FOUND with value
   * 0, which a checker must not read as "the value 0".
   */
  status: number | null;
}

export class HistoryError extends Error {
  override name = 'HistoryError';
}

/**
 * Merges every client's history into one list ordered by invocation time (ties: client, then seq),
 * the order a checker walks. Throws HistoryError if one (client, seq) appears twice or an entry
 * returns before it was invoked — either means the histories were put together wrongly.
 */
export function mergeHistories(histories: readonly (readonly HistoryEntry[])[]): HistoryEntry[] {
  return mergeOwnedHistories(histories.map((h) => h.map((e) => ({ ...e }))));
}

/**
 * mergeHistories for entries built just for this call (Client.history()): it sorts them in place
 * and returns them without a copy, since a long run's history is a million entries and a second
 * copy would double the checker's peak memory.
 */
export function mergeOwnedHistories(histories: HistoryEntry[][]): HistoryEntry[] {
  const merged = ([] as HistoryEntry[]).concat(...histories);
  for (const e of merged) {
    if (e.returnUs !== null && e.returnUs < e.invokeUs) {
      throw new HistoryError(`operation client ${e.client} seq ${e.seq} returns at ${e.returnUs} µs before its invocation at ${e.invokeUs} µs`);
    }
  }
  checkUnique(merged);
  return merged.sort(compareEntries);
}

/** (client, seq) as one exact float, client above seq: 20 + 32 bits fit a double's 53 (the wire has 16 + 32). */
const SEQ_SPAN = 2 ** 32;
const CLIENT_SPAN = 2 ** 20;

/**
 * Throws HistoryError if one (client, seq) appears twice. Sorts one number per entry (8 bytes)
 * rather than filling a Set with a string per entry, which costs several times as much at a million.
 */
function checkUnique(entries: readonly HistoryEntry[]): void {
  const ids = new Float64Array(entries.length);
  entries.forEach((e, i) => {
    if (!isIntIn(e.client, CLIENT_SPAN) || !isIntIn(e.seq, SEQ_SPAN)) {
      throw new HistoryError(`operation client ${e.client} seq ${e.seq} is not a wire (client, seq)`);
    }
    ids[i] = e.client * SEQ_SPAN + e.seq;
  });
  ids.sort();
  for (let i = 1; i < ids.length; i++) {
    if (ids[i] === ids[i - 1]) {
      throw new HistoryError(`operation client ${Math.floor(ids[i] / SEQ_SPAN)} seq ${ids[i] % SEQ_SPAN} appears twice`);
    }
  }
}

function isIntIn(x: number, span: number): boolean {
  return Number.isInteger(x) && x >= 0 && x < span;
}

function compareEntries(a: HistoryEntry, b: HistoryEntry): number {
  return a.invokeUs - b.invokeUs || a.client - b.client || a.seq - b.seq;
}

/** Only the operations that completed, e.g. for the UI's client-history list. */
export function completedOnly(history: readonly HistoryEntry[]): HistoryEntry[] {
  return history.filter((e) => e.returnUs !== null);
}

/** Rows of each client's history a reader lacks (World.historySince): `rows[i]` from row `start[i]` on. */
export interface HistoryDelta {
  start: number[];
  rows: HistoryEntry[][];
}

/** How many of a client's consecutive rows are final: all but a last one still outstanding. */
function finalRows(rows: readonly HistoryEntry[]): number {
  return rows.length > 0 && rows[rows.length - 1].returnUs === null ? rows.length - 1 : rows.length;
}

/**
 * A copy of the clients' histories kept up to date by deltas (World.historySince), so a growing
 * history crosses threads once, not again at every check. `cursor()` is what to ask for next: each
 * client's final rows (all but a last one still outstanding, which comes again until it returns).
 */
export class HistoryReader {
  /** By client: the rows held, from row `dropped[i]` on (the ones before were let go: `drop`). */
  private readonly clients: HistoryEntry[][] = [];
  private readonly dropped: number[] = [];

  /** Takes a delta; throws HistoryError (changing nothing) if it does not fit what is held. */
  apply(d: HistoryDelta): void {
    if (!Array.isArray(d.start) || !Array.isArray(d.rows) || d.start.length !== d.rows.length) throw new HistoryError('a history delta needs start and rows, one per client');
    d.start.forEach((s, i) => {
      const lo = this.dropped[i] ?? 0;
      const hi = lo + (this.clients[i]?.length ?? 0);
      if (!Number.isInteger(s) || s < lo || s > hi) throw new HistoryError(`client ${i + 1}'s rows start at ${s}, but rows ${lo} to ${hi} are held`);
      if (!Array.isArray(d.rows[i])) throw new HistoryError(`client ${i + 1}'s rows are not a list`);
    });
    d.rows.forEach((rows, i) => {
      const held = (this.clients[i] ??= []);
      this.dropped[i] ??= 0;
      held.length = d.start[i] - this.dropped[i];
      for (const e of rows) held.push(e);
    });
  }

  cursor(): number[] {
    return this.clients.map((h, i) => this.dropped[i] + finalRows(h));
  }

  /**
   * Lets go of each client's first `n[i]` rows held (a checker that settled them: they are final),
   * keeping their count: the cursor and later deltas go on as before.
   */
  drop(n: readonly number[]): void {
    n.forEach((k, i) => {
      const held = this.clients[i];
      if (!held || !(Number.isInteger(k) && k >= 0 && k <= held.length)) throw new HistoryError(`client ${i + 1}: cannot let go of ${k} of ${held?.length ?? 0} rows held`);
    });
    n.forEach((k, i) => {
      this.clients[i].splice(0, k);
      this.dropped[i] += k;
    });
  }

  /** The cursor after `d` for a reader that keeps only the cursor (the page, which hands deltas on). */
  static cursorAfter(d: HistoryDelta): number[] {
    return d.rows.map((rows, i) => d.start[i] + finalRows(rows));
  }

  /** Every operation held, in the order a checker walks (mergeHistories; the entries are the held ones, not copies). */
  merged(): HistoryEntry[] {
    return mergeOwnedHistories(this.clients);
  }

  /** Rows held (not let go). */
  get size(): number {
    return this.clients.reduce((n, h) => n + h.length, 0);
  }
}
