/**
 * The browser runtime in lockstep (docs/design.md §1.5): the conductor (src/sim/conductor.ts) and
 * the world's node in the world worker, a vm worker per VM host. Virtual time advances window by
 * window at a pace — virtual seconds per wall second, from slow motion to as fast as the workers
 * run — or one window at a time; the user's actions apply at the next window boundary, so a run is
 * the same from the same seed, settings and actions, and equals `npm run sim` with that seed and
 * script. Stats go to the UI at most ~30 times a second; a main thread that drops frames only slows
 * how often windows are granted, never what happens in them.
 */
import { Conductor, type ClusterSnapshot } from '../sim/conductor';
import { elfClusterConfig, GUEST_NAMES, guestClusterConfig, isGuestName, type GuestName } from '../sim/guests';
import type { WorkloadKind } from '../world/client';
import { Machine } from '../machine/machine';
import { parseScript, type FaultAction, type ScriptStep } from '../sim/script';
import { CLUSTER_DEFAULTS, type ClusterConfig } from '../sim/cluster-config';
import { serializeTrace, type TraceEvent } from '../sim/trace';
import type { HostView } from '../ft/host';
import type { FtSettings } from '../ft/settings';
import type { SimLinkSettings } from '../sim/link';
import type { HistoryDelta, HistoryEntry } from '../world/history';
import { workerNodes, type WorkerNodeOptions, type WorkerNodes } from './worker-nodes';
import { CHECKPOINT_EVERY_US, Checkpoints } from './checkpoints';
import type { PortableConfig } from './protocol';

export interface RuntimeOptions {
  /** A shipped guest, or 'custom': the user's own ELF, with `workload`'s clients if it serves them. */
  guest: GuestName | 'custom';
  elf: Uint8Array;
  /** For a custom guest: the client workload that talks to it (default none). */
  workload?: WorkloadKind | null;
  seed: number;
  clients?: number;
  /** Fault script, as `npm run sim -- --script`. */
  script?: string;
  ft?: Partial<FtSettings>;
  load?: boolean;
  /**
   * Keep every event for trace() and export (default true: tests compare whole traces). The lecture
   * UI turns it off: a 50-minute run at full speed would keep millions; the stats stream carries
   * what the page draws.
   */
  keepTrace?: boolean;
  /** Between a reply and a client's next request under steady load (default the simulator's). */
  thinkTimeUs?: number;
  /** Instructions per second of each host's model (default 4M); the backup's too unless backupSpeedIps. */
  speedIps?: number;
  backupSpeedIps?: number;
  /** Link settings (delay, jitter, loss, ordering), as the simulator's cluster config takes them. */
  loggingLink?: Partial<SimLinkSettings>;
  netLink?: Partial<SimLinkSettings>;
  diskLink?: Partial<SimLinkSettings>;
  /** Virtual seconds per wall second (Infinity: as fast as the workers run). */
  pace?: number;
  /** Builds the vm workers and the world's node (tests put a faulty one in); the default is `defaultSpawn`. */
  spawn?: WorkerNodeOptions['spawn'];
}

export interface RuntimeStats {
  nowUs: number;
  windows: number;
  views: HostView[];
  /** Trace events since the previous stats (bounded). */
  events: TraceEvent[];
  errors: string[];
  playing: boolean;
  /**
   * The run went back to this virtual time (time travel, a restore): what the page holds from it on
   * is a future that no longer happens. Sent before any event of the run from there.
   */
  rewoundUs?: number;
  /**
   * A checkpoint was taken at this virtual time, after every event before it was sent; with the
   * times of every checkpoint kept, so the page can keep what it needs to go back to each.
   */
  checkpoint?: { atUs: number; kept: number[] };
}

const STATS_EVERY_MS = 33;
/**
 * The stream to the UI is bounded: at most this many of the high-rate events (log batches, acks,
 * heartbeats, replayed entries) per stats message, and as many again of the rest — outputs, faults,
 * failover, client operations — so a run at full speed still shows every console byte and fault.
 */
const EVENTS_PER_STATS_MAX = 2_000;
const BULK_EVENTS: ReadonlySet<TraceEvent['ev']> = new Set(['log-sent', 'ack-sent', 'ack-received', 'heartbeat-sent', 'entry-applied', 'hash-ok', 'sample', 'output-held', 'cpu-share']);
/** How long the next-entry button runs with no log batch before it gives up (virtual µs). */
export const STEP_ENTRY_WITHIN_US = 1_000_000;

