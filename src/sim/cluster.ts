/**
 * A simulated FT cluster: the World (clients, network, disk server) and two VMs — each a guest
 * machine under a hypervisor — wired by SimLinks and driven by the discrete-event scheduler in
 * virtual time. Each VM is a host with a speed (instructions per virtual second); the primary's
 * slices are spread out by its CPU share (throttling, §3.4). Everything random comes from one seed.
 *
 * VM A is the primary, VM B the backup (roles as data: `roles`). Failures (heartbeats, go-live,
 * VMotion) plug in here next: the logging links can already be partitioned.
 */
import type { GuestMachine } from '../machine/types';
import { PrimaryHypervisor } from '../ft/primary';
import { BackupHypervisor } from '../ft/backup';
import type { FtEffect, Role, StallSummary } from '../ft/effects';
import type { FtSettings } from '../ft/settings';
import { LogFormatError, type LogAck } from '../ft/log';
import { World, type WorldEffect } from '../world/world';
import type { WorkloadKind } from '../world/client';
import type { DiskReplyMsg } from '../world/disk-messages';
import type { DiskRequest } from '../machine/types';
import { Prng } from './prng';
import { Scheduler } from './scheduler';
import { SimLink, type SimLinkSettings } from './link';
import { outputDigest, type TraceEvent } from './trace';

export interface ClusterConfig {
  seed: number;
  /** Builds one guest machine; called once per VM, so both start identical. */
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
  /** Host scheduling quantum: one step runs at most this much virtual time of instructions. */
  hostSliceUs: number;
  /** Each slice takes ±this fraction longer or shorter, as real hosts do (seeded). */
  hostSpeedJitter: number;
  sampleEveryUs: number;
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
};

type HostState = 'running' | 'idle' | 'blocked' | 'stopped';

interface Host {
  name: string;
  state: HostState;
  gen: number;
  speedIps: number;
}

export interface ClusterSummary {
  seed: number;
  virtualUs: number;
  icounts: { primary: number; backup: number };
  entriesSent: number;
  logBytesSent: number;
  outputStalls: StallSummary;
  logFullStalls: StallSummary;
  maxLagUs: number;
  maxLagMeasuredUs: number;
  cpuShareFinal: number;
  cpuShareMin: number;
  cpuShareMean: number;
  hashesChecked: number;
  suppressed: number;
  released: number;
  clientOps: number;
  sync: 'in-sync' | 'diverged';
  divergence: string | null;
}

export class Cluster {
  readonly cfg: ClusterConfig;
  readonly sched = new Scheduler();
  readonly world: World;
  readonly primary: PrimaryHypervisor;
  readonly backup: BackupHypervisor;
  readonly trace: TraceEvent[] = [];
  readonly roles: Record<string, Role> = { A: 'primary', B: 'backup' };
  private readonly rng: Prng;
  private readonly hostRng: Prng;
  private readonly hostA: Host;
  private readonly hostB: Host;
  private readonly logAB: SimLink<ArrayBuffer>;
  private readonly logBA: SimLink<LogAck>;
  private readonly netIn: SimLink<Uint8Array>;
  private readonly netOut: SimLink<Uint8Array>;
  private readonly diskOut: SimLink<DiskRequest>;
  private readonly diskIn: SimLink<DiskReplyMsg>;
  private worldGen = 0;
  private paused = false;
  private released = 0;
  private clientOps = 0;
  private shareSamples: number[] = [];
  private maxTrueLagUs = 0;

