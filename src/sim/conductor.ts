/**
 * The lockstep conductor (docs/design.md §1.5): runs a cluster whose nodes — each VM host, the
 * world — may live in other threads, by granting each a bound of virtual time to run to.
 * Conservative synchronization with lookahead: a node's bound is the earliest anything not yet
 * sent could reach it, so nothing it has not been given can arrive before it; script actions and
 * the user's actions apply when every node stands at one instant. Each node runs its own events in the
 * simulator's order and hands back keyed trace events; merged by key they are the simulator's
 * trace, so a run here equals `npm run sim` with the same seed, settings and script.
 *
 * The conductor holds what the simulator's Cluster holds outside the hosts and the world: the
 * wiring (which wire joins whom, which is cut), the script, the checkers, the report and the trace.
 * Nodes are reached through handles: `localNodes` here (tests, and the proof of equality), vm
 * workers and the world worker's own node in src/runtime.
 */
import { blankHostView, type HostView } from '../ft/host-types';
import type { ChannelName } from '../ft/channels';
import { resolveFtSettings, type FtSettings } from '../ft/settings';
import { SIM_LINK_DEFAULTS, type SimLinkSettings } from './link';
import type { TraceEvent } from './trace';
import { standardCheckers, type Checker, type Violation } from './checkers';
import { describeAction, type FaultAction, type ScriptStep, type VmRef } from './script';
import { CLUSTER_DEFAULTS, type ClusterConfig, type HostSpec } from './cluster-config';
import { RunReport, healthyPair, serverOf, takeSample } from './report';
import { RANK_SAMPLE, RANK_SCRIPT, compareKeys, type EventKey, type NodeState, type KeyedEvent, type WindowReport, type WireEnd } from './node';
import type { ClusterSnapshot, HostHandle, NodeFactory, NodeHandle, WorldAction, WorldHandle } from './conductor-types';


export type { ClusterSnapshot, HostHandle, NodeFactory, NodeHandle, WorldAction, WorldHandle } from './conductor-types';

interface Wire {
  index: number;
  name: string;
  ends: [string, string];
  channel: ChannelName;
  settings: SimLinkSettings;
  cut: boolean;
}

interface HostEntry {
  spec: HostSpec;
  handle: HostHandle;
  view: HostView;
  nextUs: number | null;
  sent: Record<number, number>;
  /** The node has run every event before this. */
  done: number;
}

/** No node runs more than this ahead of the slowest, even when nothing could reach it sooner (keeps actions and pace fine-grained). */
export const WINDOW_MAX_US = 20_000;

export class Conductor {
  readonly cfg: ClusterConfig;
  readonly ft: FtSettings;
  readonly trace: TraceEvent[] = [];
  readonly listeners: ((e: TraceEvent) => void)[] = [];
  readonly checkers: Checker[];
  readonly report: RunReport;
  private readonly hosts: HostEntry[] = [];
  private readonly wires: Wire[] = [];
  private readonly world: WorldHandle;
  private worldNext: number | null = null;
  private worldDone = 0;
  /** Events and sample views of nodes that ran ahead of the slowest: released when it catches up. */
  private pending: KeyedEvent[] = [];
  private readonly pendingViews = new Map<number, Map<string, HostView>>();
  private worldSent: Record<number, number> = {};
  private readonly script: ScriptStep[];
  private scriptIndex = 0;
  private actionNo = 0;
  private nowUs = 0;
  private started = false;
  private nextSampleUs = 0;
  private worldCuts = new Set<string>();
  /** Free run: the wall time (ms) all nodes count from; null in lockstep. */
  private freeOriginMs: number | null = null;
  /** Rounds run so far (each node that had something to do ran once in a round). */
  windows = 0;
  private readonly userSteps: ScriptStep[] = [];
  /** A fork's user actions still to apply again, at their times (Conductor.restore). */
  private readonly replay: ScriptStep[] = [];

