/**
 * A simulated FT cluster: the World (clients, network, disk server) and the VM hosts (src/ft/host.ts)
 * wired by SimLinks, run in virtual time from one seed. The cluster decides nothing about when a VM
 * runs — each host says when it wants to be stepped — it only wires hosts and links, applies the
 * fault script, feeds the checkers and samples what the summary reports.
 *
 * One run is a sequence of events in a total order that does not depend on how it was computed:
 * (time, rank, index) — script actions, then link deliveries (by link, then message id), then the
 * world's tick, then host steps (by name), then samples. The browser's lockstep conductor orders
 * simultaneous events by the same rule, so the same seed, settings and script give the same run.
 */
import type { GuestMachine } from '../machine/types';
import { VmHost, outbound } from '../ft/host';
import type { HostResult } from '../ft/host';
import type { FtEffect, Role } from '../ft/effects';
import { resolveFtSettings, type FtSettings } from '../ft/settings';
import type { ChannelName } from '../ft/channels';
import type { StallSummary } from '../ft/stats';
import { World, type WorldEffect } from '../world/world';
import type { WorkloadKind } from '../world/client';
import { validateDiskMessage } from '../world/disk-messages';
import { Prng } from './prng';
import { SimLink, type SimLinkSettings } from './link';
import { traceOf, type TraceEvent } from './trace';
import { CHECKED_EVENTS, standardCheckers, type Checker, type Violation } from './checkers';
import type { ScriptStep, FaultAction } from './script';

export interface ClusterConfig {
  seed: number;
  /** Builds one guest machine; called once per VM, so all start identical. */
  makeMachine: () => GuestMachine;
  /** Client workload, or null for a guest without clients. */
  workload: WorkloadKind | null;
  clients: number;
  /** Between a reply and a client's next request. */
  thinkTimeUs: number;
  primarySpeedIps: number;
  backupSpeedIps: number;
  /** FT settings; `speedIps` defaults to primarySpeedIps. */
  ft: Partial<FtSettings>;
  loggingLink: Partial<SimLinkSettings>;
  netLink: Partial<SimLinkSettings>;
  diskLink: Partial<SimLinkSettings>;
  /** Host scheduling quantum: one slice runs at most this much virtual time of instructions. */
  hostSliceUs: number;
  /** Each slice takes ±this fraction longer or shorter, as real hosts do (seeded). */
  hostSpeedJitter: number;
  sampleEveryUs: number;
  /** Keep every event in `trace` (tests). Off, events only stream to the checkers and `onEvent`. */
  keepTrace: boolean;
  /** The primary wanting to run but making no progress this long, with nothing cut, is a wedge. */
  livenessLimitUs: number;
  /** Fault script (script.ts), applied at its virtual times. */
  script: ScriptStep[];
}

export const CLUSTER_DEFAULTS: Omit<ClusterConfig, 'seed' | 'makeMachine'> = {
  workload: null,
  clients: 0,
  thinkTimeUs: 5_000,
  primarySpeedIps: 4_000_000,
  backupSpeedIps: 4_000_000,
  ft: {},
  loggingLink: { delayUs: 50, jitterUs: 20, inOrder: true },
  netLink: { delayUs: 200, jitterUs: 100, inOrder: false },
  diskLink: { delayUs: 150, jitterUs: 50, inOrder: true },
  hostSliceUs: 1_000,
  hostSpeedJitter: 0.02,
  sampleEveryUs: 20_000,
  keepTrace: true,
  livenessLimitUs: 1_000_000,
  script: [],
};

export interface ClusterSummary {
  seed: number;
  virtualUs: number;
  icounts: { primary: number; backup: number };
  entriesSent: number;
  logBytesSent: number;
  resends: number;
  outputStalls: StallSummary;
  blockedStalls: StallSummary;
  /** Largest backup lag at the samples: the primary's icount minus the backup's, in backup time. */
  maxLagUs: number;
  /** Largest lag as the primary measured it from acks. */
  maxLagMeasuredUs: number;
  /** Largest replay backlog of received log, in backup time: what a failover would replay. */
  maxCatchUpUs: number;
  cpuShareFinal: number;
  cpuShareMin: number;
  cpuShareMean: number;
  hashesChecked: number;
  suppressed: number;
  released: number;
  clientOps: number;
  messagesLost: number;
  sync: 'in-sync' | 'diverged';
  divergence: string | null;
}

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

