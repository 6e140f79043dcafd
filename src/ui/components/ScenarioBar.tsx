/**
 * The scenario being played: its question, the current step's narration, previous / next and
 * "k / n". Test ids (docs/design.md §7.2): `scenario-narration`, `scenario-prev`, `scenario-next`
 * (disabled at the ends), `scenario-step`.
 */
import { useDashboard, selectOps, selectScenario, selectVerdict } from '../store';
import { scenarioPlayer } from '../scenario';
import { seconds } from '../format';

export function ScenarioBar() {
  const sc = useDashboard(selectScenario);
  const ops = useDashboard(selectOps);
  const verdict = useDashboard(selectVerdict);
  if (!sc) return null;
  // What the clients saw, above the fold: the last replies and the checker's verdict.
  const last = ops.slice(-6).map((o) => (o.duplicate ? `dup #${o.seq}` : String(o.result)));
  const player = scenarioPlayer();
  return (
    <section className="scenario" aria-label="Scenario" data-testid="scenario" data-busy={sc.busy ? 'true' : 'false'}>
      <div className="scenario-head">
        <a href="?scenarios" className="scenario-all" title="every scenario">scenarios</a>
        <h2>{sc.title}</h2>
        <span className="scenario-question">{sc.question}</span>
      </div>
      <div className="scenario-body">
        <button data-testid="scenario-prev" disabled={sc.k === 0} onClick={() => void player?.prev()} title="the previous step (the run goes back to it)">◀ prev</button>
        <p className="scenario-narration" data-testid="scenario-narration" aria-live="polite">{sc.text}</p>
        <button data-testid="scenario-next" className="on" disabled={sc.k === sc.n - 1} onClick={() => void player?.next()} title="the next step">next ▶</button>
      </div>
      <div className="scenario-foot">
        <span data-testid="scenario-step">{sc.k + 1} / {sc.n}</span>
        <span className="muted">{sc.busy ? `running to ${seconds(sc.atUs)}…` : `paused at ${seconds(sc.atUs)} · phase ${sc.phase + 1} · press play to go on freely`}</span>
        {last.length > 0 && <span className="scenario-replies" title="the last replies the clients got">clients saw: {last.join(', ')}</span>}
        {verdict.kind !== 'none' && <span className={`scenario-verdict verdict-${verdict.kind}`}>{verdict.kind === 'ok' ? 'linearizable' : verdict.kind === 'violation' ? 'NOT linearizable' : verdict.kind}</span>}
      </div>
    </section>
  );
}