/** A checkpoint not taken in this long is skipped (its snapshot waits on every live worker). */
const CHECKPOINT_WAIT_MS = 2_000;

/** For a promise whose failure `exclusive` has already kept in `errors`: nothing more to do. */
const said = (): void => {};

/**
 * The cluster a runtime runs for these options — the simulator's `Cluster` takes the same config,
 * which is how a browser run and a simulator run are the same run. Throws, naming what is wrong,
 * for an unknown guest or bytes that are not a RISC-V ELF.
 */
export function runtimeClusterConfig(o: Omit<RuntimeOptions, 'spawn'>): ClusterConfig {
  if (o.guest !== 'custom' && !isGuestName(o.guest)) throw new Error(`unknown guest ${JSON.stringify(o.guest)}: expected one of ${GUEST_NAMES.join(', ')}, or custom`);
  Machine.fromElf(o.elf); // throws ElfError ("not an ELF file", "not RISC-V", …) before the workers do
  const base = o.guest === 'custom'
    ? elfClusterConfig(o.elf, o.seed, o.workload ?? null, o.clients ?? 3)
    : guestClusterConfig(o.guest, o.elf, o.seed, o.clients ?? 3);
  return {
    ...CLUSTER_DEFAULTS, ...base, ft: { ...base.ft, ...o.ft }, script: parseScript(o.script ?? ''), load: o.load ?? true,
    thinkTimeUs: o.thinkTimeUs ?? CLUSTER_DEFAULTS.thinkTimeUs,
    keepTrace: o.keepTrace ?? true,
    primarySpeedIps: o.speedIps ?? CLUSTER_DEFAULTS.primarySpeedIps,
    backupSpeedIps: o.backupSpeedIps ?? o.speedIps ?? CLUSTER_DEFAULTS.backupSpeedIps,
    loggingLink: { ...CLUSTER_DEFAULTS.loggingLink, ...o.loggingLink },
    netLink: { ...CLUSTER_DEFAULTS.netLink, ...o.netLink },
    diskLink: { ...CLUSTER_DEFAULTS.diskLink, ...o.diskLink },
  };
}

export class BrowserRuntime {
  private current: Conductor;
  /** The run's config; time travel cuts its script where the run forked. */
  private cfg: ClusterConfig;
  private readonly checkpoints = new Checkpoints();
  private nextCheckpointUs = 0;
  private rewoundUs: number | null = null;
  /** Bumped by every restore: the history from there on is another run's (historySince). */
  private historyGen = 0;
  private checkpointNews: { atUs: number; kept: number[] } | null = null;
  private nodes: WorkerNodes;
  private readonly makeNodes: () => WorkerNodes;
  private readonly queued: (() => Promise<void>)[] = [];
  private readonly fresh: TraceEvent[] = [];
  /** Log batches sent (first sends and resends) that the conductor has passed on (the trace may not be kept). */
  private logBatchesSeen = 0;
  private freshBulk = 0;
  readonly errors: string[] = [];
  pace: number;
  private playing = false;
  private busy: Promise<void> = Promise.resolve();
  private lastStatsMs = 0;
  private originMs: number | null = null;
  onStats: ((s: RuntimeStats) => void) | null = null;

  /**
   * Checks the guest before any worker starts: an unknown guest or bytes that are not a RISC-V ELF
   * throw an error naming what is wrong, and nothing is built.
   */
  constructor(o: RuntimeOptions) {
    this.cfg = runtimeClusterConfig(o);
    const { makeMachine: _m, script: _s, ...portable } = this.cfg;
    this.makeNodes = () => workerNodes({
      cfg: portable as PortableConfig, elf: o.elf, spawn: o.spawn,
      onFailure: (node, error) => this.errors.push(`${node}: ${error}`),
      onFreeReport: (node, trace, view) => this.conductor.ingest(node, trace, view),
    });
    this.nodes = this.makeNodes();
    this.current = this.listen(new Conductor(this.cfg, this.nodes));
    this.pace = o.pace ?? 1;
  }

  get conductor(): Conductor {
    return this.current;
  }

