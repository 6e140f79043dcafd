/**
 * A run as a file: the seed and settings, whether load was on at the start, and the script (every
 * action at its virtual time) — with lockstep, all it takes to make the same run again — and the
 * virtual time it had reached. Reading one checks every field and names the first thing wrong.
 */
import { describeAction, parseScript, type ScriptStep } from '../sim/script';
import { DEFAULT_SETTINGS, validateSettings, type UiSettings } from './settings';

export const RUN_FORMAT = 'ft-visualizer-run';

export interface RunFile {
  format: typeof RUN_FORMAT;
  version: 1;
  settings: UiSettings;
  load: boolean;
  script: string;
  nowUs: number;
}

export class RunFileError extends Error {
  override name = 'RunFileError';
}

export function runFile(settings: UiSettings, load: boolean, script: string, nowUs: number): RunFile {
  return { format: RUN_FORMAT, version: 1, settings: { ...settings, script: '' }, load, script, nowUs };
}

export function readRunFile(text: string): RunFile {
  let x: unknown;
  try {
    x = JSON.parse(text);
  } catch (err) {
    throw new RunFileError(`not a run file: ${(err as Error).message}`);
  }
  const o = x as Partial<RunFile> | null;
  if (!o || typeof o !== 'object' || o.format !== RUN_FORMAT) throw new RunFileError(`not a run file: expected "format": "${RUN_FORMAT}"`);
  if (o.version !== 1) throw new RunFileError(`run file version ${String(o.version)}: this app reads version 1`);
  if (typeof o.load !== 'boolean' || typeof o.script !== 'string' || typeof o.nowUs !== 'number' || !(o.nowUs >= 0)) throw new RunFileError('run file: load, script and nowUs are missing or of the wrong type');
  if (!o.settings || typeof o.settings !== 'object') throw new RunFileError('run file: settings are missing');
  const settings: UiSettings = { ...DEFAULT_SETTINGS, ...o.settings, switches: { ...DEFAULT_SETTINGS.switches, ...o.settings.switches }, script: o.script };
  if (settings.guest === 'custom') throw new RunFileError('run file: a run of the user\'s own ELF cannot be replayed from a file');
  try {
    validateSettings(settings);
  } catch (err) {
    throw new RunFileError(`run file: ${(err as Error).message}`);
  }
  return { format: RUN_FORMAT, version: 1, settings: { ...settings, script: '' }, load: o.load, script: o.script, nowUs: o.nowUs };
}

/** The script's steps before `tUs` — a run forked at that moment keeps what happened before it. */
export function scriptBefore(script: string, tUs: number): string {
  return parseScript(script).filter((s: ScriptStep) => s.atUs < tUs).map((s) => `${describeAction(s.action)} at ${s.atUs}us`).join('; ');
}

/** Whether steady load is on at `tUs` of a run with `script` that began with it `atStart`: its last switch before then. */
export function loadAt(script: string, tUs: number, atStart: boolean): boolean {
  let on = atStart;
  for (const st of parseScript(script)) if (st.atUs < tUs && st.action.kind === 'load') on = st.action.on;
  return on;
}