  /**
   * A new cluster: the world, A and B and the logging channel between them. With `from`, the
   * skeleton of a snapshot's cluster instead — its hosts and wires in their order — whose state
   * `Conductor.restore` then puts back.
   */
  constructor(config: Partial<ClusterConfig> & Pick<ClusterConfig, 'seed' | 'makeMachine'>, private readonly nodes: NodeFactory, from?: ClusterSnapshot) {
    const cfg: ClusterConfig = { ...CLUSTER_DEFAULTS, ...config };
    this.cfg = cfg;
    this.ft = resolveFtSettings({ speedIps: cfg.primarySpeedIps, ...cfg.ft });
    this.script = [...cfg.script];
    this.world = nodes.world();
    if (from) {
      for (const h of from.hosts) this.hosts.push({ spec: h.spec, handle: nodes.host(h.spec), view: h.view, nextUs: h.nextUs, sent: h.sent, done: from.nowUs });
      for (const w of from.wires) this.wire(w.name, w.ends, w.channel, w.settings);
    } else {
      this.addVm('A', 'primary', 'B', cfg.primarySpeedIps, false);
      this.addVm('B', 'backup', 'A', cfg.backupSpeedIps, false);
      this.wire('log A↔B', ['A', 'B'], 'log', cfg.loggingLink);
    }
    this.checkers = standardCheckers({ holdDiskReads: this.ft.holdDiskReads });
    this.report = new RunReport(cfg.livenessLimitUs, cfg.sampleEveryUs);
  }

  /**
   * The whole cluster at this window boundary (docs/design.md §1.5): every node's state — hosts,
   * the world, the packets in their inboxes, their links' streams — and the conductor's own.
   */
  async snapshot(): Promise<ClusterSnapshot> {
    await this.align();
    const live = this.hosts.filter((h) => h.view.role !== 'crashed');
    const [world, ...hosts] = await Promise.all([this.world.snapshot(), ...live.map((h) => h.handle.snapshot())]);
    const nodes: Record<string, NodeState> = { world };
    live.forEach((h, i) => (nodes[h.spec.name] = hosts[i]));
    return structuredClone({
      nowUs: this.nowUs, nextSampleUs: this.nextSampleUs, scriptIndex: this.scriptIndex, actionNo: this.actionNo, started: this.started,
      windows: this.windows, worldNext: this.worldNext, worldSent: this.worldSent, worldCuts: [...this.worldCuts], userSteps: this.userSteps,
      wires: this.wires.map((w) => ({ name: w.name, ends: w.ends, channel: w.channel, settings: w.settings, cut: w.cut })),
      hosts: this.hosts.map((h) => ({ spec: h.spec, view: h.view, nextUs: h.nextUs, sent: h.sent })),
      traceLength: this.trace.length, nodes,
    });
  }

  /**
   * A cluster back at a snapshot, on fresh nodes (`nodes`, e.g. new workers): the run goes on from
   * there exactly as it did the first time. `trace` is the old run's trace; its first
   * `snap.traceLength` events are kept and fed again to fresh checkers and report.
   *
   * With `fork`, the run goes back to a moment `beforeUs` at or after the snapshot, from which the
   * lecturer forks it: the user's actions the old run took between the snapshot and that moment
   * (`fork.userSteps`, all of them) are applied again at their times, as script steps are, and
   * nothing scripted or done at or after the moment is. Its script is then the old one cut there.
   */
  static async restore(config: ClusterConfig, nodes: NodeFactory, snap: ClusterSnapshot, trace: readonly TraceEvent[], fork?: { beforeUs: number; userSteps: readonly ScriptStep[] }): Promise<Conductor> {
    const before = (st: ScriptStep): boolean => fork === undefined || st.atUs < fork.beforeUs;
    const script = [...config.script.slice(0, snap.scriptIndex), ...config.script.slice(snap.scriptIndex).filter(before)];
    const c = new Conductor({ ...config, script }, nodes, snap);
    if (fork) c.replay.push(...fork.userSteps.slice(snap.userSteps.length).filter(before));
    await Promise.all([c.world.restore(snap.nodes.world), ...c.hosts.filter((h) => snap.nodes[h.spec.name]).map((h) => h.handle.restore(snap.nodes[h.spec.name]))]);
    for (const h of c.hosts) if (h.view.role === 'crashed') await h.handle.kill();
    for (const w of c.wires) w.cut = snap.wires[w.index].cut;
    Object.assign(c, {
      nowUs: snap.nowUs, nextSampleUs: snap.nextSampleUs, scriptIndex: snap.scriptIndex, actionNo: snap.actionNo, started: snap.started,
      windows: snap.windows, worldNext: snap.worldNext, worldSent: snap.worldSent, worldCuts: new Set(snap.worldCuts), worldDone: snap.nowUs,
    });
    c.userSteps.push(...snap.userSteps);
    for (const e of trace.slice(0, snap.traceLength)) c.record(e);
    return c;
  }

