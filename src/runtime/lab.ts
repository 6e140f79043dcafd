/**
 * The runtime lab page (lab.html): the browser runtime without the lecture UI, driven from
 * `window.ftLab` by the end-to-end tests and `npm run bench:browser`. The runtime runs in the
 * world worker (client.ts); this page only sends commands, as the lecture UI does.
 */
import { RuntimeClient } from './client';
import type { RuntimeOptions } from './runtime';
import { parseScript } from '../sim/script';
import { withElfWord } from '../machine/elf';
import { checkLinearizable } from '../sim/linearizability';
import type { GuestName } from '../sim/guests';
import type { Probe } from './bench-probes';

export interface LabStart extends Omit<RuntimeOptions, 'elf' | 'spawn'> {
  guest: GuestName;
  /** A VM whose worker throws at its first window (the failure path of a worker that crashes). */
  faultyWorker?: string;
  /** 32-bit guest parameters set in the ELF before boot, by symbol (e.g. `{ bench_rounds: 3000 }`). */
  set?: Record<string, number>;
}

let rt: RuntimeClient | null = null;

/** A fresh vm worker for probes (bench-probes.ts). */
function probeWorker(): Worker {
  return new Worker(new URL('./vm.worker.ts', import.meta.url), { type: 'module' });
}

let nextProbeId = 1;

/** Runs one probe in worker `w`; resolves with its figures. */
function runProbeIn(w: Worker, probe: Probe, transfer: Transferable[] = []): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    const id = nextProbeId++;
    const listener = (ev: MessageEvent): void => {
      const m = ev.data as { t: string; id: number; result?: Record<string, number>; error?: string };
      if (m.id !== id) return;
      w.removeEventListener('message', listener);
      if (m.t === 'done') resolve(m.result as Record<string, number>);
      else reject(new Error(m.error));
    };
    w.addEventListener('message', listener);
    w.postMessage({ t: 'probe', id, probe }, transfer);
  });
}

/** A shipped guest's ELF, with 32-bit parameters `set` by symbol before boot. */
async function elfOf(guest: string, set: Record<string, number> = {}): Promise<Uint8Array> {
  const r = await fetch(`/guests/${guest}.elf`);
  if (!r.ok) throw new Error(`guest ${guest}: HTTP ${r.status}`);
  let elf: Uint8Array = new Uint8Array(await r.arrayBuffer());
  for (const [name, value] of Object.entries(set)) elf = withElfWord(elf, name, value);
  return elf;
}

