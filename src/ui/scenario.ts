/**
 * Playing a scenario (scenario-types.ts): each step is a phase's run stopped at the step's virtual
 * time. Forward within the phase runs on from where the run is; back, or into another phase, starts
 * the phase afresh and runs to the step (lockstep: the same state every time, on every page load).
 * Steps are taken one after another: clicking next twice goes two steps.
 */
import { phaseSettings, type Scenario } from './scenario-types';
import { session } from './session';
import { useDashboard } from './store';

export class ScenarioPlayer {
  private chain: Promise<void> = Promise.resolve();
  /** The phase this player started, and the session's run it started it in. */
  private runningPhase: number | null = null;
  private runId = -1;

  constructor(readonly scenario: Scenario, readonly seed: number | null) {}

  open(): Promise<void> {
    return this.goTo(0);
  }

  next = (): Promise<void> => this.goTo(this.target() + 1);
  prev = (): Promise<void> => this.goTo(this.target() - 1);

  private target(): number {
    return useDashboard.getState().scenario?.k ?? 0;
  }

  /** Shows step k's narration at once and takes the run there (after any step still being taken). */
  goTo(k: number): Promise<void> {
    const n = this.scenario.steps.length;
    if (k < 0 || k >= n) return this.chain;
    const step = this.scenario.steps[k];
    const s = useDashboard.getState();
    s.set({ scenario: { name: this.scenario.name, title: this.scenario.title, question: this.scenario.question, k, n, text: step.text, busy: true, phase: step.phase, atUs: step.atUs } });
    this.chain = this.chain.then(() => this.reach(k)).catch((err: unknown) => {
      useDashboard.getState().notify(`scenario: ${err instanceof Error ? err.message : String(err)}`, 'error');
    });
    return this.chain;
  }

  private async reach(k: number): Promise<void> {
    const step = this.scenario.steps[k];
    const nowUs = this.runId === session.runId ? await session.now() : 0;
    if (this.runningPhase !== step.phase || this.runId !== session.runId || nowUs > step.atUs) {
      const { settings, load } = phaseSettings(this.scenario, step.phase, this.seed);
      const ok = await session.start(settings, null, { play: false, load });
      if (!ok) throw new Error(`phase ${step.phase + 1} did not start`);
      this.runningPhase = step.phase;
      this.runId = session.runId;
    }
    await session.runTo(step.atUs);
    await session.check(true);
    const cur = useDashboard.getState().scenario;
    if (cur && cur.k === k) useDashboard.getState().set({ scenario: { ...cur, busy: false } });
  }
}

let player: ScenarioPlayer | null = null;

export function openScenario(sc: Scenario, seed: number | null): Promise<void> {
  player = new ScenarioPlayer(sc, seed);
  return player.open();
}

export const scenarioPlayer = (): ScenarioPlayer | null => player;