  /** The user's actions so far, in the order they were taken (a fork replays those before its moment). */
  get actions(): readonly ScriptStep[] {
    return this.userSteps;
  }

  get now(): number {
    return this.nowUs;
  }

  get roles(): Record<string, string> {
    return Object.fromEntries(this.hosts.map((h) => [h.spec.name, h.view.role]));
  }

  views(): HostView[] {
    return this.hosts.map((h) => h.view);
  }

  private addVm(name: string, role: 'primary' | 'backup', peer: string, speedIps: number, awaitSnapshot: boolean): HostEntry {
    const spec: HostSpec = { name, index: this.hosts.length, role, peer, awaitSnapshot, startUs: this.nowUs, speedIps };
    const handle = this.nodes.host(spec);
    const view = blankHostView({ name, role, state: role === 'primary' ? 'running' : 'waiting', peer, backupReady: role === 'backup' && !awaitSnapshot });
    const h: HostEntry = { spec, handle, view, nextUs: this.nowUs, sent: {}, done: this.nowUs };
    this.hosts.push(h);
    this.wire(`net ${name}↔world`, [name, 'world'], 'net', this.cfg.netLink);
    this.wire(`disk ${name}↔world`, [name, 'world'], 'disk', this.cfg.diskLink);
    return h;
  }

  private wire(name: string, ends: [string, string], channel: ChannelName, s: Partial<SimLinkSettings>): void {
    const w: Wire = { index: this.wires.length, name, ends, channel, settings: { ...SIM_LINK_DEFAULTS, ...s }, cut: false };
    this.wires.push(w);
    for (const [dir, self] of ends.entries()) {
      const end: WireEnd = { wire: w.index, name, channel, self, peer: ends[1 - dir], dir: dir as 0 | 1, settings: w.settings };
      this.handleOf(self).addEnd(end);
    }
  }

  private handleOf(node: string): NodeHandle {
    if (node === 'world') return this.world;
    const h = this.hosts.find((x) => x.spec.name === node);
    if (!h) throw new Error(`no node ${node}`);
    return h.handle;
  }

  private record(e: TraceEvent): void {
    if (this.cfg.keepTrace) this.trace.push(e);
    for (const c of this.checkers) c.event(e);
    this.report.event(e);
    for (const l of this.listeners) l(e);
  }

  /**
   * Free run (docs/design.md §1.5): every node on the real clock from now on, no windows; `nowUs`
   * is the time already run. The runtime feeds what they report to `ingest` and moves the
   * conductor's clock (`advanceTo`) before each action. Not reproducible — real hosts are not.
   */
  startFreeRun(originMs: number): void {
    this.freeOriginMs = originMs;
    this.world.freeRun?.(originMs);
    for (const h of this.hosts) if (h.view.role !== 'crashed') h.handle.freeRun?.(originMs);
  }

  get freeRunning(): boolean {
    return this.freeOriginMs !== null;
  }

  advanceTo(nowUs: number): void {
    this.nowUs = Math.max(this.nowUs, nowUs);
  }

  /** Free run: a node's events and view, as it reported them. */
  ingest(node: string, trace: KeyedEvent[], view: HostView | null): void {
    for (const { e } of trace) this.record(e);
    const h = this.hosts.find((x) => x.spec.name === node);
    if (h && view && h.view.role !== 'crashed') h.view = view;
  }

  /**
   * The script's steps due by now, in order (free run calls it as its clock moves on), and a fork's
   * user actions due by now; at one instant the script's first, as the run's script lists them.
   */
  async applyDueSteps(): Promise<void> {
    for (;;) {
      const step = this.scriptIndex < this.script.length ? this.script[this.scriptIndex] : null;
      const again = this.replay.length > 0 ? this.replay[0] : null;
      if (step && step.atUs <= this.nowUs && !(again && again.atUs < step.atUs)) {
        this.scriptIndex++;
        await this.applyStep(step);
      } else if (again && again.atUs <= this.nowUs) {
        this.replay.shift();
        this.userSteps.push(again);
        await this.applyStep(again);
      } else return;
    }
  }