export class Cluster {
  readonly cfg: ClusterConfig;
  readonly ft: FtSettings;
  readonly world: World;
  readonly hosts: VmHost[];
  readonly trace: TraceEvent[] = [];
  /** Extra listeners: the `sim` command prints the timeline as it goes. */
  readonly listeners: ((e: TraceEvent) => void)[] = [];
  readonly checkers: Checker[];
  private readonly wires: Wire[] = [];
  private readonly ends = new Map<string, Record<Channel, SimLink<unknown>>>();
  private readonly wakeUs: (number | null)[];
  private readonly rng: Prng;
  private nowUs = 0;
  private worldWakeUs: number | null = null;
  private nextSampleUs = 0;
  private scriptIndex = 0;
  private started = false;
  eventsRun = 0;
  // Running figures for the summary (bounded: no lists that grow with the run).
  private released = 0;
  private clientOps = 0;
  private messagesLost = 0;
  private maxLagUs = 0;
  private maxCatchUpUs = 0;
  private shareMin = 1;
  private shareSum = 0;
  private shareSamples = 0;
  private progress = { icount: -1, sinceUs: 0 };
  private readonly livenessViolations: Violation[] = [];
  private verdict: Violation[] | null = null;

  constructor(config: Partial<ClusterConfig> & Pick<ClusterConfig, 'seed' | 'makeMachine'>) {
    const cfg: ClusterConfig = { ...CLUSTER_DEFAULTS, ...config };
    this.cfg = cfg;
    this.ft = resolveFtSettings({ speedIps: cfg.primarySpeedIps, ...cfg.ft });
    this.rng = new Prng(cfg.seed);
    this.hosts = [this.makeHost('A', 'primary', cfg.primarySpeedIps), this.makeHost('B', 'backup', cfg.backupSpeedIps)];
    this.wakeUs = this.hosts.map(() => 0);
    this.world = new World({
      seed: this.rng.fork('world').nextU32(),
      vms: ['A', 'B'],
      serving: 'A',
      settings: { clientCount: cfg.workload ? cfg.clients : 0, workload: cfg.workload ?? 'counter', loadOn: false, thinkTimeUs: cfg.thinkTimeUs },
    });
    this.wire('log A↔B', ['A', 'B'], 'log', cfg.loggingLink);
    for (const vm of ['A', 'B']) {
      this.wire(`net ${vm}↔world`, [vm, 'world'], 'net', cfg.netLink);
      this.wire(`disk ${vm}↔world`, [vm, 'world'], 'disk', cfg.diskLink);
    }
    this.checkers = standardCheckers({ holdDiskReads: this.ft.holdDiskReads });
  }

  private makeHost(name: string, role: 'primary' | 'backup', speedIps: number): VmHost {
    const jitterRng = this.rng.fork(`host ${name} speed`);
    const jitter = this.cfg.hostSpeedJitter;
    return new VmHost({
      name,
      role,
      machine: this.cfg.makeMachine(),
      rng: this.rng.fork('guest rng'),
      settings: this.ft,
      pacing: {
        sliceInstructions: Math.max(1, Math.floor((speedIps * this.cfg.hostSliceUs) / 1e6)),
        nominalIps: speedIps,
        sliceUs: (retired) => ((retired * 1e6) / speedIps) * (1 + jitter * (2 * jitterRng.nextFloat() - 1)),
      },
    });
  }