  constructor(config: Partial<ClusterConfig> & Pick<ClusterConfig, 'seed' | 'makeMachine'>) {
    const cfg: ClusterConfig = { ...CLUSTER_DEFAULTS, ...config };
    this.cfg = cfg;
    this.rng = new Prng(cfg.seed);
    const guestRng = this.rng.fork();
    this.hostRng = this.rng.fork();
    this.primary = new PrimaryHypervisor(cfg.makeMachine(), guestRng, { speedIps: cfg.primarySpeedIps, ...cfg.ft });
    this.backup = new BackupHypervisor(cfg.makeMachine());
    this.hostA = { name: 'A', state: 'idle', gen: 0, speedIps: cfg.primarySpeedIps };
    this.hostB = { name: 'B', state: 'idle', gen: 0, speedIps: cfg.backupSpeedIps };
    this.world = new World({
      seed: this.rng.nextU32(),
      vms: ['A', 'B'],
      serving: 'A',
      settings: { clientCount: cfg.workload ? cfg.clients : 0, workload: cfg.workload ?? 'counter', loadOn: false, thinkTimeUs: cfg.thinkTimeUs },
    });
    this.logAB = this.link('log A→B', cfg.loggingLink);
    this.logBA = this.link('ack B→A', cfg.loggingLink);
    this.netIn = this.link('net →A', cfg.netLink);
    this.netOut = this.link('net A→', cfg.netLink);
    this.diskOut = this.link('disk A→', cfg.diskLink);
    this.diskIn = this.link('disk →A', cfg.diskLink);
    this.wire();
  }

  private link<T>(name: string, s: Partial<SimLinkSettings>): SimLink<T> {
    return new SimLink<T>(name, this.sched, this.rng.fork(), s);
  }

  private wire(): void {
    this.logAB.onDeliver((bytes) => this.backupReceivesLog(bytes));
    this.logBA.onDeliver((ack) => {
      this.record({ tUs: this.now, vm: 'A', ev: 'ack-received', ackSeq: ack.ackSeq, backupIcount: ack.backupIcount });
      this.dispatch('A', this.primary.onAck(ack, this.now));
      if (this.hostA.state === 'blocked' && !this.primary.blocked) this.scheduleStep(this.hostA, this.now);
    });
    this.netIn.onDeliver((bytes) => {
      this.primary.onPacket(bytes);
      this.wake(this.hostA);
    });
    this.netOut.onDeliver((bytes) => this.worldEffects(this.world.fromVm('A', bytes, this.now)));
    this.diskOut.onDeliver((req) => this.worldEffects(this.world.diskRequest('A', req, this.now)));
    this.diskIn.onDeliver((reply) => {
      if (reply.kind === 'disk-read-ok') this.primary.onDiskDone(reply.id, reply.data);
      else if (reply.kind === 'disk-write-ok' || reply.kind === 'disk-error') this.primary.onDiskDone(reply.id);
      this.wake(this.hostA);
    });
  }

  get now(): number {
    return this.sched.nowUs;
  }

  private record(e: TraceEvent): void {
    this.trace.push(e);
  }

  // ---- running ----

  /** Starts the VMs and client load, then runs until virtual time `durationUs`. */
  run(durationUs: number): void {
    if (this.sched.eventsRun === 0) {
      this.scheduleStep(this.hostA, 0);
      if (this.cfg.workload && this.cfg.clients > 0) {
        this.world.setLoad(true, 0);
        this.scheduleWorld();
      }
      this.sample();
    }
    this.sched.runUntil(durationUs);
  }

  /**
   * Ends a run cleanly for the checkers: client load off, the primary stops executing, and the
   * simulation goes on until every entry is acked, every held output released and the backup
   * has replayed all it can (or `maxUs` more virtual time passed).
   */
  drain(maxUs = 5_000_000): boolean {
    this.world.setLoad(false, this.now);
    this.paused = true;
    const done = (): boolean =>
      this.primary.heldCount === 0 &&
      this.logAB.inFlight === 0 &&
      this.logBA.inFlight === 0 &&
      this.hostA.state !== 'running' &&
      (this.hostB.state === 'idle' || this.hostB.state === 'stopped') &&
      this.primary.ackedSeq === this.primary.lastSentSeq;
    if (done()) return true;
    this.sched.runUntil(this.now + maxUs, done);
    return done();
  }

  /** drain(), then the summary, recorded as the trace's last event. */
  finish(maxUs?: number): ClusterSummary & { drained: boolean } {
    const drained = this.drain(maxUs);
    const summary = { ...this.summary(), drained };
    this.record({ tUs: this.now, vm: 'sim', ev: 'summary', summary: { ...summary } });
    return summary;
  }