  /** When the next script step or fork action is due (null: none). */
  private nextStepUs(): number | null {
    const t = Math.min(this.scriptIndex < this.script.length ? this.script[this.scriptIndex].atUs : Infinity, this.replay[0]?.atUs ?? Infinity);
    return t === Infinity ? null : t;
  }

  /** Runs until virtual time `untilUs`: every event before it (the simulator's `run` also takes those at it). */
  async run(untilUs: number): Promise<void> {
    while (this.nowUs < untilUs) await this.step(untilUs);
  }

  /** Applies the actions due now, then runs one round (no node past `limitUs`). */
  async step(limitUs = Infinity): Promise<void> {
    if (!this.started) {
      // Client load starts with the run, as the simulator's first run() starts it.
      this.started = true;
      if (this.cfg.workload && this.cfg.clients > 0 && this.cfg.load) await this.worldAct({ kind: 'load', on: true });
    }
    await this.applyDueSteps();
    await this.round(limitUs);
  }

  /**
   * How far each node may run (conservative synchronization with lookahead): to the earliest time
   * anything not yet sent could reach it — for every other node Q, Q's next event plus the shortest
   * path of link delays from Q to it. Its own sends coming back are its own to watch: it gets the
   * way back from each other node (`returns`) and its window stops where what it sent could return
   * (`ClusterNode.runWindow`), so a node that sends nothing runs on. Never past the limit, the next
   * script step, or WINDOW_MAX_US ahead of the slowest node.
   */
  private bounds(limitUs: number): { bounds: Map<string, number>; returns: Map<string, Record<string, number>> } {
    const returns = new Map<string, Record<string, number>>();
    let cap = Math.min(limitUs, this.nowUs + WINDOW_MAX_US);
    const stepUs = this.nextStepUs();
    if (stepUs !== null) cap = Math.min(cap, Math.max(stepUs, this.nowUs));
    const names = ['world', ...this.hosts.filter((h) => h.view.role !== 'crashed').map((h) => h.spec.name)];
    const n = names.length;
    const d: number[][] = names.map(() => names.map(() => Infinity));
    for (const w of this.wires) {
      const a = names.indexOf(w.ends[0]);
      const b = names.indexOf(w.ends[1]);
      if (a < 0 || b < 0) continue;
      d[a][b] = Math.min(d[a][b], w.settings.delayUs);
      d[b][a] = Math.min(d[b][a], w.settings.delayUs);
    }
    // Shortest paths of one hop or more (Floyd–Warshall on a handful of nodes).
    for (let k = 0; k < n; k++) for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) d[i][j] = Math.min(d[i][j], d[i][k] + d[k][j]);
    const next = names.map((x) => (x === 'world' ? this.worldNext : this.hosts.find((h) => h.spec.name === x)?.nextUs ?? null) ?? Infinity);
    const out = new Map<string, number>();
    names.forEach((x, j) => {
      let b = cap;
      const back: Record<string, number> = {};
      for (let i = 0; i < n; i++) {
        if (i === j) continue;
        back[names[i]] = d[i][j];
        b = Math.min(b, Math.max(next[i], this.doneOf(names[i])) + d[i][j]);
      }
      returns.set(x, back);
      // Progress: a link delay of zero would make lockstep impossible; never stand still.
      out.set(x, Math.max(b, Math.min(cap, this.doneOf(x) + 1)));
    });
    return { bounds: out, returns };
  }

  /**
   * Brings every node to one instant — the furthest any has run, rounded up to a whole microsecond
   * with `whole` — so an action or a snapshot sees the whole cluster at one boundary.
   */
  async align(whole = false): Promise<void> {
    let t = this.worldDone;
    for (const h of this.hosts) if (h.view.role !== 'crashed') t = Math.max(t, h.done);
    t = Math.max(t, this.nowUs);
    if (whole) t = Math.ceil(t);
    if (t > this.nowUs) await this.run(t);
  }

  private doneOf(node: string): number {
    return node === 'world' ? this.worldDone : this.hosts.find((h) => h.spec.name === node)?.done ?? this.nowUs;
  }

  /** One round: every node with something to do before its bound runs to it; then what all have passed is released. */
  private async round(limitUs: number): Promise<void> {
    const { bounds, returns } = this.bounds(limitUs);
    const back = (node: string): Record<string, number> => returns.get(node) as Record<string, number>;
    const busy = (next: number | null, bound: number): boolean => next !== null && next < bound;
    const liveAll = this.hosts.filter((h) => h.view.role !== 'crashed');
    const live = liveAll.filter((h) => (bounds.get(h.spec.name) as number) > h.done && busy(h.nextUs, bounds.get(h.spec.name) as number));
    const wb = bounds.get('world') as number;
    const worldRuns = wb > this.worldDone && busy(this.worldNext, wb);
    const idle: WindowReport = { trace: [], views: [], sent: this.worldSent, nextUs: this.worldNext, view: null, earliestTo: {} };
    const [worldReport, ...results] = await Promise.all([
      worldRuns ? this.world.runWindow(wb, this.expectFor('world'), back('world')) : Promise.resolve(idle),
      ...live.map((h) => h.handle.runWindow(bounds.get(h.spec.name) as number, this.expectFor(h.spec.name), back(h.spec.name)).catch((err: unknown) => err instanceof Error ? err : new Error(String(err)))),
    ]);
    // A host whose worker failed is a crashed host, with its error said; the others go on.
    const hostReports: WindowReport[] = results.map((r, i) => {
      if (!(r instanceof Error)) return r;
      const h = live[i];
      h.view = { ...h.view, role: 'crashed', state: 'stopped' };
      this.pending.push({ key: [h.done, RANK_SCRIPT], e: { tUs: h.done, vm: h.spec.name, ev: 'guest-stopped', reason: 'worker-failed', detail: r.message } });
      this.pending.push({ key: [h.done, RANK_SCRIPT], e: { tUs: h.done, vm: h.spec.name, ev: 'crashed' } });
      return { trace: [], views: [], sent: h.sent, nextUs: null, view: h.view, earliestTo: {} };
    });
    this.windows++;
    // A node's next event: its own (for one that did not run, what it was), or the earliest packet sent to it now.
    const reports = [worldReport, ...hostReports];
    const nextOf = (node: string, own: number | null): number | null => {
      let t = own ?? Infinity;
      for (const r of reports) t = Math.min(t, r.earliestTo[node] ?? Infinity);
      return t === Infinity ? null : t;
    };
    this.worldNext = nextOf('world', worldReport.nextUs);
    this.worldSent = worldReport.sent;
    this.pending.push(...worldReport.trace);
    this.worldDone = Math.max(this.worldDone, worldRuns ? worldReport.doneUs ?? wb : wb);
    for (const h of liveAll) {
      const i = live.indexOf(h);
      const bound = bounds.get(h.spec.name) as number;
      if (i >= 0) {
        const r = hostReports[i];
        h.sent = r.sent;
        this.pending.push(...r.trace);
        for (const v of r.views) this.viewAt(v.tUs).set(h.spec.name, v.view);
        if (r.view) h.view = r.view;
      } else if (bound > h.done) {
        // Nothing happened in it before its bound: its view holds at every sample time it passed.
        for (let t = this.sampleAtOrAfter(h.done); t < bound; t += this.cfg.sampleEveryUs) this.viewAt(t).set(h.spec.name, h.view);
      }
      if (h.view.role !== 'crashed') h.done = Math.max(h.done, i >= 0 ? hostReports[i].doneUs ?? bound : bound);
      h.nextUs = h.view.role === 'crashed' ? null : nextOf(h.spec.name, i >= 0 ? hostReports[i].nextUs : h.nextUs);
    }
    this.release();
  }

  private viewAt(t: number): Map<string, HostView> {
    let m = this.pendingViews.get(t);
    if (!m) this.pendingViews.set(t, (m = new Map()));
    return m;
  }

  private sampleAtOrAfter(t: number): number {
    return Math.ceil(t / this.cfg.sampleEveryUs) * this.cfg.sampleEveryUs;
  }

  /**
   * Everything before the slowest node's progress is final: recorded in the simulator's order, the
   * samples among it (the simulator takes one every sampleEveryUs, after every other event at its
   * instant).
   */
  private release(): void {
    let mark = this.worldDone;
    for (const h of this.hosts) if (h.view.role !== 'crashed') mark = Math.min(mark, h.done);
    if (mark <= this.nowUs) return;
    const ready = this.pending.filter((k) => k.key[0] < mark);
    this.pending = this.pending.filter((k) => k.key[0] >= mark);
    const samples: KeyedEvent[] = [];
    const sampleViews = new Map<number, HostView[]>();
    while (this.nextSampleUs < mark) {
      const t = this.nextSampleUs;
      const at = this.pendingViews.get(t);
      this.pendingViews.delete(t);
      sampleViews.set(t, this.hosts.map((h) => at?.get(h.spec.name) ?? h.view));
      samples.push({ key: [t, RANK_SAMPLE], e: { tUs: t, vm: 'sim', ev: 'sample', icounts: [], lagUs: 0, share: 1 } });
      this.nextSampleUs = t + this.cfg.sampleEveryUs;
    }
    for (const { key, e } of mergeKeyed([ready, samples])) {
      const views = key[1] === RANK_SAMPLE && key.length === 2 ? sampleViews.get(e.tUs) : undefined;
      if (!views) {
        this.record(e);
        continue;
      }
      const cut = this.wires.some((w) => w.cut) || this.worldCuts.size > 0;
      for (const x of takeSample(this.report, views, this.cfg.backupSpeedIps, cut, e.tUs)) this.record(x);
    }
    this.nowUs = mark;
  }

  /** How many packets `node`'s peers have sent it, by wire: what it must hold before it runs on. */
  private expectFor(node: string): Record<number, number> {
    const ex: Record<number, number> = {};
    for (const w of this.wires) {
      const i = w.ends.indexOf(node);
      if (i < 0) continue;
      const peer = w.ends[1 - i];
      const sent = peer === 'world' ? this.worldSent : this.hosts.find((h) => h.spec.name === peer)?.sent;
      ex[w.index] = sent?.[w.index] ?? 0;
    }
    return ex;
  }

  // ── actions at boundaries ─────────────────────────────────────────────────────────────────────

  /**
   * The key of an action at this boundary. An action may send (a client's request, a snapshot) and
   * change what nodes do next, so every node runs the next round and says again when it is next busy.
   */
  private nextKey(): EventKey {
    this.worldNext = this.nowUs;
    for (const h of this.hosts) if (h.view.role !== 'crashed') h.nextUs = this.nowUs;
    return [this.nowUs, RANK_SCRIPT, this.actionNo++];
  }

  private async worldAct(a: WorldAction): Promise<number | undefined> {
    const key = this.nextKey();
    const r = await this.world.act(a, key);
    this.worldSent = r.sent; // what the action sent: its receivers wait for it before they run on
    for (const { e } of r.trace) this.record(e);
    return r.epoch;
  }

  /**
   * A script step, as the simulator applies it: a kill or a logging partition of a healthy pair
   * starts the failover bound's clock (report.ts).
   */
  private async applyStep(step: ScriptStep): Promise<void> {
    const healthy = healthyPair(this.views(), this.wires.some((w) => w.cut) || this.worldCuts.size > 0);
    await this.apply(step.action, step.text);
    this.report.failureApplied(step, healthy, this.nowUs, this.ft, this.cfg.diskLink);
  }

  /**
   * A user's action now, recorded: `script()` gives the run as a script the simulator (or a page
   * load) replays exactly. Lockstep applies it at a whole microsecond, the unit scripts are written in.
   */
  async act(action: FaultAction): Promise<void> {
    if (!this.freeRunning) await this.align(true);
    // The trace names it as the replayed script will: "send client 2 at 123457us".
    const step = { atUs: this.nowUs, action, text: `${describeAction(action)} at ${this.nowUs}us` };
    this.userSteps.push(step);
    await this.applyStep(step);
  }

  /** The run's script so far: the configured steps and the user's actions, in order. */
  runScript(): string {
    const steps = [...this.cfg.script, ...this.userSteps].sort((a, b) => a.atUs - b.atUs);
    return steps.map((s) => `${describeAction(s.action)} at ${s.atUs}us`).join('; ');
  }

  /** Applies a fault or a user's action now (at the current boundary). */
  async apply(action: FaultAction, text = describeAction(action)): Promise<void> {
    const key = this.nextKey();
    this.record({ tUs: this.nowUs, vm: 'sim', ev: 'fault', action: text });
    switch (action.kind) {
      case 'kill': {
        const h = this.resolve(action.vm);
        if (!h || h.view.role === 'crashed') return;
        h.view = await h.handle.kill();
        h.nextUs = null;
        this.record({ tUs: this.nowUs, vm: h.spec.name, ev: 'crashed' });
        return;
      }
      case 'vmotion':
        return this.vmotion(key);
      case 'partition':
        for (const w of this.wires) if (w.channel === 'log') await this.setCut(w, true, key);
        await this.worldAct({ kind: 'partition', spec: { kind: 'logging' } });
        return;
      case 'cut': {
        const h = this.resolve(action.vm);
        if (!h) return;
        const spec = action.from === 'disk' ? { kind: 'vm-disk' as const, vm: h.spec.name } : { kind: 'vm-clients' as const, vm: h.spec.name };
        this.worldCuts.add(`${spec.kind} ${spec.vm}`);
        await this.worldAct({ kind: 'partition', spec });
        return;
      }
      case 'heal':
        for (const w of this.wires) if (w.cut) await this.setCut(w, false, key);
        this.worldCuts.clear();
        await this.worldAct({ kind: 'heal' });
        return;
      case 'send':
        await this.worldAct({ kind: 'send-one', client: action.client });
        return;
      case 'load':
        await this.worldAct({ kind: 'load', on: action.on });
        return;
      case 'flip': {
        const h = this.resolve(action.vm);
        if (h && h.view.role !== 'crashed') await h.handle.flipRamBit(action.addr);
        return;
      }
    }
  }

  /** A client sends one request now (the UI's button). */
  async clientSend(id: number): Promise<void> {
    await this.worldAct({ kind: 'send-one', client: id });
  }

  private async setCut(w: Wire, cut: boolean, key: EventKey): Promise<void> {
    w.cut = cut;
    const lost: KeyedEvent[][] = [];
    for (const end of w.ends) {
      const h = this.hosts.find((x) => x.spec.name === end);
      // Everything sent before the cut is in flight and lost with it: the end first takes it all in.
      if (end === 'world' || (h && h.view.role !== 'crashed')) lost.push(await this.handleOf(end).setCut(w.index, cut, key, this.expectFor(end)));
    }
    for (const { e } of mergeKeyed(lost)) this.record(e);
  }

  private resolve(ref: VmRef): HostEntry | null {
    if (ref === 'primary') return serverOf(this.hosts.map((h) => ({ role: h.view.role, h })))?.h ?? null;
    if (ref === 'backup') return this.hosts.find((h) => h.view.role === 'backup') ?? null;
    return this.hosts.find((h) => h.spec.name === ref) ?? null;
  }

  private async vmotion(key: EventKey): Promise<void> {
    const server = this.hosts.find((h) => h.view.role === 'live');
    if (!server) return this.record({ tUs: this.nowUs, vm: 'sim', ev: 'fault', action: 'vmotion skipped: no VM serves alone' });
    const name = String.fromCharCode(65 + this.hosts.length);
    await this.worldAct({ kind: 'add-vm', vm: name });
    const c = this.addVm(name, 'backup', server.spec.name, this.cfg.backupSpeedIps, true);
    this.wire(`log ${server.spec.name}↔${name}`, [server.spec.name, name], 'log', this.cfg.loggingLink);
    if (this.freeOriginMs !== null) c.handle.freeRun?.(this.freeOriginMs);
    const epoch = (await this.worldAct({ kind: 'reset-flag' })) as number;
    const r = await server.handle.startVMotion(name, epoch, [...key, 1]);
    server.sent = r.sent;
    for (const { e } of r.trace) this.record(e);
  }

  violations(): Violation[] {
    return [...this.checkers.flatMap((c) => c.finish()), ...this.report.liveness];
  }
}

/** Merges lists each in key order (ties keep list order, then position) into one. */
export function mergeKeyed(lists: KeyedEvent[][]): KeyedEvent[] {
  const all: { k: KeyedEvent; list: number; pos: number }[] = [];
  lists.forEach((l, list) => l.forEach((k, pos) => all.push({ k, list, pos })));
  all.sort((a, b) => compareKeys(a.k.key, b.k.key) || a.list - b.list || a.pos - b.pos);
  return all.map((x) => x.k);
}
