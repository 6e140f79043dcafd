/**
 * A VM host: one physical host of the paper's picture (docs/design.md §1) — a guest machine, its
 * role as data, the hypervisor for that role, and every decision about when the guest runs: slices
 * of host time, idle until the timer deadline, blocked on flow control, waiting for log, woken by
 * an arrival, spread out to the CPU share that throttling allows.
 *
 * Transport-free and clock-free. It is driven only by
 *   `receive(channel, message, nowUs)` — a message arrived on one of its channels (validated here),
 *   `step(nowUs)`                      — time has come to `nowUs`: run what is due,
 * each returning the effects (events, some of them messages: `outbound`) and the next time the host
 * wants to be stepped. The simulator (src/sim) runs N hosts over in-memory links in virtual time;
 * a vm worker (src/runtime) runs one over MessagePorts. Neither has a copy of this logic.
 *
 * Host time: a slice that retires N instructions takes `pacing.sliceUs(N)` of host time (the
 * simulator's model of a host's speed; a worker's measured time); its effects leave when it ends,
 * and with a CPU share s < 1 the next slice starts only after sliceUs / s.
 */
import type { GuestMachine, MachineSnapshot } from '../machine/types';
import { PrimaryHypervisor, type PrimaryState, type RandomSource } from './primary';
import { BackupHypervisor, type BackupState } from './backup';
import type { FtEffect, Role } from './effects';
import { resolveFtSettings, type FtSettings } from './settings';
import {
  ChannelError, validateFrame, validateLoggingMsg, type ChannelMsg, type ChannelName, type HostDiskReply, type HostDiskRequest,
} from './channels';
import { LogFormatError } from './log';

/** What the host is doing: the UI shows it, the simulator's liveness check reads it. */
export type HostState = 'running' | 'idle' | 'blocked' | 'waiting' | 'stopped';

/** How long slices take on this host. */
export interface HostPacing {
  /** Instructions per slice: how much the host runs between looks at arrivals and timers. */
  sliceInstructions: number;
  /** Host time in µs that a slice retiring `retired` instructions took. */
  sliceUs(retired: number): number;
  /** The host's nominal speed (instructions per second): a backup reports it until it has measured its own. */
  nominalIps: number;
}

export interface VmHostConfig {
  name: string;
  role: 'primary' | 'backup';
  machine: GuestMachine;
  /** The guest's hardware RNG (used while the host runs the guest for real: as primary). */
  rng: RandomSource;
  settings?: Partial<FtSettings>;
  pacing: HostPacing;
}

export interface HostResult {
  effects: FtEffect[];
  /** When the host wants `step` next (µs), or null: only an arrival can wake it. */
  wakeUs: number | null;
}

interface RunningSlice {
  endUs: number;
  effects: FtEffect[];
}

interface HostCore {
  name: string;
  role: Role;
  state: HostState;
  slice: RunningSlice | null;
  nextSliceUs: number;
  heartbeatDueUs: number;
  lastHeardUs: number | null;
  peerIcount: number | null;
  arrivedDuringSlice: boolean;
  replayIps: number;
  stopReason: string | null;
  /** pause(): no more slices; 'requested' until the running slice ends and the checkpoint is sent. */
  pause: 'no' | 'requested' | 'paused';
}

export interface VmHostSnapshot {
  core: HostCore;
  hyper: { role: 'primary'; state: PrimaryState } | { role: 'backup'; state: BackupState };
  machine: MachineSnapshot;
}

/** Weight of the newest slice in the backup's replay-speed estimate. */
const REPLAY_IPS_WEIGHT = 0.2;

export class VmHost {
  readonly settings: FtSettings;
  readonly machine: GuestMachine;
  private core: HostCore;
  private primary: PrimaryHypervisor | null = null;
  private backup: BackupHypervisor | null = null;
  private readonly pacing: HostPacing;