  private listen(c: Conductor): Conductor {
    c.listeners.push((e) => {
      if (e.ev === 'log-sent') this.logBatchesSeen++;
      const bulk = BULK_EVENTS.has(e.ev);
      if (bulk ? this.freshBulk < EVENTS_PER_STATS_MAX : this.fresh.length - this.freshBulk < EVENTS_PER_STATS_MAX) {
        this.fresh.push(e);
        if (bulk) this.freshBulk++;
      }
    });
    return c;
  }

  /** The whole cluster at the current window boundary (lockstep), for time travel. */
  snapshot(): Promise<ClusterSnapshot> {
    let snap: ClusterSnapshot | null = null;
    return this.exclusive(async () => {
      snap = await this.current.snapshot();
    }).then(() => snap as ClusterSnapshot);
  }

  /**
   * Back to a snapshot of this run: every worker torn down, fresh ones built and put back into the
   * snapshot's state; from there the run goes on exactly as it did (lockstep).
   */
  restore(snap: ClusterSnapshot): Promise<void> {
    this.playing = false;
    this.stopFreeTimer();
    return this.exclusive(() => this.restoreNow(snap));
  }

  /**
   * Time travel: back to virtual time `toUs` of this run (lockstep), paused — the nearest
   * checkpoint at or before it restored on fresh workers, then run on to it, the user's actions
   * between applied again at their times. What the run had scripted or done at or after `toUs`
   * is forgotten: whatever happens next forks the run from there. Answers the checkpoint's time.
   */
  travel(toUs: number): Promise<number> {
    this.playing = false;
    let fromUs = 0;
    return this.exclusive(async () => {
      if (this.conductor.freeRunning) throw new Error('free run is not reproducible: time travel needs lockstep');
      if (!(toUs >= 0 && toUs <= this.conductor.now)) throw new Error(`time travel goes back, to a time from 0 to ${this.conductor.now} µs: not ${toUs}`);
      if (this.checkpoints.size === 0) await this.checkpointIfDue(); // a run that has not moved yet
      const snap = this.checkpoints.rewindTo(toUs);
      if (!snap) throw new Error(`no checkpoint at or before ${toUs} µs to travel from`);
      fromUs = snap.nowUs;
      await this.restoreNow(snap, { beforeUs: toUs, userSteps: this.conductor.actions });
      while (this.conductor.now < toUs) {
        await this.oneWindow(toUs);
        this.publish(false);
      }
      this.publish(true);
    }).then(() => fromUs);
  }

  private async restoreNow(snap: ClusterSnapshot, fork?: { beforeUs: number; userSteps: readonly ScriptStep[] }): Promise<void> {
    const old = this.current;
    this.nodes.terminateAll();
    this.nodes = this.makeNodes();
    this.current = this.listen(await Conductor.restore(this.cfg, this.nodes, snap, old.trace, fork));
    this.cfg = this.current.cfg;
    // Checkpoints after it are of a future that may not happen again (the user may act otherwise).
    this.checkpoints.dropAfter(snap.nowUs);
    this.nextCheckpointUs = nextCheckpointAfter(snap.nowUs);
    this.fresh.length = 0;
    this.freshBulk = 0;
    this.rewoundUs = snap.nowUs;
    this.historyGen++;
    this.publish(true);
  }

  /** The times of the checkpoints kept (lockstep), oldest first. */
  get checkpointTimes(): number[] {
    return this.checkpoints.times;
  }

