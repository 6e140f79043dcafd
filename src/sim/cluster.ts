/**
 * A simulated FT cluster: the World (clients, network, disk server) and the VM hosts (src/ft/host.ts)
 * wired by SimLinks, run in virtual time from one seed. The cluster decides nothing about when a VM
 * runs — each host says when it wants to be stepped — it only wires hosts and links, applies faults
 * (kill, partitions, FT VMotion), feeds the checkers and the report.
 *
 * One run is a sequence of events in a total order that does not depend on how it was computed:
 * (time, rank, index) — script actions, then link deliveries (by link, then message id), then the
 * world's tick, then host steps (by name), then samples. The browser's lockstep conductor orders
 * simultaneous events by the same rule, so the same seed, settings and script give the same run.
 */
import { VmHost, outbound, type HostResult } from '../ft/host';
import type { FtEffect, Role } from '../ft/effects';
import { resolveFtSettings, type FtSettings } from '../ft/settings';
import type { ChannelName } from '../ft/channels';
import { World, type WorldEffect } from '../world/world';
import { validateDiskMessage } from '../world/disk-messages';
import { Prng } from './prng';
import { SimLink, type SimLinkSettings } from './link';
import { traceOf, worldTraceEvent, type TraceEvent } from './trace';
import { CHECKED_EVENTS, standardCheckers, type Checker, type Violation } from './checkers';
import { describeAction, type ScriptStep, type FaultAction, type VmRef } from './script';
import { CLUSTER_DEFAULTS, buildHost, buildWorld, type ClusterConfig } from './cluster-config';
import { RunReport, healthyPair, summarize, takeSample, type ClusterSummary } from './report';

export type { ClusterSummary } from './report';
export { CLUSTER_DEFAULTS, type ClusterConfig } from './cluster-config';

type Channel = ChannelName;

interface Wire {
  link: SimLink<unknown>;
  channel: Channel;
}

const RANK_SCRIPT = 0;
const RANK_LINK = 1;
const RANK_WORLD = 2;
const RANK_HOST = 3;
const RANK_SAMPLE = 4;
/** Events at one instant beyond this mean something keeps asking for "now" without progress: a bug. */
const STUCK_EVENTS_MAX = 1_000_000;

export class Cluster {
  readonly cfg: ClusterConfig;
  readonly ft: FtSettings;
  readonly world: World;
  readonly hosts: VmHost[] = [];
  readonly trace: TraceEvent[] = [];
  /** Extra listeners: the `sim` command prints the timeline as it goes. */
  readonly listeners: ((e: TraceEvent) => void)[] = [];
  readonly checkers: Checker[];
  readonly report: RunReport;
  private readonly wires: Wire[] = [];
  private readonly ends = new Map<string, Partial<Record<Channel, SimLink<unknown>>>>();
  private readonly wakeUs: (number | null)[] = [];
  private readonly rng: Prng;
  private readonly script: ScriptStep[];
  private nowUs = 0;
  private worldWakeUs: number | null = null;
  private nextSampleUs = 0;
  private scriptIndex = 0;
  private started = false;
  eventsRun = 0;
  private stuck = 0;
  private verdict: Violation[] | null = null;

  constructor(config: Partial<ClusterConfig> & Pick<ClusterConfig, 'seed' | 'makeMachine'>) {
    const cfg: ClusterConfig = { ...CLUSTER_DEFAULTS, ...config };
    this.cfg = cfg;
    this.script = [...cfg.script];
    this.ft = resolveFtSettings({ speedIps: cfg.primarySpeedIps, ...cfg.ft });
    this.rng = new Prng(cfg.seed);
    this.world = buildWorld(cfg, []);
    this.addVm('A', 'primary', 'B', cfg.primarySpeedIps);
    this.addVm('B', 'backup', 'A', cfg.backupSpeedIps);
    this.world.setServing('A');
    this.wire('log A↔B', ['A', 'B'], 'log', cfg.loggingLink);
    this.checkers = standardCheckers({ holdDiskReads: this.ft.holdDiskReads });
    this.report = new RunReport(cfg.livenessLimitUs, cfg.sampleEveryUs);
  }