  constructor(cfg: VmHostConfig) {
    this.settings = resolveFtSettings(cfg.settings);
    this.machine = cfg.machine;
    this.pacing = cfg.pacing;
    if (!(cfg.pacing.sliceInstructions >= 1)) throw new Error(`host ${cfg.name}: slice of ${cfg.pacing.sliceInstructions} instructions`);
    this.core = {
      name: cfg.name, role: cfg.role, state: cfg.role === 'primary' ? 'running' : 'waiting', slice: null, nextSliceUs: 0,
      heartbeatDueUs: 0, lastHeardUs: null, peerIcount: null, arrivedDuringSlice: false, replayIps: 0, stopReason: null,
      pause: 'no',
    };
    if (cfg.role === 'primary') this.primary = new PrimaryHypervisor(cfg.machine, cfg.rng, this.settings);
    else {
      this.backup = new BackupHypervisor(cfg.machine, this.settings);
      this.backup.setReplayIps(cfg.pacing.nominalIps);
    }
  }

  get name(): string {
    return this.core.name;
  }
  get role(): Role {
    return this.core.role;
  }
  get state(): HostState {
    return this.core.state;
  }

  // ── arrivals ──────────────────────────────────────────────────────────────────────────────────

  /** A message arrived on `channel`. Validated first: a malformed one changes nothing. */
  receive(channel: ChannelName, raw: unknown, nowUs: number): HostResult {
    let fx: FtEffect[];
    try {
      fx = this.dispatch(channel, raw, nowUs);
    } catch (err) {
      if (!(err instanceof ChannelError || err instanceof LogFormatError)) throw err;
      fx = [{ ev: 'message-rejected', channel, error: err.message }];
    }
    return { effects: fx, wakeUs: this.nextWakeUs() };
  }

  private dispatch(channel: ChannelName, raw: unknown, nowUs: number): FtEffect[] {
    switch (channel) {
      case 'log':
        return this.onLogging(validateLoggingMsg(raw), nowUs);
      case 'net':
        return this.onFrame(validateFrame(raw), nowUs);
      case 'disk':
        return this.onDisk(raw as HostDiskReply, nowUs);
    }
  }

  private onLogging(msg: ReturnType<typeof validateLoggingMsg>, nowUs: number): FtEffect[] {
    this.core.lastHeardUs = nowUs;
    if (msg.type === 'heartbeat') {
      this.core.peerIcount = msg.icount;
      return [];
    }
    if (this.primary && (msg.type === 'ack' || msg.type === 'resend')) {
      const fx = this.primary.onLoggingMsg(msg, nowUs);
      if (this.core.state === 'blocked' && !this.primary.blocked) this.wakeNow(nowUs);
      return fx;
    }
    if (this.backup && msg.type === 'log') {
      const fx = this.backup.onLoggingMsg(msg, nowUs);
      if (this.core.slice) this.core.arrivedDuringSlice = true;
      else if (this.core.state === 'waiting') this.wakeNow(nowUs);
      return fx;
    }
    throw new ChannelError(`a ${this.core.role} does not take '${msg.type}' messages`);
  }

  private onFrame(bytes: Uint8Array, nowUs: number): FtEffect[] {
    if (!this.primary) return [{ ev: 'packet-dropped', reason: `a ${this.core.role} takes no packets` }];
    this.primary.onPacket(bytes);
    this.wakeIfIdle(nowUs);
    return [];
  }

  private onDisk(reply: HostDiskReply, nowUs: number): FtEffect[] {
    if (!this.primary) throw new ChannelError(`a ${this.core.role} has no disk requests out`);
    switch (reply.kind) {
      case 'disk-read-ok':
        this.primary.onDiskDone(reply.id, reply.data);
        break;
      case 'disk-write-ok':
        this.primary.onDiskDone(reply.id);
        break;
      case 'disk-error':
        this.primary.onDiskDone(reply.id, undefined, true);
        break;
      case 'tas-reply':
        throw new ChannelError('no test-and-set is outstanding');
    }
    this.wakeIfIdle(nowUs);
    return [];
  }

