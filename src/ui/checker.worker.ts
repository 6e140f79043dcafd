/**
 * The linearizability checker (src/sim/linearizability.ts) off the page's thread: the clients'
 * history in, a verdict out. A long history takes the checker a while; the page never waits for it.
 */
import { checkLinearizable, type LinModel } from '../sim/linearizability';
import type { HistoryEntry } from '../world/history';

export interface CheckRequest { id: number; history: HistoryEntry[]; model: LinModel }
export type CheckReply =
  | { id: number; kind: 'ok' | 'unknown'; text: string; ops: number }
  | { id: number; kind: 'violation'; text: string; ops: number };

interface Scope { postMessage(m: CheckReply): void; onmessage: ((ev: MessageEvent<CheckRequest>) => void) | null }
const scope = self as unknown as Scope;

scope.onmessage = (ev) => {
  const { id, history, model } = ev.data;
  const ops = history.length;
  try {
    const r = checkLinearizable(history, model);
    if (r.kind === 'ok') scope.postMessage({ id, kind: 'ok', text: `linearizable: ${ops} operations`, ops });
    else if (r.kind === 'unknown') scope.postMessage({ id, kind: 'unknown', text: `unknown: ${r.reason}`, ops });
    else scope.postMessage({ id, kind: 'violation', text: `NOT linearizable: ${r.explanation}`, ops });
  } catch (err) {
    scope.postMessage({ id, kind: 'unknown', text: `the checker failed: ${(err as Error).message}`, ops });
  }
};