  private scheduleStep(h: Host, atUs: number): void {
    const gen = ++h.gen;
    h.state = 'running';
    this.sched.at(Math.max(atUs, this.now), `step ${h.name}`, () => {
      if (gen !== h.gen) return;
      if (h === this.hostA) this.primaryStep();
      else this.backupStep();
    });
  }

  /** An event arrived for an idle or blocked host: it steps now (a running host sees it next slice). */
  private wake(h: Host): void {
    if (h.state === 'idle') this.scheduleStep(h, this.now);
  }

  private sliceDurationUs(h: Host, retired: number, share: number): number {
    const jitter = 1 + this.cfg.hostSpeedJitter * (2 * this.hostRng.nextFloat() - 1);
    return ((retired * 1e6) / (h.speedIps * share)) * jitter;
  }

  private primaryStep(): void {
    const h = this.hostA;
    if (this.paused) {
      h.state = 'stopped';
      return;
    }
    const budget = Math.max(1, Math.floor((h.speedIps * this.cfg.hostSliceUs) / 1e6));
    const res = this.primary.step(this.now, budget);
    if (res.reason === 'log-full') {
      h.state = 'blocked';
      this.dispatch('A', res.effects);
      return;
    }
    const durUs = this.sliceDurationUs(h, res.retired, this.primary.cpuShare);
    this.sched.at(this.now + durUs, 'slice end A', () => {
      this.dispatch('A', res.effects);
      if (res.reason === 'exit' || res.reason === 'fault') {
        h.state = 'stopped';
        this.record({ tUs: this.now, vm: 'A', ev: 'guest-stopped', reason: res.reason });
      } else if (res.reason === 'wfi' && !this.primary.hasPendingEvents()) {
        h.state = 'idle';
        const deadline = this.primary.nextDeadlineUs();
        if (deadline !== null) {
          this.scheduleStep(h, deadline);
          h.state = 'idle'; // still wakes early for a packet or disk completion
        }
      } else {
        this.scheduleStep(h, this.now);
      }
    });
  }

  private backupStep(): void {
    const h = this.hostB;
    const budget = Math.max(1, Math.floor((h.speedIps * this.cfg.hostSliceUs) / 1e6));
    const receivedBefore = this.backup.receivedSeq;
    const res = this.backup.step(budget);
    const durUs = this.sliceDurationUs(h, res.retired, 1);
    this.sched.at(this.now + durUs, 'slice end B', () => {
      this.dispatch('B', res.effects);
      // A batch that arrived during the slice found the host busy: it counts now.
      const arrived = this.backup.receivedSeq !== receivedBefore;
      if (this.backup.divergence) h.state = 'stopped';
      else if (res.waiting && !arrived) h.state = 'idle';
      else this.scheduleStep(h, this.now);
    });
  }

  private backupReceivesLog(bytes: ArrayBuffer): void {
    try {
      this.dispatch('B', this.backup.onLog(bytes));
    } catch (err) {
      if (!(err instanceof LogFormatError)) throw err;
      this.record({ tUs: this.now, vm: 'B', ev: 'log-rejected', error: err.message });
      return;
    }
    this.wake(this.hostB);
  }

  // ---- effects ----

