/**
 * What a simulated run reports beyond the checkers: running figures sampled as it goes (lag, CPU
 * share, failover catch-up), the liveness check, and the failover story (kill → detection → replay
 * → test-and-set → serving), all in bounded memory. The cluster feeds it trace events and samples;
 * it never changes the run.
 */
import type { HostView, VmHost } from '../ft/host';
import type { FtSettings } from '../ft/settings';
import type { SimLinkSettings } from './link';
import type { ScriptStep } from './script';
import type { StallSummary } from '../ft/stats';
import type { TraceEvent } from './trace';
import type { Violation } from './checkers';

/** One failover: a VM went live, and how long each step took. */
export interface FailoverRecord {
  vm: string;
  /** The VM whose failure started it (the last one killed before), if a kill did. */
  after: string | null;
  faultUs: number | null;
  suspectedUs: number | null;
  replayDoneUs: number | null;
  liveUs: number;
}

export interface ClusterSummary {
  seed: number;
  virtualUs: number;
  /** The serving VM and its backup (0 when there is none). */
  icounts: { primary: number; backup: number };
  vms: { name: string; role: string; icount: number }[];
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
  failovers: FailoverRecord[];
  tasCalls: number;
  tasWinners: string[];
  reissued: number;
  duplicatesDropped: number;
  sync: 'in-sync' | 'diverged';
  divergence: string | null;
}

const FAILOVERS_KEPT = 32;

export class RunReport {
  released = 0;
  suppressed = 0;
  hashesChecked = 0;
  clientOps = 0;
  messagesLost = 0;
  maxLagUs = 0;
  maxCatchUpUs = 0;
  shareMin = 1;
  private shareSum = 0;
  private shareSamples = 0;
  tasCalls = 0;
  readonly tasWinners: string[] = [];
  reissued = 0;
  duplicatesDropped = 0;
  readonly failovers: FailoverRecord[] = [];
  /** The last kill (or other fault) and, per VM, where its road to going live stands. */
  private lastFault: { vm: string | null; tUs: number } | null = null;
  private readonly road = new Map<string, { suspectedUs: number | null; replayDoneUs: number | null }>();
  readonly liveness: Violation[] = [];
  private progress = { vm: '', icount: -1, sinceUs: 0 };
  /** A single failure of a healthy pair: some VM must serve by `byUs`. */
  private serviceDue: { fault: string; faultUs: number; byUs: number; bound: string } | null = null;

  constructor(private readonly livenessLimitUs: number, private readonly sampleEveryUs: number) {}

  /** Reads the events that tell the failover story and the counts. */
  event(e: TraceEvent): void {
    switch (e.ev) {
      case 'output-released':
        this.released++;
        break;
      case 'output-suppressed':
        this.suppressed++;
        break;
      case 'hash-ok':
        this.hashesChecked++;
        break;
      case 'divergence':
        this.hashesChecked += /state hash/.test(e.reason) ? 1 : 0;
        break;
      case 'client-completed':
        this.clientOps++;
        break;
      case 'client-dropped-duplicate':
        this.duplicatesDropped++;
        break;
      case 'msg-lost':
        this.messagesLost++;
        break;
      case 'crashed':
        this.lastFault = { vm: e.vm, tUs: e.tUs };
        break;
      case 'fault':
        if (!/^kill/.test(e.action)) this.lastFault = { vm: null, tUs: e.tUs };
        this.serviceDue = null; // a second fault: no longer a single failure
        break;
      case 'failure-suspected':
        this.road.set(e.vm, { suspectedUs: e.tUs, replayDoneUs: null });
        break;
      case 'replay-finished': {
        const r = this.road.get(e.vm);
        if (r) r.replayDoneUs = e.tUs;
        break;
      }
      case 'tas-requested':
        this.tasCalls++;
        break;
      case 'tas-answered':
        if (e.won) this.tasWinners.push(e.vm);
        break;
      case 'went-live':
        this.wentLive(e.vm, e.tUs, e.reissued);
        this.serviceDue = null;
        break;
      default:
        break;
    }
  }

  private wentLive(vm: string, tUs: number, reissued: number): void {
    this.reissued += reissued;
    const r = this.road.get(vm);
    const f = this.lastFault;
    if (this.failovers.length < FAILOVERS_KEPT) {
      this.failovers.push({
        vm, after: f?.vm ?? null, faultUs: f?.tUs ?? null, suspectedUs: r?.suspectedUs ?? null, replayDoneUs: r?.replayDoneUs ?? r?.suspectedUs ?? null, liveUs: tUs,
      });
    }
    this.road.delete(vm);
  }

  sample(lagUs: number, catchUpUs: number, share: number): void {
    this.maxLagUs = Math.max(this.maxLagUs, lagUs);
    this.maxCatchUpUs = Math.max(this.maxCatchUpUs, catchUpUs);
    this.shareMin = Math.min(this.shareMin, share);
    this.shareSum += share;
    this.shareSamples++;
  }