  /**
   * A checkpoint of the cluster here, if one is due (a lockstep boundary, inside `exclusive`). One
   * that fails or gets no answer in CHECKPOINT_WAIT_MS (a worker that died meanwhile, or hangs) is
   * skipped and said: the run goes on, and travel goes back from an earlier checkpoint.
   */
  private async checkpointIfDue(): Promise<void> {
    if (this.conductor.freeRunning || this.conductor.now < this.nextCheckpointUs) return;
    this.nextCheckpointUs = nextCheckpointAfter(this.conductor.now);
    let snap: ClusterSnapshot;
    let timer: ReturnType<typeof setTimeout> | undefined;
    // Aligned first, outside the wait: what may be left waiting is only the nodes' answers, which
    // change nothing in the conductor.
    await this.conductor.align();
    try {
      snap = await Promise.race([
        this.conductor.snapshot(),
        new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer in ${CHECKPOINT_WAIT_MS} ms`)), CHECKPOINT_WAIT_MS))),
      ]);
    } catch (err) {
      this.errors.push(`checkpoint at ${(this.conductor.now / 1e6).toFixed(3)} s skipped (time travel goes back from an earlier one): ${err instanceof Error ? err.message : String(err)}`);
      return;
    } finally {
      clearTimeout(timer);
    }
    const atUs = snap.nowUs;
    this.checkpoints.add(snap);
    this.nextCheckpointUs = nextCheckpointAfter(atUs);
    // With every event before it (the snapshot aligned the nodes to one instant and released them).
    this.checkpointNews = { atUs, kept: this.checkpointTimes };
    this.publish(true);
  }

  get now(): number {
    return this.conductor.freeRunning ? this.freeNowUs() : this.conductor.now;
  }

  /** Runs to virtual time `untilUs` as fast as the workers go (tests, benchmarks). */
  runUntil(untilUs: number): Promise<void> {
    return this.exclusive(async () => {
      while (this.conductor.now < untilUs) {
        await this.oneWindow(untilUs);
        this.publish(false);
      }
      this.publish(true);
    });
  }

  /** One window (the step button). */
  stepWindow(): Promise<void> {
    return this.exclusive(() => this.oneWindow(Infinity));
  }

  /**
   * Windows until the next log batch a primary sends is in the trace (the next-entry button: a
   * lecture follows the log one batch of entries at a time), or `withinUs` of virtual time has
   * gone by with none — a VM serving alone logs nothing. Answers whether one came.
   */
  async stepToEntry(withinUs = STEP_ENTRY_WITHIN_US): Promise<boolean> {
    let found = false;
    await this.exclusive(async () => {
      const seen = this.logBatchesSeen;
      const untilUs = this.conductor.now + withinUs;
      while (this.logBatchesSeen === seen && this.conductor.now < untilUs) await this.oneWindow(untilUs);
      found = this.logBatchesSeen > seen;
    });
    this.publish(true);
    return found;
  }

  /** Runs at `pace` until pause(). */
  play(): void {
    if (this.playing) return;
    this.playing = true;
    let lastWall = performance.now();
    let target = this.conductor.now;
    const tick = async (): Promise<void> => {
      if (!this.playing) return;
      const wall = performance.now();
      const step = (wall - lastWall) * 1000 * this.pace;
      lastWall = wall;
      // The pace may change while playing; a run that fell behind catches up by at most one step.
      target = this.pace === Infinity ? Infinity : Math.min(Math.max(target, this.conductor.now) + step, this.conductor.now + 2 * step);
      const sliceEnd = wall + 12;
      try {
        await this.exclusive(async () => {
          while (this.playing && this.conductor.now < target && performance.now() < sliceEnd) await this.oneWindow(target);
        });
      } catch {
        return; // said in `errors` (exclusive), and playing stopped
      }
      this.publish(false);
      // Behind: go on at once (a message, not a timeout: nested zero timeouts are clamped to 4 ms).
      if (this.conductor.now < target) this.soon(tick);
      else setTimeout(() => void tick(), 8);
    };
    void tick();
  }

  private readonly yieldChannel = new MessageChannel();

  private soon(f: () => Promise<void>): void {
    this.yieldChannel.port1.onmessage = () => void f();
    this.yieldChannel.port2.postMessage(null);
  }

  /** Stops playing; resolves once the window in progress has ended, with stats of where the run stopped. */
  pause(): Promise<void> {
    this.playing = false;
    return this.exclusive(async () => this.publish(true));
  }

  get isPlaying(): boolean {
    return this.playing;
  }

  /**
   * Free run from now on: every worker on the real clock at full speed, the way real hosts run —
   * everything else the same, but not reproducible. Virtual time goes on from where lockstep left it.
   */
  freeRun(): Promise<void> {
    this.playing = false;
    return this.exclusive(async () => {
      this.originMs = performance.timeOrigin + performance.now() - this.conductor.now / 1000;
      this.conductor.startFreeRun(this.originMs);
      this.freeTimer ??= setInterval(() => this.freeTick().catch(said), STATS_EVERY_MS);
    });
  }

  /** Free run, ~30 times a second: the conductor's clock follows the real one, due script steps apply, stats go out. */
  private freeTick(): Promise<void> {
    return this.exclusive(async () => {
      this.conductor.advanceTo(this.freeNowUs());
      await this.conductor.applyDueSteps();
      this.publish(true);
    });
  }

  private freeTimer: ReturnType<typeof setInterval> | null = null;

  private stopFreeTimer(): void {
    if (this.freeTimer !== null) clearInterval(this.freeTimer);
    this.freeTimer = null;
  }

  /** Free run: virtual µs now (the real clock since the origin). */
  private freeNowUs(): number {
    return (performance.timeOrigin + performance.now() - (this.originMs as number)) * 1000;
  }

  /** A fault or the user's action, applied at the next window boundary (free run: now). */
  act(action: FaultAction): Promise<void> {
    return this.atBoundary(() => this.conductor.act(action));
  }

  clientSend(client: number): Promise<void> {
    return this.act({ kind: 'send', client });
  }

  /** The run so far as a script: with the same seed and settings it replays exactly (lockstep). */
  script(): string {
    return this.conductor.runScript();
  }

  history(): Promise<HistoryEntry[]> {
    return this.nodes.history();
  }

  /**
   * The history a reader of generation `gen` holding `from` rows of each client lacks. A restore
   * starts a new generation (the run from there may differ from the one the reader read): a reader
   * of another gets the whole history, from row 0.
   */
  async historySince(gen: number, from: number[]): Promise<HistoryDelta & { gen: number }> {
    for (;;) {
      const g = this.historyGen;
      const nodes = this.nodes;
      const d = await nodes.historySince(gen === g ? from : []);
      // A restore while it was on its way: ask the new run's world.
      if (g === this.historyGen && nodes === this.nodes) return { gen: g, ...d };
    }
  }

  exportTrace(beforeUs = Infinity): string {
    return serializeTrace(this.conductor.trace.filter((e) => e.tUs < beforeUs));
  }

  dispose(): void {
    this.playing = false;
    this.stopFreeTimer();
    this.nodes.terminateAll();
    this.yieldChannel.port1.close();
    this.yieldChannel.port2.close();
  }

  private atBoundary(f: () => Promise<void>): Promise<void> {
    if (this.conductor.freeRunning) {
      return this.exclusive(async () => {
        this.conductor.advanceTo(this.freeNowUs());
        await f();
      });
    }
    return new Promise<void>((resolve, reject) => {
      this.queued.push(() => f().then(resolve, reject));
      if (!this.playing) this.exclusive(async () => this.drainQueued()).catch(said);
    });
  }

  private async drainQueued(): Promise<void> {
    while (this.queued.length > 0) await (this.queued.shift() as () => Promise<void>)();
  }

  private async oneWindow(limitUs: number): Promise<void> {
    await this.checkpointIfDue();
    await this.drainQueued();
    await this.conductor.step(limitUs);
  }

  /**
   * Runs `f` after whatever runs now: windows and actions never interleave. A failure is kept in
   * `errors` (the page says it) and rejects the returned promise.
   */
  private exclusive(f: () => Promise<void>): Promise<void> {
    const next = this.busy.then(f, f);
    this.busy = next.catch((err: unknown) => {
      this.errors.push(err instanceof Error ? err.message : String(err));
      this.playing = false;
    });
    return next;
  }

  private publish(force: boolean): void {
    const t = performance.now();
    if (!force && t - this.lastStatsMs < STATS_EVERY_MS) return;
    this.lastStatsMs = t;
    const events = this.fresh.splice(0);
    this.freshBulk = 0;
    const news: Partial<RuntimeStats> = {};
    if (this.rewoundUs !== null) news.rewoundUs = this.rewoundUs;
    if (this.checkpointNews !== null) news.checkpoint = this.checkpointNews;
    this.rewoundUs = null;
    this.checkpointNews = null;
    this.onStats?.({ nowUs: this.now, windows: this.conductor.windows, views: this.conductor.views(), events, errors: [...this.errors], playing: this.playing, ...news });
  }
}

/** The first checkpoint time after `tUs`: the next whole multiple of CHECKPOINT_EVERY_US. */
function nextCheckpointAfter(tUs: number): number {
  return (Math.floor(tUs / CHECKPOINT_EVERY_US) + 1) * CHECKPOINT_EVERY_US;
}