  /** A new VM host with its network and disk links; `awaitSnapshot` for one FT VMotion starts. */
  private addVm(name: string, role: 'primary' | 'backup', peer: string, speedIps: number, awaitSnapshot = false): VmHost {
    const host = buildHost(this.cfg, this.ft, { name, index: this.hosts.length, role, peer, awaitSnapshot, startUs: this.nowUs, speedIps });
    this.hosts.push(host);
    this.wakeUs.push(this.nowUs);
    this.world.addVm(name);
    this.wire(`net ${name}↔world`, [name, 'world'], 'net', this.cfg.netLink);
    this.wire(`disk ${name}↔world`, [name, 'world'], 'disk', this.cfg.diskLink);
    return host;
  }

  private wire(name: string, ends: [string, string], channel: Channel, s: Partial<SimLinkSettings>): void {
    const link = new SimLink<unknown>(name, ends, this.rng, s);
    link.onLoss = (m, reason) => this.record({ tUs: this.nowUs, vm: 'sim', ev: 'msg-lost', link: name, from: m.from, to: m.to, reason });
    this.wires.push({ link, channel });
    for (const end of ends) {
      if (end === 'world') continue;
      const mine = this.ends.get(end) ?? {};
      mine[channel] = link;
      this.ends.set(end, mine);
    }
  }

  get now(): number {
    return this.nowUs;
  }

  host(name: string): VmHost {
    const h = this.hosts.find((x) => x.name === name);
    if (!h) throw new Error(`no VM ${name}`);
    return h;
  }

  /** The link carrying `channel` for VM `vm` (for 'log', its current logging channel). */
  link(vm: string, channel: Channel): SimLink<unknown> {
    const l = this.ends.get(vm)?.[channel];
    if (!l) throw new Error(`VM ${vm} has no ${channel} link`);
    return l;
  }

  get roles(): Record<string, Role> {
    return Object.fromEntries(this.hosts.map((h) => [h.name, h.role]));
  }

  /** The VM the service runs on now: the primary, or the one serving alone. */
  server(): VmHost | null {
    return this.hosts.find((h) => h.role === 'live') ?? this.hosts.find((h) => h.role === 'primary') ?? null;
  }

  private record(e: TraceEvent): void {
    if (this.cfg.keepTrace) this.trace.push(e);
    for (const c of this.checkers) c.event(e);
    this.report.event(e);
    for (const l of this.listeners) l(e);
  }

  // ── running ─────────────────────────────────────────────────────────────────────────────────

  /** Starts client load on the first call, then runs until virtual time `untilUs`. */
  run(untilUs: number): void {
    if (!this.started) {
      this.started = true;
      if (this.cfg.workload && this.cfg.clients > 0 && this.cfg.load) {
        this.world.setLoad(true, 0);
        this.worldWakeUs = wakeAtOrAfter(this.world.nextDeadlineUs(), this.nowUs);
      }
    }
    this.runUntil(untilUs);
  }

  /** Client `id` sends one request now (the UI's send button); nothing if it is still waiting. */
  clientSend(id: number): void {
    this.worldEffects(this.world.sendOne(id, this.nowUs));
  }

  /** Steady client load on or off now (the UI's load switch). */
  setLoad(on: boolean): void {
    this.world.setLoad(on, this.nowUs);
    this.worldWakeUs = wakeAtOrAfter(this.world.nextDeadlineUs(), this.nowUs);
  }

  /** Applies `action` at virtual time `atUs` (a test's fault, in the script's order). */
  at(atUs: number, action: FaultAction, text = describeAction(action)): void {
    if (atUs < this.nowUs) throw new Error(`fault at ${atUs} µs is in the past (now ${this.nowUs} µs)`);
    let i = this.script.length;
    while (i > this.scriptIndex && this.script[i - 1].atUs > atUs) i--;
    this.script.splice(i, 0, { atUs, action, text });
  }

