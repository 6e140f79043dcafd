/**
 * The linearizability checker off the page's thread (history-check.ts): deltas of the clients'
 * history in, a verdict out. A long history takes the checker a while; the page never waits for it.
 */
import type { LinModel } from '../sim/linearizability';
import type { HistoryDelta } from '../world/history';
import { HistoryCheck } from './history-check';

/** `reset`: the delta starts a new history (a new run, or a time travel's fork), from row 0. */
export interface CheckRequest { id: number; model: LinModel; reset: boolean; delta: HistoryDelta }
export type CheckReply =
  /** `resync`: the worker could not take the delta in and holds nothing now. */
  | { id: number; kind: 'ok' | 'unknown'; text: string; ops: number; resync?: boolean }
  | { id: number; kind: 'violation'; text: string; ops: number };

interface Scope { postMessage(m: CheckReply): void; onmessage: ((ev: MessageEvent<CheckRequest>) => void) | null }
const scope = self as unknown as Scope;

let checking: HistoryCheck | null = null;

scope.onmessage = (ev) => {
  const { id, model, reset, delta } = ev.data;
  if (reset || !checking || checking.model !== model) checking = new HistoryCheck(model);
  const c = checking;
  try {
    c.take(delta);
  } catch (err) {
    // What is held no longer fits: the check starts again from nothing, and the next delta is all of it.
    scope.postMessage({ id, kind: 'unknown', text: `the history could not be taken in: ${(err as Error).message}`, ops: 0, resync: true });
    return;
  }
  try {
    const ops = c.ops;
    const r = c.check();
    if (r.kind === 'ok') scope.postMessage({ id, kind: 'ok', text: `linearizable: ${ops} operations`, ops });
    else if (r.kind === 'unknown') scope.postMessage({ id, kind: 'unknown', text: `unknown: ${r.reason}`, ops });
    else scope.postMessage({ id, kind: 'violation', text: `NOT linearizable: ${r.explanation}`, ops });
  } catch (err) {
    scope.postMessage({ id, kind: 'unknown', text: `the checker failed: ${(err as Error).message}`, ops: c.ops });
  }
};
