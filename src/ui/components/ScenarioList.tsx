/** Every lecture scenario, one line each: the page at `/?scenarios`. */
import { SCENARIOS } from '../scenarios';
import { Notices } from './Moments';

export function ScenarioList() {
  return (
    <main className="scenario-list" data-testid="scenario-list">
      <Notices />
      <h2>Lecture scenarios</h2>
      <p className="muted">Each opens the live pair at a seed and walks it step by step; the same link gives the same run. <a href="./">Free play</a></p>
      <ol>
        {SCENARIOS.map((s) => (
          <li key={s.name}>
            <a href={`?scenario=${s.name}&seed=1`} data-scenario={s.name}>{s.title}</a>
            <span className="muted"> — {s.question} ({s.steps.length} steps)</span>
          </li>
        ))}
      </ol>
    </main>
  );
}
