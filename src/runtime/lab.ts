/**
 * The runtime lab page (lab.html): the browser runtime without the lecture UI, driven from
 * `window.ftLab` by the end-to-end tests and `npm run bench:browser`.
 */
import { LockstepRuntime, type RuntimeOptions } from './runtime';
import { parseScript } from '../sim/script';
import { checkLinearizable } from '../sim/linearizability';
import type { GuestName } from '../sim/guests';
import type { TraceEvent } from '../sim/trace';

export interface LabStart extends Omit<RuntimeOptions, 'elf'> {
  guest: GuestName;
}

let rt: LockstepRuntime | null = null;

async function elfOf(guest: string): Promise<Uint8Array> {
  const r = await fetch(`/guests/${guest}.elf`);
  if (!r.ok) throw new Error(`guest ${guest}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

function need(): LockstepRuntime {
  if (!rt) throw new Error('ftLab.start() first');
  return rt;
}

const status = (text: string): void => {
  const el = document.getElementById('status');
  if (el) el.textContent = text;
};

const lab = {
  async start(o: LabStart): Promise<void> {
    rt?.dispose();
    rt = new LockstepRuntime({ ...o, elf: await elfOf(o.guest) });
    status(`${o.guest}, seed ${o.seed}: running`);
  },
  async run(untilUs: number): Promise<number> {
    await need().runUntil(untilUs);
    status(`at ${(need().now / 1e6).toFixed(3)} s virtual`);
    return need().now;
  },
  /** A script action now, e.g. "kill primary", "partition logging", "vmotion", "heal". */
  async act(text: string): Promise<void> {
    const [step] = parseScript(`${text} at 0s`);
    await need().act(step.action);
  },
  now: (): number => need().now,
  roles: (): Record<string, string> => need().conductor.roles,
  trace: (beforeUs?: number): string => need().exportTrace(beforeUs),
  events: (): TraceEvent[] => need().conductor.trace,
  violations: (): string[] => need().conductor.violations().map((v) => `${v.checker}: ${v.what}`),
  errors: (): string[] => need().errors,
  windows: (): number => need().conductor.windows,
  async linearizability(): Promise<string> {
    const r = checkLinearizable(await need().history(), 'counter');
    return r.kind === 'violation' ? `violation: ${r.explanation}` : r.kind;
  },
  dispose(): void {
    rt?.dispose();
    rt = null;
  },
};

declare global {
  interface Window {
    ftLab: typeof lab;
  }
}

window.ftLab = lab;