  private runUntil(untilUs: number, stop: () => boolean = () => false): void {
    for (;;) {
      // The next event in (time, rank, index) order. Written out, not with a helper closure: this
      // loop runs once per event.
      let bestUs = Infinity;
      let rank = 9;
      let index = 0;
      if (this.scriptIndex < this.script.length) {
        bestUs = this.script[this.scriptIndex].atUs;
        rank = RANK_SCRIPT;
      }
      for (let i = 0; i < this.wires.length; i++) {
        const t = this.wires[i].link.nextDeliveryUs();
        if (t !== null && (t < bestUs || (t === bestUs && RANK_LINK < rank))) {
          bestUs = t;
          rank = RANK_LINK;
          index = i;
        }
      }
      const w = this.worldWakeUs;
      if (w !== null && (w < bestUs || (w === bestUs && RANK_WORLD < rank))) {
        bestUs = w;
        rank = RANK_WORLD;
        index = 0;
      }
      for (let i = 0; i < this.wakeUs.length; i++) {
        const t = this.wakeUs[i];
        if (t !== null && (t < bestUs || (t === bestUs && RANK_HOST < rank))) {
          bestUs = t;
          rank = RANK_HOST;
          index = i;
        }
      }
      if (this.nextSampleUs < bestUs) {
        bestUs = this.nextSampleUs;
        rank = RANK_SAMPLE;
        index = 0;
      }
      if (bestUs > untilUs) break;
      this.stuck = bestUs > this.nowUs ? 0 : this.stuck + 1;
      if (this.stuck > STUCK_EVENTS_MAX) throw new Error(`simulator stuck at ${this.nowUs} µs: event rank ${rank} index ${index} keeps falling due without time moving (seed ${this.cfg.seed})`);
      this.nowUs = Math.max(this.nowUs, bestUs);
      this.eventsRun++;
      this.runEvent(rank, index);
      if (stop()) return;
    }
    this.nowUs = Math.max(this.nowUs, untilUs);
  }

  private runEvent(rank: number, index: number): void {
    switch (rank) {
      case RANK_SCRIPT:
        return this.applyStep(this.script[this.scriptIndex++]);
      case RANK_LINK:
        return this.deliver(this.wires[index]);
      case RANK_WORLD:
        return this.worldEffects(this.world.tick(this.nowUs));
      case RANK_HOST:
        return this.hostResult(index, this.hosts[index].step(this.nowUs));
      case RANK_SAMPLE:
        return this.sample();
    }
  }

  private deliver(w: Wire): void {
    const m = w.link.takeNext();
    if (m.to === 'world') {
      const fx = w.channel === 'net' ? this.world.netMessage(m.from, m.msg, this.nowUs) : this.world.diskMessage(m.from, m.msg, this.nowUs);
      return this.worldEffects(fx);
    }
    const i = this.hosts.findIndex((h) => h.name === m.to);
    const host = this.hosts[i];
    if (w.channel === 'disk') {
      // The disk channel's own validator, the one the vm worker uses too.
      const v = validateDiskMessage(m.msg);
      if (!v.ok) return this.record({ tUs: this.nowUs, vm: host.name, ev: 'message-rejected', channel: 'disk', error: v.error });
      return this.hostResult(i, host.receive('disk', v.value, this.nowUs));
    }
    this.hostResult(i, host.receive(w.channel, m.msg, this.nowUs, m.from));
  }

  private hostResult(i: number, r: HostResult): void {
    const host = this.hosts[i];
    for (const e of r.effects) {
      // A VM killed while its effects go out (a test's listener can do that) does nothing more.
      if (host.role === 'crashed') return;
      this.effect(host, e);
    }
    // A wake in the past is a wake now: its place among simultaneous events is now's (node.ts does the same).
    this.wakeUs[i] = host.role === 'crashed' || r.wakeUs === null ? null : Math.max(r.wakeUs, this.nowUs);
  }

  private effect(host: VmHost, e: FtEffect): void {
    const vm = host.name;
    if (this.wanted(e.ev)) this.record(traceOf(vm, this.nowUs, e));
    if (host.role === 'crashed') return; // killed by a listener of this very event
    const out = outbound(vm, e);
    if (out) {
      const link = this.link(vm, out.channel);
      link.send(vm, link.ends[0] === vm ? link.ends[1] : link.ends[0], out.msg, this.nowUs);
    }
  }

