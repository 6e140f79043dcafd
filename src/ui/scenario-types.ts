/**
 * A lecture scenario is data: runs (phases) of given settings and fault script, and steps that each
 * stop one of those runs at an exact virtual time with narration saying what to look at. Lockstep
 * makes a phase the same run on every page load, so a step is the same state every time; going back
 * re-runs the phase from its start to the earlier step's time.
 */
import { DEFAULT_SETTINGS, type UiSettings } from './settings';

export interface ScenarioPhase {
  /** Settings over the defaults (the URL's seed, if given, replaces `seed`). */
  settings: Partial<Omit<UiSettings, 'switches'>> & { switches?: Partial<UiSettings['switches']> };
  /** Steady client load from the start (default on). */
  load?: boolean;
  /** Faults and client actions at virtual times, as `npm run sim -- --script` takes them. */
  script: string;
}

export interface ScenarioStep {
  /** Which phase (run) this step shows. */
  phase: number;
  /** The run stops here (paused) for this step. */
  atUs: number;
  /** What to look at now, in a sentence or three. */
  text: string;
}

export interface Scenario {
  /** The URL key: `/?scenario=NAME`. */
  name: string;
  title: string;
  /** The lecture question it answers (the FAQ's or the notes' own words, paraphrased). */
  question: string;
  phases: ScenarioPhase[];
  steps: ScenarioStep[];
}

/** The settings of a phase: the defaults, the phase's own, and the URL's seed unless the phase pins one. */
export function phaseSettings(sc: Scenario, phase: number, seed: number | null): { settings: UiSettings; load: boolean } {
  const p = sc.phases[phase];
  const { switches, ...rest } = p.settings;
  const settings: UiSettings = {
    ...DEFAULT_SETTINGS, ...rest, script: p.script,
    switches: { ...DEFAULT_SETTINGS.switches, ...switches },
    seed: rest.seed ?? seed ?? DEFAULT_SETTINGS.seed,
  };
  return { settings, load: p.load ?? true };
}

