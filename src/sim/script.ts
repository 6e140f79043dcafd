/**
 * Fault scripts: "kill primary at 1s; vmotion at 2s; partition logging at 3s; heal at 3.5s".
 * Each action happens at a virtual time;
 * the simulator applies it between events, in script order for equal times. Parsing rejects an
 * unknown action or a malformed time with a message naming it (the `sim` command's usage error).
 */

/** A VM by name, or by the role it has when the action happens. */
export type VmRef = 'primary' | 'backup' | string;

export type FaultAction =
  /** Fail-stop: the VM does nothing more (a worker's terminate()). */
  | { kind: 'kill'; vm: VmRef }
  /** FT VMotion: the VM serving alone starts a new backup (C, then D…). */
  | { kind: 'vmotion' }
  /** Cut the logging channel both ways: batches, acks, resend requests and heartbeats are lost. */
  | { kind: 'partition'; what: 'logging' }
  /** Cut one VM from the disk server, or from the clients. */
  | { kind: 'cut'; vm: VmRef; from: 'disk' | 'clients' }
  /** Restore every cut link. A halted VM stays halted. */
  | { kind: 'heal' }
  /** Client N sends one request now (the UI's send button; a recorded run replays it). */
  | { kind: 'send'; client: number }
  /** Steady client load on or off (the UI's load switch; a recorded run replays it). */
  | { kind: 'load'; on: boolean }
  /** Not fail-stop: one bit of the VM's RAM byte at `addr` flips, and the VM runs on. */
  | { kind: 'flip'; vm: VmRef; addr: number };

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

const VM = '(primary|backup|[A-Z])';

const ACTIONS: { pattern: RegExp; make: (m: RegExpExecArray) => FaultAction }[] = [
  { pattern: new RegExp(`^kill ${VM}$`), make: (m) => ({ kind: 'kill', vm: m[1] }) },
  { pattern: /^vmotion$/, make: () => ({ kind: 'vmotion' }) },
  { pattern: /^partition logging$/, make: () => ({ kind: 'partition', what: 'logging' }) },
  { pattern: new RegExp(`^cut ${VM} (disk|clients)$`), make: (m) => ({ kind: 'cut', vm: m[1], from: m[2] as 'disk' | 'clients' }) },
  { pattern: /^heal$/, make: () => ({ kind: 'heal' }) },
  { pattern: /^send client (\d+)$/, make: (m) => ({ kind: 'send', client: Number(m[1]) }) },
  { pattern: /^load (on|off)$/, make: (m) => ({ kind: 'load', on: m[1] === 'on' }) },
  { pattern: new RegExp(`^flip ${VM} (0x[0-9a-fA-F]{1,8})$`), make: (m) => ({ kind: 'flip', vm: m[1], addr: Number.parseInt(m[2], 16) }) },
];

export const SCRIPT_ACTIONS_HELP = 'kill primary|backup|A|B|C…, vmotion, partition logging, cut A|B|C… disk|clients, heal, send client N, load on|off, flip primary|backup|A… 0xADDR';

/** An action as a script writes it ("kill primary", "send client 2"): parseAction's inverse. */
export function describeAction(a: FaultAction): string {
  switch (a.kind) {
    case 'kill':
      return `kill ${a.vm}`;
    case 'vmotion':
      return 'vmotion';
    case 'partition':
      return 'partition logging';
    case 'cut':
      return `cut ${a.vm} ${a.from}`;
    case 'heal':
      return 'heal';
    case 'send':
      return `send client ${a.client}`;
    case 'load':
      return `load ${a.on ? 'on' : 'off'}`;
    case 'flip':
      return `flip ${a.vm} 0x${a.addr.toString(16)}`;
  }
}

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
  const sorted = steps.map((s, i) => ({ s, i })).sort((a, b) => a.s.atUs - b.s.atUs || a.i - b.i).map((x) => x.s);
  checkVmNames(sorted);
  return sorted;
}

/** A and B exist from the start; each FT VMotion adds the next letter. Naming any other VM is an error. */
function checkVmNames(steps: readonly ScriptStep[]): void {
  let count = 2;
  for (const step of steps) {
    const a = step.action;
    if (a.kind === 'vmotion') count++;
    if ((a.kind === 'kill' || a.kind === 'cut' || a.kind === 'flip') && /^[A-Z]$/.test(a.vm) && a.vm.charCodeAt(0) - 65 >= count) {
      throw new ScriptError(`script step ${JSON.stringify(step.text)}: there is no VM ${a.vm} at that time (A and B, then one more per vmotion)`);
    }
  }
}

function parseAction(text: string): FaultAction {
  for (const a of ACTIONS) {
    const m = a.pattern.exec(text);
    if (m) return a.make(m);
  }
  throw new ScriptError(`unknown action ${JSON.stringify(text)} (actions: ${SCRIPT_ACTIONS_HELP})`);
}
