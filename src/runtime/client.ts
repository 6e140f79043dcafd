/**
 * The page's handle on the browser runtime, which runs in the world worker (world.worker.ts):
 * every call is a command answered by the worker; stats arrive about 30 times a second. The page
 * only draws and sends commands — a frame it drops never slows a run.
 */
import type { HostView } from '../ft/host';
import type { FaultAction } from '../sim/script';
import type { TraceEvent } from '../sim/trace';
import type { HistoryDelta, HistoryEntry } from '../world/history';
import type { RuntimeStats } from './runtime';
import type { RuntimeCommand, RuntimeQuery, RuntimeReply, StartOptions } from './protocol';

type Command = RuntimeCommand extends infer T ? (T extends { id: number } ? Omit<T, 'id'> : never) : never;

export class RuntimeClient {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  onStats: ((s: RuntimeStats) => void) | null = null;
  /** Set when the world worker itself fails: every call after it fails with this. */
  failed: string | null = null;

  constructor() {
    this.worker = new Worker(new URL('./world.worker.ts', import.meta.url), { type: 'module', name: 'world' });
    this.worker.onmessage = (ev: MessageEvent) => {
      const m = ev.data as RuntimeReply;
      if ('stats' in m) return this.onStats?.(m.stats);
      const w = this.waiting.get(m.id);
      if (!w) return;
      this.waiting.delete(m.id);
      if (m.ok) w.resolve(m.value);
      else w.reject(new Error(m.error));
    };
    this.worker.onerror = (ev: ErrorEvent) => {
      ev.preventDefault();
      this.failed = `the world worker failed: ${ev.message}`;
      for (const w of this.waiting.values()) w.reject(new Error(this.failed));
      this.waiting.clear();
    };
  }

  private call<T>(c: Command, transfer: Transferable[] = []): Promise<T> {
    if (this.failed) return Promise.reject(new Error(this.failed));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ ...c, id }, transfer);
    });
  }

  private query<T>(what: RuntimeQuery, beforeUs?: number): Promise<T> {
    return this.call<T>({ c: 'query', what, beforeUs });
  }

  start(o: StartOptions): Promise<void> {
    return this.call({ c: 'start', o });
  }
  /** Runs to virtual time `untilUs` as fast as the workers go; answers the time reached. */
  run(untilUs: number): Promise<number> {
    return this.call({ c: 'run', untilUs });
  }
  step(): Promise<number> {
    return this.call({ c: 'step' });
  }
  /** Windows until the next log batch is sent; `found` false after a virtual second with none. */
  stepEntry(): Promise<{ found: boolean; nowUs: number }> {
    return this.call({ c: 'step-entry' });
  }
  play(pace: number): Promise<void> {
    return this.call({ c: 'play', pace });
  }
  pause(): Promise<number> {
    return this.call({ c: 'pause' });
  }
  act(action: FaultAction): Promise<void> {
    return this.call({ c: 'act', action });
  }
  freeRun(): Promise<void> {
    return this.call({ c: 'free-run' });
  }
  /** A snapshot of the whole cluster, kept in the worker; answers its number. */
  snapshot(): Promise<number> {
    return this.call({ c: 'snapshot' });
  }
  restore(snap: number): Promise<number> {
    return this.call({ c: 'restore', snap });
  }
  /** Time travel back to `toUs` (lockstep), paused there; `fromUs` is the checkpoint it ran on from. */
  travel(toUs: number): Promise<{ fromUs: number; nowUs: number }> {
    return this.call({ c: 'travel', toUs });
  }
  now = (): Promise<number> => this.query('now');
  checkpoints = (): Promise<number[]> => this.query('checkpoints');
  roles = (): Promise<Record<string, string>> => this.query('roles');
  views = (): Promise<HostView[]> => this.query('views');
  trace = (beforeUs?: number): Promise<string> => this.query('trace', beforeUs);
  events = (): Promise<TraceEvent[]> => this.query('events');
  violations = (): Promise<string[]> => this.query('violations');
  errors = (): Promise<string[]> => this.query('errors');
  windows = (): Promise<number> => this.query('windows');
  script = (): Promise<string> => this.query('script');
  history = (): Promise<HistoryEntry[]> => this.query('history');
  /** What a reader of history generation `gen` holding `from` rows of each client lacks (BrowserRuntime.historySince). */
  historySince(gen: number, from: number[]): Promise<HistoryDelta & { gen: number }> {
    return this.call({ c: 'history-since', gen, from });
  }

  /** Ends the run: no stats from it reach the page after this (a new run's view must not see its last ones). */
  dispose(): void {
    this.onStats = null;
    void this.call({ c: 'dispose' }).catch(() => undefined);
    setTimeout(() => this.worker.terminate(), 100);
  }
}