  private dispatch(vm: string, effects: FtEffect[]): void {
    const tUs = this.now;
    for (const e of effects) {
      switch (e.kind) {
        case 'send-log':
          this.record({ tUs, vm, ev: 'log-sent', bytes: e.bytes.byteLength, entries: e.entries.map((x) => [x.seq, x.icount, x.kind]) });
          this.logAB.send(e.bytes);
          break;
        case 'send-ack':
          this.record({ tUs, vm, ev: 'ack-sent', ackSeq: e.ack.ackSeq, backupIcount: e.ack.backupIcount });
          this.logBA.send(e.ack);
          break;
        case 'output-held':
          this.record({ tUs, vm, ev: 'held', icount: e.out.icount, out: e.out.kind });
          break;
        case 'release-output':
          this.released++;
          this.record({ tUs, vm, ev: 'released', icount: e.out.icount, out: e.out.kind, digest: outputDigest(e.out), heldUs: e.heldUs, held: e.held });
          if (e.out.kind === 'net-tx') this.netOut.send(e.out.bytes);
          else if (e.out.kind === 'disk') this.diskOut.send(e.out.req);
          break;
        case 'output-suppressed':
          this.record({ tUs, vm, ev: 'suppressed', icount: e.out.icount, out: e.out.kind, digest: outputDigest(e.out) });
          break;
        case 'entry-applied':
          this.record({ tUs, vm, ev: 'applied', seq: e.entry.seq, icount: e.entry.icount, kind: e.entry.kind });
          break;
        case 'log-full':
          this.record({ tUs, vm, ev: 'log-full', inflightBytes: e.inflightBytes });
          break;
        case 'log-drained':
          this.record({ tUs, vm, ev: 'log-drained', stalledUs: e.stalledUs });
          break;
        case 'cpu-share':
          this.record({ tUs, vm, ev: 'cpu-share', share: e.share, lagUs: e.lagUs });
          break;
        case 'hash-ok':
          this.record({ tUs, vm, ev: 'hash-ok', icount: e.icount });
          break;
        case 'divergence':
          this.record({ tUs, vm, ev: 'divergence', icount: e.icount, reason: e.reason });
          break;
      }
    }
  }

  private worldEffects(effects: WorldEffect[]): void {
    for (const e of effects) {
      if (e.kind === 'to-vm' && e.vm === 'A') this.netIn.send(e.bytes);
      else if (e.kind === 'disk-reply') this.diskIn.send(e.reply);
      else if (e.kind === 'client-completed') {
        this.clientOps++;
        this.record({ tUs: this.now, vm: 'world', ev: 'client-done', client: e.client, seq: e.seq, result: e.result, latencyUs: e.returnUs - e.invokeUs });
      }
    }
    this.scheduleWorld();
  }

  private scheduleWorld(): void {
    const at = this.world.nextDeadlineUs();
    if (at === null) return;
    const gen = ++this.worldGen;
    this.sched.at(Math.max(at, this.now), 'world tick', () => {
      if (gen === this.worldGen) this.worldEffects(this.world.tick(this.now));
    });
  }

  private sample(): void {
    const ia = this.primary.machine.icount;
    const ib = this.backup.machine.icount;
    const lagUs = (Math.max(0, ia - ib) * 1e6) / this.cfg.primarySpeedIps;
    this.maxTrueLagUs = Math.max(this.maxTrueLagUs, lagUs);
    this.shareSamples.push(this.primary.cpuShare);
    this.record({ tUs: this.now, vm: 'sim', ev: 'sample', icounts: [ia, ib], lagUs, share: this.primary.cpuShare });
    if (!this.paused) this.sched.after(this.cfg.sampleEveryUs, 'sample', () => this.sample());
  }

  /** The largest backup lag seen at the samples (true icounts), µs at the primary's speed. */
  get maxLagUs(): number {
    return this.maxTrueLagUs;
  }

  summary(): ClusterSummary {
    const p = this.primary.stats();
    const d = this.backup.divergence;
    const shares = this.shareSamples;
    return {
      seed: this.cfg.seed,
      virtualUs: this.now,
      icounts: { primary: this.primary.machine.icount, backup: this.backup.machine.icount },
      entriesSent: p.entriesSent,
      logBytesSent: p.bytesSent,
      outputStalls: p.stalls,
      logFullStalls: p.logFullStalls,
      maxLagUs: this.maxTrueLagUs,
      maxLagMeasuredUs: p.maxLagUs,
      cpuShareFinal: p.cpuShare,
      cpuShareMin: Math.min(...shares),
      cpuShareMean: shares.reduce((a, b) => a + b, 0) / shares.length,
      hashesChecked: this.backup.hashesChecked,
      suppressed: this.backup.suppressedCount,
      released: this.released,
      clientOps: this.clientOps,
      sync: d ? 'diverged' : 'in-sync',
      divergence: d ? `at icount ${d.icount}: ${d.reason}` : null,
    };
  }
}
