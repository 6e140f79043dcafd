/**
 * The scenario being played: its question, the current step's narration, previous / next and
 * "k / n". Test ids (docs/design.md §7.2): `scenario-narration`, `scenario-prev`, `scenario-next`
 * (disabled at the ends), `scenario-step`.
 */
import { useDashboard, selectScenario } from '../store';
import { scenarioPlayer } from '../scenario';
import { seconds } from '../format';

export function ScenarioBar() {
  const sc = useDashboard(selectScenario);
  if (!sc) return null;
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
      </div>
    </section>
  );
}
