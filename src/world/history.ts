/**
 * Client histories in the form a linearizability checker reads (DESIGN.md §5, §6): one entry per
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
  const seen = new Set<string>();
  const merged: HistoryEntry[] = [];
  for (const history of histories) {
    for (const e of history) {
      const id = `${e.client}/${e.seq}`;
      if (seen.has(id)) throw new HistoryError(`operation client ${e.client} seq ${e.seq} appears twice`);
      if (e.returnUs !== null && e.returnUs < e.invokeUs) {
        throw new HistoryError(`operation client ${e.client} seq ${e.seq} returns at ${e.returnUs} µs before its invocation at ${e.invokeUs} µs`);
      }
      seen.add(id);
      merged.push({ ...e });
    }
  }
  return merged.sort(compareEntries);
}

function compareEntries(a: HistoryEntry, b: HistoryEntry): number {
  return a.invokeUs - b.invokeUs || a.client - b.client || a.seq - b.seq;
}

/** Only the operations that completed, e.g. for the UI's client-history list. */
export function completedOnly(history: readonly HistoryEntry[]): HistoryEntry[] {
  return history.filter((e) => e.returnUs !== null);
}