  private wire(name: string, ends: [string, string], channel: Channel, s: Partial<SimLinkSettings>): void {
    const link = new SimLink<unknown>(name, ends, this.rng.fork(`link ${name}`), s);
    link.onLoss = (m, reason) => {
      this.messagesLost++;
      this.record({ tUs: this.nowUs, vm: 'sim', ev: 'msg-lost', link: name, from: m.from, to: m.to, reason });
    };
    this.wires.push({ link, channel });
    for (const end of ends) {
      const mine = this.ends.get(end) ?? ({} as Record<Channel, SimLink<unknown>>);
      if (end !== 'world') mine[channel] = link;
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

  /** The link carrying `channel` for VM `vm` (the logging link for 'log'). */
  link(vm: string, channel: Channel): SimLink<unknown> {
    const l = this.ends.get(vm)?.[channel];
    if (!l) throw new Error(`VM ${vm} has no ${channel} link`);
    return l;
  }

  get roles(): Record<string, Role> {
    return Object.fromEntries(this.hosts.map((h) => [h.name, h.role]));
  }

  private record(e: TraceEvent): void {
    if (this.cfg.keepTrace) this.trace.push(e);
    for (const c of this.checkers) c.event(e);
    for (const l of this.listeners) l(e);
  }

  // ── running ─────────────────────────────────────────────────────────────────────────────────

  /** Starts client load on the first call, then runs until virtual time `untilUs`. */
  run(untilUs: number): void {
    if (!this.started) {
      this.started = true;
      if (this.cfg.workload && this.cfg.clients > 0) {
        this.world.setLoad(true, 0);
        this.worldWakeUs = this.world.nextDeadlineUs();
      }
    }
    this.runUntil(untilUs);
  }

  private runUntil(untilUs: number, stop: () => boolean = () => false): void {
    for (;;) {
      // The next event in (time, rank, index) order. Written out, not with a helper closure: this
      // loop runs once per event.
      let bestUs = Infinity;
      let rank = 9;
      let index = 0;
      if (this.scriptIndex < this.cfg.script.length) {
        bestUs = this.cfg.script[this.scriptIndex].atUs;
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
        return this.applyScript(this.cfg.script[this.scriptIndex++]);
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
      const fx = w.channel === 'net' ? this.world.fromVm(m.from, m.msg as Uint8Array, this.nowUs) : this.world.diskMessage(m.from, m.msg, this.nowUs);
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
    this.hostResult(i, host.receive(w.channel, m.msg, this.nowUs));
  }

  private hostResult(i: number, r: HostResult): void {
    const vm = this.hosts[i].name;
    for (const e of r.effects) this.effect(vm, e);
    this.wakeUs[i] = r.wakeUs;
  }

  private effect(vm: string, e: FtEffect): void {
    if (e.ev === 'output-released') this.released++;
    if (this.wanted(e.ev)) this.record(traceOf(vm, this.nowUs, e));
    const out = outbound(vm, e);
    if (out) {
      const link = this.link(vm, out.channel);
      link.send(vm, link.ends[0] === vm ? link.ends[1] : link.ends[0], out.msg, this.nowUs);
    }
  }

  /** Whether anyone reads events of this kind: the kept trace, a listener, or a checker. */
  private wanted(ev: TraceEvent['ev']): boolean {
    return this.cfg.keepTrace || this.listeners.length > 0 || CHECKED_EVENTS.has(ev);
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
        case 'client-completed':
          this.clientOps++;
          this.record({ tUs, vm: 'world', ev: 'client-completed', client: e.client, seq: e.seq, result: e.result, latencyUs: e.returnUs - e.invokeUs, fromVm: e.fromVm });
          break;
        case 'client-dropped-duplicate':
          this.record({ tUs, vm: 'world', ev: 'client-dropped-duplicate', client: e.client, seq: e.seq, fromVm: e.fromVm });
          break;
        case 'dropped':
          this.record({ tUs, vm: 'world', ev: 'dropped', what: e.what, reason: e.reason, detail: e.detail });
          break;
        default:
          break;
      }
    }
    this.worldWakeUs = this.world.nextDeadlineUs();
  }

  // ── faults ──────────────────────────────────────────────────────────────────────────────────

  private applyScript(step: ScriptStep): void {
    this.record({ tUs: this.nowUs, vm: 'sim', ev: 'fault', action: step.text });
    this.apply(step.action);
  }

  /** Applies a fault action now (the script's, or a test's). */
  apply(action: FaultAction): void {
    switch (action.kind) {
      case 'partition':
        this.link('A', 'log').partition();
        break;
      case 'heal':
        for (const w of this.wires) w.link.heal();
        break;
    }
  }

  // ── sampling, liveness ──────────────────────────────────────────────────────────────────────

  private sample(): void {
    const [a, b] = this.hosts;
    const ia = a.machine.icount;
    const ib = b.machine.icount;
    const lagUs = (Math.max(0, ia - ib) * 1e6) / this.cfg.backupSpeedIps;
    const bh = b.backupHypervisor;
    const catchUpUs = bh ? (Math.max(0, bh.lastReceivedIcount - ib) * 1e6) / this.cfg.backupSpeedIps : 0;
    const share = a.primaryHypervisor?.cpuShare ?? 1;
    this.maxLagUs = Math.max(this.maxLagUs, lagUs);
    this.maxCatchUpUs = Math.max(this.maxCatchUpUs, catchUpUs);
    this.shareMin = Math.min(this.shareMin, share);
    this.shareSum += share;
    this.shareSamples++;
    this.record({ tUs: this.nowUs, vm: 'sim', ev: 'sample', icounts: [ia, ib], lagUs, share });
    this.checkLiveness(a);
    this.nextSampleUs = this.nowUs + this.cfg.sampleEveryUs;
  }

  /**
   * A wedge, with nothing cutting the logging channel: the primary wants to run (running or
   * blocked) but its icount has not moved for livenessLimitUs, or an output has been held that
   * long. Reported once per wedge.
   */
  private checkLiveness(primary: VmHost): void {
    if (this.link('A', 'log').partitioned) {
      this.progress = { icount: -1, sinceUs: this.nowUs };
      return;
    }
    const heldUs = primary.primaryHypervisor?.oldestHeldAgeUs(this.nowUs) ?? 0;
    if (heldUs >= this.cfg.livenessLimitUs && heldUs - this.cfg.sampleEveryUs < this.cfg.livenessLimitUs) {
      this.wedged(`an output of primary ${primary.name} was held for ${(heldUs / 1000).toFixed(0)} ms with nothing stopping the backup's acks`);
    }
    const wants = !primary.paused && (primary.state === 'running' || primary.state === 'blocked');
    const excused = !wants;
    const ic = primary.machine.icount;
    if (excused || ic !== this.progress.icount) {
      this.progress = { icount: excused ? -1 : ic, sinceUs: this.nowUs };
      return;
    }
    if (this.nowUs - this.progress.sinceUs >= this.cfg.livenessLimitUs) {
      this.wedged(`primary ${primary.name} made no progress for ${((this.nowUs - this.progress.sinceUs) / 1000).toFixed(0)} ms (state ${primary.state}) with nothing stopping it`);
      this.progress = { icount: -1, sinceUs: this.nowUs };
    }
  }

  private wedged(what: string): void {
    this.livenessViolations.push({ tUs: this.nowUs, what });
    this.record({ tUs: this.nowUs, vm: 'sim', ev: 'liveness', what });
  }

  // ── ending a run ────────────────────────────────────────────────────────────────────────────

  /**
   * Ends a run cleanly for the checkers: client load off, the primary pauses (sending a full-state
   * hash at its icount), and the simulation goes on until the backup has received and replayed
   * every entry, every output is released and nothing is in flight on the logging link (or `maxUs`
   * more virtual time passed). False — and a liveness violation saying what was left — if not.
   */
  drain(maxUs = 5_000_000): boolean {
    this.world.setLoad(false, this.nowUs);
    this.worldWakeUs = this.world.nextDeadlineUs();
    this.hostResult(0, this.hosts[0].pause(this.nowUs));
    if (!this.undrained()) return true;
    this.runUntil(this.nowUs + maxUs, () => this.undrained() === null);
    const left = this.undrained();
    if (left) this.livenessViolations.push({ tUs: this.nowUs, what: `the run did not drain: ${left}` });
    return left === null;
  }

  /** What keeps the run from being drained, or null. */
  private undrained(): string | null {
    const [a, b] = this.hosts;
    const p = a.primaryHypervisor;
    const bh = b.backupHypervisor;
    if (!p || !bh) return null;
    if (!a.paused) return 'the primary has not paused';
    if (p.heldCount > 0) return `${p.heldCount} output(s) still held`;
    if (p.ackedSeq !== p.lastSentSeq) return `acked #${p.ackedSeq} of #${p.lastSentSeq}`;
    if (bh.divergence) return null;
    if (bh.appliedSeq !== p.lastSentSeq) return `the backup replayed to #${bh.appliedSeq} of #${p.lastSentSeq}`;
    if (b.busy || b.state === 'running') return 'the backup is still running';
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
    this.verdict ??= [...this.checkers.flatMap((c) => c.finish()), ...this.livenessViolations];
    return this.verdict;
  }

  summary(): ClusterSummary {
    const [a, b] = this.hosts;
    const p = a.primaryHypervisor?.stats();
    const bh = b.backupHypervisor;
    const d = bh?.divergence ?? null;
    const none = { count: 0, medianUs: 0, maxUs: 0 };
    return {
      seed: this.cfg.seed,
      virtualUs: this.nowUs,
      icounts: { primary: a.machine.icount, backup: b.machine.icount },
      entriesSent: p?.entriesSent ?? 0,
      logBytesSent: p?.bytesSent ?? 0,
      resends: p?.resends ?? 0,
      outputStalls: p?.stalls ?? none,
      blockedStalls: p?.blockedStalls ?? none,
      maxLagUs: this.maxLagUs,
      maxLagMeasuredUs: p?.maxLagUs ?? 0,
      maxCatchUpUs: this.maxCatchUpUs,
      cpuShareFinal: p?.cpuShare ?? 1,
      cpuShareMin: this.shareMin,
      cpuShareMean: this.shareSamples > 0 ? this.shareSum / this.shareSamples : 1,
      hashesChecked: bh?.hashesChecked ?? 0,
      suppressed: bh?.suppressedCount ?? 0,
      released: this.released,
      clientOps: this.clientOps,
      messagesLost: this.messagesLost,
      sync: d ? 'diverged' : 'in-sync',
      divergence: d ? `at icount ${d.icount}: ${d.reason}` : null,
    };
  }
}