function need(): RuntimeClient {
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
    rt = new RuntimeClient();
    const elf = await elfOf(o.guest, o.set);
    const { set: _set, ...options } = o;
    await rt.start({ ...options, elf });
    status(`${o.guest}, seed ${o.seed}: running`);
  },
  /** Starts from given ELF bytes (a user's file): refused with a clear error when they are not a guest. */
  async startWith(o: { guest: string; elf: Uint8Array; seed?: number }): Promise<void> {
    const client = new RuntimeClient();
    try {
      await client.start({ guest: o.guest as GuestName, elf: o.elf, seed: o.seed ?? 1 });
    } catch (err) {
      client.dispose();
      throw err;
    }
    rt?.dispose();
    rt = client;
  },
  async run(untilUs: number): Promise<number> {
    const now = await need().run(untilUs);
    status(`at ${(now / 1e6).toFixed(3)} s virtual`);
    return now;
  },
  /** A script action now, e.g. "kill primary", "partition logging", "vmotion", "heal". */
  async act(text: string): Promise<void> {
    const [step] = parseScript(`${text} at 0s`);
    await need().act(step.action);
  },
  now: () => need().now(),
  /** Windows until the next log batch is sent (or a virtual second with none). */
  stepEntry: () => need().stepEntry(),
  /** Runs at `pace` virtual seconds per wall second until pause(). */
  play: (pace: number) => need().play(pace),
  pause: () => need().pause(),
  script: () => need().script(),
  /** Time travel: a snapshot of the cluster now (kept in the world worker), and back to one. */
  snapshot: () => need().snapshot(),
  restore: (i: number) => need().restore(i),
  /** Back to virtual time `toUs` from the nearest checkpoint, paused there: answers { fromUs, nowUs }. */
  travel: (toUs: number) => need().travel(toUs),
  /** The virtual times of the checkpoints lockstep keeps for time travel. */
  checkpoints: () => need().checkpoints(),
  roles: () => need().roles(),
  trace: (beforeUs?: number) => need().trace(beforeUs),
  events: () => need().events(),
  violations: () => need().violations(),
  errors: () => need().errors(),
  windows: () => need().windows(),
  views: () => need().views(),
  async linearizability(): Promise<string> {
    const r = checkLinearizable(await need().history(), 'counter');
    return r.kind === 'violation' ? `violation: ${r.explanation}` : r.kind;
  },
  dispose(): void {
    rt?.dispose();
    rt = null;
  },
  /** Free run from now on (every worker on the real clock). */
  freeRun: (): Promise<void> => need().freeRun(),
  /** Resolves after `ms` of wall time (free run goes on meanwhile). */
  sleep: (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms)),
  /**
   * CPU speed in a fresh vm worker: `guest` alone (no FT) to its exit or `instructions`, with
   * block translation on or off; `runs` times in the same worker (the first is the cold one);
   * `set` as for start().
   */
  async cpu(guest: string, translate: boolean, runs: number, instructions = 2e9, set: Record<string, number> = {}): Promise<Record<string, number>[]> {
    const w = probeWorker();
    const elf = await elfOf(guest, set);
    try {
      const out: Record<string, number>[] = [];
      for (let i = 0; i < runs; i++) out.push(await runProbeIn(w, { probe: 'machine', elf, instructions, slice: 10_000_000, translate }));
      return out;
    } finally {
      w.terminate();
    }
  },
  /** A probe in fresh workers (bench-probes.ts): the machine alone, a bare round trip, entries through a channel. */
  async probe(kind: 'machine' | 'rtt' | 'rtt-idle' | 'entries' | 'snapshot', n: number): Promise<Record<string, number>> {
    const a = probeWorker();
    const b = probeWorker();
    try {
      if (kind === 'machine') return await runProbeIn(a, { probe: 'machine', elf: await elfOf('bench'), instructions: n, slice: 200_000 });
      const ch = new MessageChannel();
      if (kind === 'snapshot') {
        const [r] = await Promise.all([
          runProbeIn(a, { probe: 'snapshot', role: 'send', elf: await elfOf('bench'), port: ch.port1, instructions: n }, [ch.port1]),
          runProbeIn(b, { probe: 'snapshot', role: 'receive', port: ch.port2 }, [ch.port2]),
        ]);
        return r;
      }
      if (kind === 'rtt' || kind === 'rtt-idle') {
        const gapMs = kind === 'rtt-idle' ? 2 : 0;
        const [r] = await Promise.all([
          runProbeIn(a, { probe: 'rtt', role: 'ping', port: ch.port1, rounds: n, gapMs }, [ch.port1]),
          runProbeIn(b, { probe: 'rtt', role: 'echo', port: ch.port2, rounds: n }, [ch.port2]),
        ]);
        return r;
      }
      const perBatch = 1_000;
      const passes = 8;
      const [s] = await Promise.all([
        runProbeIn(a, { probe: 'entries', role: 'send', port: ch.port1, batches: n, perBatch, passes }, [ch.port1]),
        runProbeIn(b, { probe: 'entries', role: 'receive', port: ch.port2, batches: n, perBatch, passes }, [ch.port2]),
      ]);
      return s;
    } finally {
      a.terminate();
      b.terminate();
    }
  },
};

declare global {
  interface Window {
    ftLab: typeof lab;
  }
}

window.ftLab = lab;
