/**
 * The world worker: the world — clients, the network switch and the shared disk server, one cluster
 * node — and the browser runtime that conducts the run (runtime.ts: the lockstep conductor, the
 * checkers, the trace), off the page's thread, so a page busy drawing never slows a run: in
 * lockstep the conductor grants every window, and it must not wait for a frame. The world's node is
 * served in this thread (node-server.ts, `nodeInThisThread`), so a round that runs only the world —
 * a client's next request, a packet through the switch — costs no hop between threads. It spawns
 * the vm workers itself (workers may start workers) and answers the page's commands
 * (`RuntimeCommand`, validated); stats go to the page about 30 times a second.
 */
import { BrowserRuntime } from './runtime';
import { defaultSpawn } from './worker-nodes';
import { validateRuntimeCommand, type RuntimeCommand, type RuntimeReply } from './protocol';
import type { ClusterSnapshot } from '../sim/conductor';

/** A worker that throws as soon as it is asked to run: what a bug in a vm worker looks like. */
const FAULTY_WORKER = `self.onmessage = (ev) => { if (ev.data && ev.data.t === 'window') throw new Error('injected fault in the worker'); };`;

interface Scope {
  postMessage(m: RuntimeReply): void;
  onmessage: ((ev: MessageEvent) => void) | null;
}

const scope = self as unknown as Scope;
let rt: BrowserRuntime | null = null;
const snapshots: ClusterSnapshot[] = [];

function need(): BrowserRuntime {
  if (!rt) throw new Error('start the runtime first');
  return rt;
}

async function handle(m: RuntimeCommand): Promise<unknown> {
  switch (m.c) {
    case 'start': {
      rt?.dispose();
      const faulty = m.o.faultyWorker;
      const spawn = faulty === undefined ? undefined : (kind: 'vm' | 'world', name: string): Worker => kind === 'vm' && name === faulty
        ? new Worker(URL.createObjectURL(new Blob([FAULTY_WORKER], { type: 'text/javascript' })))
        : defaultSpawn(kind, name);
      rt = new BrowserRuntime({ ...m.o, spawn });
      rt.onStats = (stats) => scope.postMessage({ stats });
      return null;
    }
    case 'run':
      await need().runUntil(m.untilUs);
      return need().now;
    case 'step':
      await need().stepWindow();
      return need().now;
    case 'step-entry':
      return { found: await need().stepToEntry(), nowUs: need().now };
    case 'play':
      need().pace = m.pace;
      need().play();
      return null;
    case 'pause':
      await need().pause();
      return need().now;
    case 'act':
      await need().act(m.action);
      return null;
    case 'free-run':
      await need().freeRun();
      return null;
    case 'snapshot':
      snapshots.push(await need().snapshot());
      return snapshots.length - 1;
    case 'restore': {
      const snap = snapshots[m.snap];
      if (!snap) throw new Error(`no snapshot ${m.snap}`);
      await need().restore(snap);
      return need().now;
    }
    case 'travel': {
      const fromUs = await need().travel(m.toUs);
      return { fromUs, nowUs: need().now };
    }
    case 'query':
      return query(m.what, m.beforeUs);
    case 'history-since':
      return need().historySince(m.gen, m.from);
    case 'dispose':
      rt?.dispose();
      rt = null;
      return null;
  }
}

async function query(what: Extract<RuntimeCommand, { c: 'query' }>['what'], beforeUs?: number): Promise<unknown> {
  const r = need();
  switch (what) {
    case 'now':
      return r.now;
    case 'roles':
      return r.conductor.roles;
    case 'views':
      return r.conductor.views();
    case 'trace':
      return r.exportTrace(beforeUs);
    case 'events':
      return r.conductor.trace;
    case 'violations':
      return r.conductor.violations().map((v) => `${v.checker}: ${v.what}`);
    case 'errors':
      return r.errors;
    case 'windows':
      return r.conductor.windows;
    case 'script':
      return r.script();
    case 'history':
      return r.history();
    case 'checkpoints':
      return r.checkpointTimes;
  }
}

scope.onmessage = (ev: MessageEvent) => {
  let m: RuntimeCommand;
  try {
    m = validateRuntimeCommand(ev.data);
  } catch (err) {
    const id = typeof (ev.data as { id?: unknown })?.id === 'number' ? (ev.data as { id: number }).id : -1;
    scope.postMessage({ id, ok: false, error: (err as Error).message });
    return;
  }
  handle(m).then(
    (value) => scope.postMessage({ id: m.id, ok: true, value }),
    (err: unknown) => scope.postMessage({ id: m.id, ok: false, error: err instanceof Error ? err.message : String(err) }),
  );
};