  get shareMean(): number {
    return this.shareSamples > 0 ? this.shareSum / this.shareSamples : 1;
  }

  /**
   * The failover bound: after `fault` struck a healthy pair at `faultUs` (every VM, the disk and the
   * clients connected, nothing else failing), a VM must serve — the backup live, or the primary
   * alone — within `boundUs` (failure timeout + lag cap + a test-and-set round trip, `bound` says
   * how it adds up). Checked at each sample; a later fault or the end of the run withdraws it.
   */
  expectService(fault: string, faultUs: number, boundUs: number, bound: string): void {
    this.serviceDue = { fault, faultUs, byUs: faultUs + boundUs, bound };
  }

  /**
   * A script step applied: if it was a failure (kill, logging partition) of a pair that was healthy
   * just before it, the failover bound's clock starts. `step` is the step as written.
   */
  failureApplied(step: ScriptStep, wasHealthy: boolean, nowUs: number, ft: FtSettings, diskLink: Partial<SimLinkSettings>): void {
    if (!wasHealthy || (step.action.kind !== 'kill' && step.action.kind !== 'partition')) return;
    const tas = 2 * ((diskLink.delayUs ?? 0) + (diskLink.jitterUs ?? 0));
    const ms = (us: number): string => `${(us / 1000).toFixed(1)}`;
    this.expectService(step.text.replace(/\s+at\s+\S+$/, ''), nowUs, ft.failureTimeoutUs + ft.lagCapUs + tas,
      `failure timeout ${ms(ft.failureTimeoutUs)} + lag cap ${ms(ft.lagCapUs)} + test-and-set round trip ${ms(tas)}`);
  }

  /** The failover-bound check at a sample; returns the violation recorded, if any. */
  checkServiceBound(nowUs: number): string | null {
    const d = this.serviceDue;
    if (d === null || nowUs <= d.byUs) return null;
    this.serviceDue = null;
    const ms = (us: number): string => `${(us / 1000).toFixed(1)} ms`;
    return this.wedged(nowUs, `no VM serves ${ms(nowUs - d.faultUs)} after ${d.fault} at ${ms(d.faultUs)}: the bound is ${ms(d.byUs - d.faultUs)} (${d.bound})`);
  }

  /**
   * A wedge, with nothing cut: the serving VM wants to run (running or blocked) but its icount has
   * not moved for livenessLimitUs, or an output has been held that long. Reported once per wedge.
   * Returns the violation to record in the trace, if one was found.
   */
  checkLiveness(server: HostView | null, excused: boolean, nowUs: number): string | null {
    if (excused || !server) {
      this.progress = { vm: '', icount: -1, sinceUs: nowUs };
      return null;
    }
    const limit = this.livenessLimitUs;
    const heldUs = server.oldestHeldSinceUs === null ? 0 : Math.max(0, nowUs - server.oldestHeldSinceUs);
    if (heldUs >= limit && heldUs - this.sampleEveryUs < limit) {
      return this.wedged(nowUs, `an output of ${server.name} was held for ${(heldUs / 1000).toFixed(0)} ms with nothing stopping the backup's acks`);
    }
    const wants = !server.paused && (server.state === 'running' || server.state === 'blocked');
    const ic = server.icount;
    if (!wants || ic !== this.progress.icount || server.name !== this.progress.vm) {
      this.progress = { vm: server.name, icount: wants ? ic : -1, sinceUs: nowUs };
      return null;
    }
    if (nowUs - this.progress.sinceUs < limit) return null;
    const what = `${server.name} made no progress for ${((nowUs - this.progress.sinceUs) / 1000).toFixed(0)} ms (state ${server.state}) with nothing stopping it`;
    this.progress = { vm: '', icount: -1, sinceUs: nowUs };
    return this.wedged(nowUs, what);
  }

  wedged(nowUs: number, what: string): string {
    this.liveness.push({ tUs: nowUs, what, checker: 'liveness' });
    return what;
  }
}

/** A primary with a backup that has state, and nothing cut: what the failover bound holds to. */
export function healthyPair(views: readonly HostView[], cut: boolean): boolean {
  const server = serverOf(views);
  const backup = server?.peer ? views.find((h) => h.name === server.peer) : undefined;
  return !cut && server?.role === 'primary' && backup?.role === 'backup' && backup.backupReady;
}

/** The VM the service runs on: the one serving alone, else the primary. */
export function serverOf<V extends { role: string }>(views: readonly V[]): V | null {
  return views.find((h) => h.role === 'live') ?? views.find((h) => h.role === 'primary') ?? null;
}

/**
 * One sample of the cluster from its hosts' views (in host order): the serving VM, the backup's lag
 * and replay backlog in backup time, and the CPU share — the same computation for hosts in this
 * thread and for hosts in workers.
 */