  private wakeIfIdle(nowUs: number): void {
    if (this.core.slice) this.core.arrivedDuringSlice = true;
    else if (this.core.state === 'idle') this.wakeNow(nowUs);
  }

  private wakeNow(nowUs: number): void {
    this.core.state = 'running';
    this.core.nextSliceUs = Math.min(this.core.nextSliceUs, nowUs);
  }

  // ── time ──────────────────────────────────────────────────────────────────────────────────────

  /** Time has come to `nowUs`: a slice that ended lets its effects out, timers fire, a slice runs. */
  step(nowUs: number): HostResult {
    const fx: FtEffect[] = [];
    const c = this.core;
    if (c.slice && nowUs >= c.slice.endUs) {
      fx.push(...c.slice.effects);
      c.slice = null;
      if (c.arrivedDuringSlice && (c.state === 'idle' || c.state === 'waiting')) c.state = 'running';
    }
    if (nowUs >= c.heartbeatDueUs && c.state !== 'stopped') {
      fx.push({ ev: 'heartbeat-sent', hb: { type: 'heartbeat', icount: this.machine.icount, sentUs: nowUs } });
      c.heartbeatDueUs = nowUs + this.settings.heartbeatIntervalUs;
    }
    fx.push(...(this.primary ? this.primary.due(nowUs) : this.backup ? this.backup.due(nowUs) : []));
    if (!c.slice && c.state === 'idle' && this.primary) {
      const d = this.primary.nextDeadlineUs();
      if (d !== null && d <= nowUs) c.state = 'running';
    }
    if (!c.slice && c.pause === 'requested') {
      c.pause = 'paused';
      if (this.primary) fx.push(...this.primary.checkpoint(nowUs));
    }
    if (!c.slice && c.pause === 'no' && c.state === 'running' && nowUs >= c.nextSliceUs) fx.push(...this.runSlice(nowUs));
    return { effects: fx, wakeUs: this.nextWakeUs() };
  }

  /**
   * Stops running the guest (the host still answers messages, resends and heartbeats). A primary
   * then sends a full-state hash at its icount, so the backup can replay to exactly there and
   * compare whole states: how the simulator ends a run.
   */
  pause(nowUs: number): HostResult {
    if (this.core.pause === 'no') this.core.pause = 'requested';
    return this.step(nowUs);
  }

  get paused(): boolean {
    return this.core.pause === 'paused';
  }

  private runSlice(nowUs: number): FtEffect[] {
    return this.primary ? this.primarySlice(this.primary, nowUs) : this.backup ? this.backupSlice(this.backup, nowUs) : [];
  }

  private primarySlice(p: PrimaryHypervisor, nowUs: number): FtEffect[] {
    const c = this.core;
    c.arrivedDuringSlice = false;
    const res = p.step(nowUs, this.pacing.sliceInstructions);
    if (res.reason === 'exit' || res.reason === 'fault') {
      c.stopReason = `${res.reason}${res.detail ? `: ${res.detail}` : ''}`;
      res.effects.push({ ev: 'guest-stopped', reason: res.reason, detail: res.detail ?? '' });
    }
    const next: HostState = res.reason === 'blocked' ? 'blocked'
      : res.reason === 'exit' || res.reason === 'fault' ? 'stopped'
        : res.reason === 'wfi' && !p.hasPendingEvents() ? 'idle' : 'running';
    return this.endSlice(res.retired, p.cpuShare, res.effects, next, nowUs);
  }

  private backupSlice(b: BackupHypervisor, nowUs: number): FtEffect[] {
    const c = this.core;
    c.arrivedDuringSlice = false;
    const res = b.step(this.pacing.sliceInstructions, nowUs);
    const next: HostState = b.divergence ? 'stopped' : res.waiting ? 'waiting' : 'running';
    if (res.retired > 0) this.measureReplay(b, res.retired);
    return this.endSlice(res.retired, 1, res.effects, next, nowUs);
  }