  /** Whether anyone reads events of this kind: the kept trace, a listener, the checkers, the report. */
  private wanted(ev: TraceEvent['ev']): boolean {
    return this.cfg.keepTrace || this.listeners.length > 0 || CHECKED_EVENTS.has(ev) || REPORTED_EVENTS.has(ev);
  }

  private worldEffects(effects: WorldEffect[]): void {
    const tUs = this.nowUs;
    for (const e of effects) {
      switch (e.kind) {
        case 'to-vm':
          this.link(e.vm, 'net').send('world', e.vm, e.bytes, tUs);
          break;
        case 'disk-reply':
          this.link(e.vm, 'disk').send('world', e.vm, e.reply, tUs);
          break;
        default: {
          const t = worldTraceEvent(e, tUs);
          if (t) this.record(t);
        }
      }
    }
    this.worldWakeUs = wakeAtOrAfter(this.world.nextDeadlineUs(), this.nowUs);
  }

  // ── faults ──────────────────────────────────────────────────────────────────────────────────

  private applyStep(step: ScriptStep): void {
    this.record({ tUs: this.nowUs, vm: 'sim', ev: 'fault', action: step.text });
    const healthy = healthyPair(this.hosts.map((h) => h.view()), this.cut());
    this.apply(step.action);
    this.report.failureApplied(step, healthy, this.nowUs, this.ft, this.cfg.diskLink);
  }

  private cut(): boolean {
    return this.wires.some((x) => x.link.partitioned) || this.world.network.cuts().length > 0;
  }



  /** Applies a fault now. A kill or cut of a VM that does not exist (yet) changes nothing. */
  apply(action: FaultAction): void {
    switch (action.kind) {
      case 'kill':
        return this.kill(action.vm);
      case 'vmotion':
        return this.vmotion();
      case 'partition':
        for (const w of this.wires) if (w.channel === 'log') w.link.partition();
        this.world.partition({ kind: 'logging' });
        return;
      case 'cut': {
        const vm = this.resolve(action.vm);
        if (vm) this.world.partition(action.from === 'disk' ? { kind: 'vm-disk', vm: vm.name } : { kind: 'vm-clients', vm: vm.name });
        return;
      }
      case 'heal':
        for (const w of this.wires) w.link.heal();
        this.world.heal();
        return;
      case 'send':
        return this.clientSend(action.client);
      case 'load':
        return this.setLoad(action.on);
      case 'flip': {
        const host = this.resolve(action.vm);
        if (host && host.role !== 'crashed') host.flipRamBit(action.addr);
        return;
      }
    }
  }

  private resolve(ref: VmRef): VmHost | null {
    if (ref === 'primary') return this.server();
    if (ref === 'backup') return this.hosts.find((h) => h.role === 'backup') ?? null;
    return this.hosts.find((h) => h.name === ref) ?? null;
  }

  /** Fail-stop: the host does nothing more; what it already sent is still on the wire. */
  private kill(ref: VmRef): void {
    const host = this.resolve(ref);
    if (!host || host.role === 'crashed') return;
    host.kill();
    this.wakeUs[this.hosts.indexOf(host)] = null;
    this.record({ tUs: this.nowUs, vm: host.name, ev: 'crashed' });
  }

  /**
   * FT VMotion (docs/design.md §4.10): the VM serving alone starts a new backup in a new host, over
   * a new logging channel; the test-and-set flag is cleared for the new pair's epoch.
   */
  private vmotion(): void {
    const server = this.hosts.find((h) => h.role === 'live');
    if (!server) return this.record({ tUs: this.nowUs, vm: 'sim', ev: 'fault', action: 'vmotion skipped: no VM serves alone' });
    const name = String.fromCharCode(65 + this.hosts.length);
    this.addVm(name, 'backup', server.name, this.cfg.backupSpeedIps, true);
    this.wire(`log ${server.name}↔${name}`, [server.name, name], 'log', this.cfg.loggingLink);
    const epoch = this.world.resetFlag(this.nowUs);
    this.hostResult(this.hosts.indexOf(server), server.startVMotion(name, epoch, this.nowUs));
  }

