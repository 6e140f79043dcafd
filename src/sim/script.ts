/**
 * Fault scripts: "partition logging at 1s; heal at 1.02s". Each action happens at a virtual time;
 * the simulator applies it between events, in script order for equal times. Parsing rejects an
 * unknown action or a malformed time with a message naming it (the `sim` command's usage error).
 */

export type FaultAction =
  /** Cut the logging channel both ways: batches, acks, resend requests and heartbeats are lost. */
  | { kind: 'partition'; what: 'logging' }
  /** Restore every cut link. */
  | { kind: 'heal' };

export interface ScriptStep {
  atUs: number;
  action: FaultAction;
  /** The step as written, for the trace. */
  text: string;
}

export class ScriptError extends Error {
  override name = 'ScriptError';
}

/** "1s", "1.02s", "250ms", "1500us" → µs. */
export function parseTimeUs(v: string): number {
  const m = /^(\d+(?:\.\d+)?)(s|ms|us)$/.exec(v.trim());
  if (!m) throw new ScriptError(`time ${JSON.stringify(v)}: expected a number with s, ms or us (e.g. 1.5s)`);
  return Math.round(Number(m[1]) * { s: 1e6, ms: 1e3, us: 1 }[m[2] as 's' | 'ms' | 'us']);
}

const ACTIONS: { pattern: RegExp; make: (m: RegExpExecArray) => FaultAction }[] = [
  { pattern: /^partition logging$/, make: () => ({ kind: 'partition', what: 'logging' }) },
  { pattern: /^heal$/, make: () => ({ kind: 'heal' }) },
];

export const SCRIPT_ACTIONS_HELP = 'partition logging | heal';

/** Parses "ACTION at TIME; ACTION at TIME; …". Steps come back sorted by time (stable). */
export function parseScript(text: string): ScriptStep[] {
  const steps: ScriptStep[] = [];
  for (const raw of text.split(';')) {
    const part = raw.trim().replace(/\s+/g, ' ');
    if (part === '') continue;
    const m = /^(.*) at (\S+)$/.exec(part);
    if (!m) throw new ScriptError(`script step ${JSON.stringify(part)}: expected "ACTION at TIME" (actions: ${SCRIPT_ACTIONS_HELP})`);
    const action = parseAction(m[1]);
    steps.push({ atUs: parseTimeUs(m[2]), action, text: part });
  }
  return steps.map((s, i) => ({ s, i })).sort((a, b) => a.s.atUs - b.s.atUs || a.i - b.i).map((x) => x.s);
}

function parseAction(text: string): FaultAction {
  for (const a of ACTIONS) {
    const m = a.pattern.exec(text);
    if (m) return a.make(m);
  }
  throw new ScriptError(`unknown action ${JSON.stringify(text)} (actions: ${SCRIPT_ACTIONS_HELP})`);
}