  /** A slice that ran takes host time: its effects wait for its end. One that did not, none. */
  private endSlice(retired: number, share: number, effects: FtEffect[], next: HostState, nowUs: number): FtEffect[] {
    const c = this.core;
    c.state = next;
    if (retired === 0) {
      c.nextSliceUs = nowUs;
      return effects;
    }
    const endUs = nowUs + this.pacing.sliceUs(retired) / share;
    c.nextSliceUs = endUs;
    if (endUs <= nowUs) return effects;
    c.slice = { endUs, effects };
    // Something that arrived while the slice ran is seen when it ends.
    return [];
  }

  private measureReplay(b: BackupHypervisor, retired: number): void {
    const us = this.pacing.sliceUs(retired);
    if (!(us > 0)) return;
    const ips = (retired * 1e6) / us;
    const c = this.core;
    c.replayIps = c.replayIps === 0 ? ips : c.replayIps + REPLAY_IPS_WEIGHT * (ips - c.replayIps);
    b.setReplayIps(c.replayIps);
  }

  /** When the host next wants `step`, or null if only an arrival can wake it. */
  nextWakeUs(): number | null {
    const c = this.core;
    if (c.state === 'stopped' && !c.slice) return null;
    const due = this.primary ? this.primary.nextDueUs() : this.backup ? this.backup.nextDueUs() : null;
    const run = c.slice ? c.slice.endUs
      : c.pause !== 'no' ? null
        : c.state === 'running' ? c.nextSliceUs
          : c.state === 'idle' && this.primary ? this.primary.nextDeadlineUs() : null;
    return earliest(earliest(c.heartbeatDueUs, due), run) as number;
  }

  // ── observation ───────────────────────────────────────────────────────────────────────────────

  /** The primary's hypervisor, while this host is primary. */
  get primaryHypervisor(): PrimaryHypervisor | null {
    return this.primary;
  }
  /** The backup's hypervisor, while this host is backup. */
  get backupHypervisor(): BackupHypervisor | null {
    return this.backup;
  }
  get lastHeardUs(): number | null {
    return this.core.lastHeardUs;
  }
  get peerIcount(): number | null {
    return this.core.peerIcount;
  }
  get replayIps(): number {
    return this.core.replayIps;
  }
  get stopReason(): string | null {
    return this.core.stopReason;
  }
  /** Whether a slice is in progress (its effects not yet out). */
  get busy(): boolean {
    return this.core.slice !== null;
  }

  snapshot(): VmHostSnapshot {
    const hyper = this.primary
      ? { role: 'primary' as const, state: this.primary.snapshot() }
      : { role: 'backup' as const, state: (this.backup as BackupHypervisor).snapshot() };
    return { core: structuredClone(this.core), hyper, machine: this.machine.snapshot() };
  }
}

function earliest(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : Math.min(a, b);
}

/** The message an effect puts on a channel, if it is one (the rest are events only). */
export function outbound(vm: string, e: FtEffect): ChannelMsg | null {
  switch (e.ev) {
    case 'log-sent':
      return { channel: 'log', msg: { type: 'log', bytes: e.bytes } };
    case 'ack-sent':
      return { channel: 'log', msg: e.ack };
    case 'resend-requested':
      return { channel: 'log', msg: { type: 'resend', fromSeq: e.fromSeq } };
    case 'heartbeat-sent':
      return { channel: 'log', msg: e.hb };
    case 'output-released':
      if (e.out.kind === 'net-tx') return { channel: 'net', msg: e.out.bytes };
      if (e.out.kind === 'disk') return { channel: 'disk', msg: diskRequestOf(vm, e.out.req) };
      return null;
    default:
      return null;
  }
}

function diskRequestOf(vm: string, req: { id: number; op: 'read' | 'write'; sector: number; count: number; data?: Uint8Array }): HostDiskRequest {
  if (req.op === 'read') return { kind: 'disk-read', vm, id: req.id, sector: req.sector, count: req.count };
  return { kind: 'disk-write', vm, id: req.id, sector: req.sector, count: req.count, data: req.data ?? new Uint8Array(0) };
}