  // ── sampling ────────────────────────────────────────────────────────────────────────────────

  private sample(): void {
    for (const e of takeSample(this.report, this.hosts.map((h) => h.view()), this.cfg.backupSpeedIps, this.cut(), this.nowUs)) this.record(e);
    this.nextSampleUs = this.nowUs + this.cfg.sampleEveryUs;
  }

  // ── ending a run ────────────────────────────────────────────────────────────────────────────

  /**
   * Ends a run cleanly for the checkers: client load off, the serving VM pauses (a primary sends a
   * full-state hash at its icount), and the simulation goes on until its backup has received and
   * replayed every entry, every output is released and nothing is in flight on the logging link
   * (or `maxUs` more virtual time passed). False — and a liveness violation saying what was left —
   * if not.
   */
  drain(maxUs = 5_000_000): boolean {
    this.world.setLoad(false, this.nowUs);
    this.worldWakeUs = wakeAtOrAfter(this.world.nextDeadlineUs(), this.nowUs);
    const server = this.server();
    if (server) this.hostResult(this.hosts.indexOf(server), server.pause(this.nowUs));
    if (!this.undrained()) return true;
    this.runUntil(this.nowUs + maxUs, () => this.undrained() === null);
    const left = this.undrained();
    if (left) this.report.wedged(this.nowUs, `the run did not drain: ${left}`);
    return left === null;
  }

  /** What keeps the run from being drained, or null. */
  private undrained(): string | null {
    const server = this.server();
    if (!server) return null;
    if (!server.paused) return `${server.name} has not paused`;
    // Waiting on test-and-set with the disk server out of reach is where FT must stay (it never
    // goes on alone without winning): nothing more will happen, and that is not a wedge.
    if (server.failoverPhase === 'asking' && !this.world.vmReachesDisk(server.name)) return null;
    const p = server.primaryHypervisor;
    if (p && p.heldCount > 0) return `${p.heldCount} output(s) still held`;
    const backup = server.role === 'primary' && server.peer ? this.host(server.peer) : null;
    const bh = backup?.backupHypervisor;
    if (!p || !backup || !bh || backup.role !== 'backup') return null;
    if (p.ackedSeq !== p.lastSentSeq) return `acked #${p.ackedSeq} of #${p.lastSentSeq}`;
    if (bh.divergence) return null;
    if (bh.appliedSeq !== p.lastSentSeq) return `the backup replayed to #${bh.appliedSeq} of #${p.lastSentSeq}`;
    if (backup.busy || backup.state === 'running') return 'the backup is still running';
    return null;
  }

  /** drain(), then the summary, recorded as the trace's last event. */
  finish(maxUs?: number): ClusterSummary & { drained: boolean } {
    const drained = this.drain(maxUs);
    const summary = { ...this.summary(), drained };
    this.record({ tUs: this.nowUs, vm: 'sim', ev: 'summary', summary: { ...summary } });
    return summary;
  }

  /** Every checker's verdict plus liveness; call after finish(). */
  violations(): Violation[] {
    this.verdict ??= [...this.checkers.flatMap((c) => c.finish()), ...this.report.liveness];
    return this.verdict;
  }

  summary(): ClusterSummary {
    const server = this.server();
    return summarize(this.cfg.seed, this.nowUs, this.hosts, server, server?.peer ? this.host(server.peer) : null, this.report);
  }
}

/** The events the report reads (built even when no trace is kept). */
const REPORTED_EVENTS: ReadonlySet<TraceEvent['ev']> = new Set<TraceEvent['ev']>([
  'failure-suspected', 'replay-finished', 'tas-requested', 'tas-answered', 'went-live', 'halted',
]);


function wakeAtOrAfter(t: number | null, nowUs: number): number | null {
  return t === null ? null : Math.max(t, nowUs);
}
