/**
 * The page's linearizability verdict, as the checker worker (checker.worker.ts) keeps it: deltas of
 * the clients' history in (World.historySince: each operation crosses the threads once, not at
 * every check), a verdict on the whole history out.
 *
 * A counter history is checked as it grows, not again from its start: after a check that passes,
 * the prefix up to the last quiescent point (counterSettledPrefix) is let go, and the next check
 * starts from the value it leaves — so in a lecture's hour a check costs what the operations since
 * that point cost, and the worker holds only those. A kv history is checked whole each time.
 */
import { checkLinearizable, counterSettledPrefix, type LinModel, type LinResult } from '../sim/linearizability';
import { HistoryReader, type HistoryDelta } from '../world/history';

export class HistoryCheck {
  private held = new HistoryReader();
  /** Counter: the operations let go (all checked) and the value they leave. */
  private settled = { ops: 0, value: 0 };

  constructor(readonly model: LinModel) {}

  /** Takes a delta in; throws HistoryError if it does not fit, and then holds nothing (`reset`). */
  take(delta: HistoryDelta): void {
    try {
      this.held.apply(delta);
    } catch (err) {
      this.reset();
      throw err;
    }
  }

  reset(): void {
    this.held = new HistoryReader();
    this.settled = { ops: 0, value: 0 };
  }

  /** Operations in the history so far, let go or held. */
  get ops(): number {
    return this.settled.ops + this.held.size;
  }

  /** Operations held (not yet let go). */
  get heldOps(): number {
    return this.held.size;
  }

  /** The verdict on the whole history taken in so far. */
  check(): LinResult {
    const history = this.held.merged();
    if (this.model !== 'counter') return checkLinearizable(history, this.model);
    const r = checkLinearizable(history, 'counter', { counterStart: this.settled.value });
    if (r.kind !== 'ok') return r;
    const s = counterSettledPrefix(history, this.settled.value);
    const perClient: number[] = [];
    for (let i = 0; i < s.length; i++) perClient[history[i].client - 1] = (perClient[history[i].client - 1] ?? 0) + 1;
    this.held.drop(Array.from(perClient, (n) => n ?? 0));
    this.settled = { ops: this.settled.ops + s.length, value: s.value };
    return r;
  }
}