export function sampleOf(views: readonly HostView[], backupSpeedIps: number): { server: HostView | null; lagUs: number; catchUpUs: number; share: number; icounts: number[] } {
  const server = serverOf(views);
  const backup = server?.peer ? views.find((h) => h.name === server.peer) ?? null : null;
  const ia = server?.icount ?? 0;
  // A new backup has no state until its snapshot arrives: no lag to speak of yet.
  const ready = backup !== null && backup.backupReady;
  const ib = ready ? backup.icount : ia;
  const lagUs = (Math.max(0, ia - ib) * 1e6) / backupSpeedIps;
  const catchUpUs = ready ? (Math.max(0, backup.lastReceivedIcount - ib) * 1e6) / backupSpeedIps : 0;
  return { server, lagUs, catchUpUs, share: server?.cpuShare ?? 1, icounts: views.map((h) => h.icount) };
}

/**
 * A sample taken: the report reads it and checks liveness; returns the trace events to record
 * (the sample, and any liveness violation found).
 */
export function takeSample(report: RunReport, views: readonly HostView[], backupSpeedIps: number, cut: boolean, nowUs: number): TraceEvent[] {
  const s = sampleOf(views, backupSpeedIps);
  report.sample(s.lagUs, s.catchUpUs, s.share);
  const out: TraceEvent[] = [{ tUs: nowUs, vm: 'sim', ev: 'sample', icounts: s.icounts, lagUs: s.lagUs, share: s.share }];
  const wedge = report.checkLiveness(s.server, cut, nowUs);
  if (wedge) out.push({ tUs: nowUs, vm: 'sim', ev: 'liveness', what: wedge });
  const late = report.checkServiceBound(nowUs);
  if (late) out.push({ tUs: nowUs, vm: 'sim', ev: 'liveness', what: late });
  return out;
}

/** "B serving 312.40 ms after A failed (detection 300.10 ms, replay 0.80 ms, test-and-set 0.30 ms)". */
export function describeFailover(f: FailoverRecord): string {
  const ms = (us: number): string => `${(us / 1000).toFixed(2)} ms`;
  const parts: string[] = [];
  if (f.faultUs !== null && f.suspectedUs !== null) parts.push(`detection ${ms(f.suspectedUs - f.faultUs)}`);
  if (f.suspectedUs !== null && f.replayDoneUs !== null) parts.push(`replay ${ms(f.replayDoneUs - f.suspectedUs)}`);
  if (f.replayDoneUs !== null) parts.push(`test-and-set ${ms(f.liveUs - f.replayDoneUs)}`);
  const since = f.faultUs !== null ? ` ${ms(f.liveUs - f.faultUs)} after ${f.after ? `${f.after} was killed` : 'the fault'}` : '';
  return `${f.vm} serving at ${ms(f.liveUs)}${since}${parts.length ? ` (${parts.join(', ')})` : ''}`;
}

/** The summary of a run: totals over every VM, the serving VM's own figures, the report's. */
export function summarize(seed: number, virtualUs: number, hosts: readonly VmHost[], server: VmHost | null, backup: VmHost | null, r: RunReport): ClusterSummary {
  const stats = hosts.map((h) => h.primaryHypervisor?.stats()).filter((x) => x !== undefined);
  const sum = (f: (s: (typeof stats)[number]) => number): number => stats.reduce((a, s) => a + f(s), 0);
  const p = server?.primaryHypervisor?.stats();
  const d = hosts.map((h) => h.backupHypervisor?.divergence).find((x) => x) ?? null;
  const none = { count: 0, medianUs: 0, maxUs: 0 };
  return {
    seed,
    virtualUs,
    icounts: { primary: server?.machine.icount ?? 0, backup: backup?.machine.icount ?? 0 },
    vms: hosts.map((h) => ({ name: h.name, role: h.role, icount: h.machine.icount })),
    entriesSent: sum((s) => s.entriesSent),
    logBytesSent: sum((s) => s.bytesSent),
    resends: sum((s) => s.resends),
    outputStalls: p?.stalls ?? none,
    blockedStalls: p?.blockedStalls ?? none,
    maxLagUs: r.maxLagUs,
    maxLagMeasuredUs: Math.max(0, ...stats.map((s) => s.maxLagUs)),
    maxCatchUpUs: r.maxCatchUpUs,
    cpuShareFinal: p?.cpuShare ?? 1,
    cpuShareMin: r.shareMin,
    cpuShareMean: r.shareMean,
    hashesChecked: r.hashesChecked,
    suppressed: r.suppressed,
    released: r.released,
    clientOps: r.clientOps,
    messagesLost: r.messagesLost,
    failovers: [...r.failovers],
    tasCalls: r.tasCalls,
    tasWinners: [...r.tasWinners],
    reissued: r.reissued,
    duplicatesDropped: r.duplicatesDropped,
    sync: d ? 'diverged' : 'in-sync',
    divergence: d ? `at icount ${d.icount}: ${d.reason}` : null,
  };
}
