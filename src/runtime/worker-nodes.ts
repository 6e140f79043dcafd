/**
 * The conductor's nodes (docs/design.md §1.5): a vm worker per VM host, the world's node in the
 * conductor's own thread (the world worker), and a MessageChannel per wire — the logging channel
 * between two vm workers, each VM's network and disk wires to the world — whose ports go to the two
 * ends (a vm worker's transferred to it). Packets go thread to thread on those ports; the conductor
 * only sends control messages and reads answers. A kill is `worker.terminate()`. A worker that throws is reported (`onFailure`) and its
 * pending requests fail with its error; the others keep running.
 */
import { blankHostView, type HostView } from '../ft/host-types';
import type { HostSpec } from '../sim/cluster-config';
import type { HostHandle, NodeFactory, WorldHandle } from '../sim/conductor';
import type { BoundaryResult, KeyedEvent, NodeState, WindowReport, WireEnd } from '../sim/node';
import type { HistoryDelta, HistoryEntry } from '../world/history';
import { validateFromWorker, type PortableConfig, type ToWorker } from './protocol';
import { nodeInThisThread } from './node-server';

/** ToWorker without the request id, which `Remote.call` assigns. */
type Request = ToWorker extends infer T ? (T extends { id: number } ? Omit<T, 'id'> : never) : never;

class Remote {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  failed: string | null = null;
  onReport: ((trace: KeyedEvent[], view: HostView | null, nowUs: number) => void) | null = null;

  constructor(readonly name: string, readonly worker: Worker, onFailure: (name: string, error: string) => void) {
    worker.onmessage = (ev: MessageEvent) => {
      let m;
      try {
        m = validateFromWorker(ev.data);
      } catch (err) {
        onFailure(name, `malformed message from the worker: ${(err as Error).message}`);
        return;
      }
      if (m.t === 'free-report') return this.onReport?.(m.trace, m.view, m.nowUs);
      if (m.t === 'error' && m.id === null) return onFailure(name, m.error);
      const w = this.waiting.get(m.id as number);
      if (!w) return;
      this.waiting.delete(m.id as number);
      if (m.t === 'done') w.resolve(m.result);
      else w.reject(new Error(m.error));
    };
    worker.onerror = (ev: ErrorEvent) => {
      ev.preventDefault();
      this.fail(ev.message || 'the worker threw');
      onFailure(name, this.failed as string);
    };
  }

  post(m: ToWorker, transfer: Transferable[] = []): void {
    this.worker.postMessage(m, transfer);
  }

  call<T>(m: Request): Promise<T> {
    if (this.failed) return Promise.reject(new Error(this.failed));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.post({ ...m, id } as ToWorker);
    });
  }

  fail(error: string): void {
    this.failed ??= error;
    for (const w of this.waiting.values()) w.reject(new Error(this.failed));
    this.waiting.clear();
  }

  terminate(): void {
    this.worker.terminate();
    this.fail('terminated');
  }
}

export interface WorkerNodes extends NodeFactory {
  /** The world's client history (for the checkers of the page). */
  history(): Promise<HistoryEntry[]>;
  /** What a reader holding `from` rows of each client lacks (World.historySince). */
  historySince(from: number[]): Promise<HistoryDelta>;
  /** Tears every worker down. */
  terminateAll(): void;
}

export interface WorkerNodeOptions {
  cfg: PortableConfig;
  elf: Uint8Array;
  onFailure: (node: string, error: string) => void;
  /** Free run: a node's trace events and view, about 30 times a second. */
  onFreeReport?: (node: string, trace: KeyedEvent[], view: HostView | null, nowUs: number) => void;
  /** Builds a vm worker, or the world's node (`kind` 'world'); the default is `defaultSpawn`. */
  spawn?: (kind: 'vm' | 'world', name: string) => Worker;
}

/** A vm worker for a VM host; the world's node in this thread (the world worker's, node-server.ts). */
export function defaultSpawn(kind: 'vm' | 'world', name: string): Worker {
  return kind === 'vm' ? new Worker(new URL('./vm.worker.ts', import.meta.url), { type: 'module', name: `vm ${name}` }) : nodeInThisThread(name);
}

export function workerNodes(o: WorkerNodeOptions): WorkerNodes {
  const spawn = o.spawn ?? defaultSpawn;
  const remotes = new Map<string, Remote>();
  const channels = new Map<number, MessageChannel>();

  const addEnd = (r: Remote, end: WireEnd): void => {
    let ch = channels.get(end.wire);
    if (!ch) channels.set(end.wire, (ch = new MessageChannel()));
    const port = end.dir === 0 ? ch.port1 : ch.port2;
    r.post({ t: 'add-end', end, port }, [port]);
  };
  const base = (r: Remote, name: string) => ({
    freeRun: (originMs: number) => {
      r.onReport = (trace: KeyedEvent[], view: HostView | null, nowUs: number) => o.onFreeReport?.(name, trace, view, nowUs);
      r.post({ t: 'free-run', originMs });
    },
    runWindow: (endUs: number, expect: Record<number, number>, returnUs: Record<string, number>) => r.call<WindowReport>({ t: 'window', endUs, expect, returnUs }),
    addEnd: (end: WireEnd) => addEnd(r, end),
    setCut: (wire: number, cut: boolean, key: readonly number[], expect?: Record<number, number>) => r.call<KeyedEvent[]>({ t: 'set-cut', wire, cut, key, expect }),
    snapshot: () => r.call<NodeState>({ t: 'snapshot' }),
    restore: async (state: NodeState) => {
      await r.call<null>({ t: 'restore', state });
    },
  });

  return {
    world(): WorldHandle {
      const r = new Remote('world', spawn('world', 'world'), o.onFailure);
      remotes.set('world', r);
      r.post({ t: 'init-world', cfg: o.cfg, vms: ['A', 'B'] });
      return {
        ...base(r, 'world'),
        act: (action, key) => r.call<BoundaryResult & { epoch?: number }>({ t: 'act', action, key }),
      };
    },
    host(spec: HostSpec): HostHandle {
      const r = new Remote(spec.name, spawn('vm', spec.name), o.onFailure);
      remotes.set(spec.name, r);
      r.post({ t: 'init-host', cfg: o.cfg, spec, elf: o.elf });
      return {
        ...base(r, spec.name),
        kill: async () => {
          // The host's last view first (it stopped at the boundary), then the real kill.
          const view = await r.call<HostView>({ t: 'kill' }).catch(() => null);
          r.terminate();
          return view ?? blankHostView({ name: spec.name, role: 'crashed', state: 'stopped', peer: spec.peer, backupReady: false });
        },
        startVMotion: (peer, epoch, key) => r.call<BoundaryResult>({ t: 'vmotion', peer, epoch, key }),
        flipRamBit: async (addr) => {
          await r.call<null>({ t: 'flip', addr });
        },
      };
    },
    history: () => (remotes.get('world') as Remote).call<HistoryEntry[]>({ t: 'history' }),
    historySince: (from) => (remotes.get('world') as Remote).call<HistoryDelta>({ t: 'history', from }),
    terminateAll(): void {
      for (const r of remotes.values()) r.terminate();
      remotes.clear();
      for (const ch of channels.values()) {
        ch.port1.close();
        ch.port2.close();
      }
      channels.clear();
    },
  };
}
