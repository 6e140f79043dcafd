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
import type { GuestMachine } from '../machine/types';
import { PrimaryHypervisor, type PrimaryOptions, type RandomSource } from './primary';
import { BackupHypervisor } from './backup';
import type { FtEffect, Role } from './effects';
import { resolveFtSettings, type FtSettings } from './settings';
import type { HostCore, HostPacing, HostResult, HostState, HostView, VmHostConfig, VmHostSnapshot } from './host-types';
import {
  ChannelError, validateFrame, validateLoggingMsg, type ChannelName, type HostDiskReply,
  type LoggingMsg, type SnapshotMsg,
} from './channels';
import { LogFormatError, type BatchBuffers } from './log';
import { Failover } from './failover';
import { RealClockPacing } from './pacing';

export type { HostPacing, HostResult, HostState, HostView, VmHostConfig, VmHostSnapshot } from './host-types';
export { outbound } from './outbound';

/** Weight of the newest slice in the backup's replay-speed estimate. */
const REPLAY_IPS_WEIGHT = 0.2;
/** FT VMotion's pre-copy: pages copied per step (1 MiB), and the host time between steps. */
const PRECOPY_PAGES = 256;
const PRECOPY_EVERY_US = 200;

export class VmHost {
  readonly settings: FtSettings;
  readonly machine: GuestMachine;
  private core: HostCore;
  private primary: PrimaryHypervisor | null = null;
  private backup: BackupHypervisor | null = null;
  private pacing: HostPacing;
  private readonly rng: RandomSource;
  private readonly failover: Failover;

  constructor(cfg: VmHostConfig) {
    this.settings = resolveFtSettings(cfg.settings);
    this.machine = cfg.machine;
    this.pacing = cfg.pacing;
    this.rng = cfg.rng;
    if (!(cfg.pacing.sliceInstructions >= 1)) throw new Error(`host ${cfg.name}: slice of ${cfg.pacing.sliceInstructions} instructions`);
    const startUs = cfg.startUs ?? 0;
    this.core = {
      name: cfg.name, role: cfg.role, state: cfg.role === 'primary' ? 'running' : 'waiting', slice: null, nextSliceUs: startUs,
      heartbeatDueUs: startUs, peerIcount: null, awaitingSnapshot: cfg.awaitSnapshot === true, vmotion: null,
      arrivedDuringSlice: false, replayIps: 0, stopReason: null, pause: 'no',
    };
    this.failover = new Failover(this.settings, cfg.peer, cfg.epoch ?? 0, startUs);
    if (cfg.role === 'primary') this.primary = this.makePrimary({ alone: cfg.peer === null });
    else if (!this.core.awaitingSnapshot) this.startBackup();
  }

  private makePrimary(opts: PrimaryOptions): PrimaryHypervisor {
    const p = new PrimaryHypervisor(this.machine, this.rng, this.settings, opts);
    this.clockPrimary(p);
    p.logBuffers = this.logBuffers;
    return p;
  }

  private logBuffers: BatchBuffers | null = null;

  /**
   * Log batches encoded into `pool`'s spent buffers, now and as primary after any change of role:
   * where the logging channel crosses threads a batch's buffer is handed over and comes back
   * (src/runtime/node-server.ts). Buffers only; what is sent is the same.
   */
  useLogBuffers(pool: BatchBuffers): void {
    this.logBuffers = pool;
    if (this.primary) this.primary.logBuffers = pool;
  }

  /** A primary on a real clock reads the guest's time from it, and sizes slices by its measured speed. */
  private clockPrimary(p: PrimaryHypervisor): void {
    const pacing = this.pacing;
    if (pacing.now && pacing.ips) p.useRealClock({ now: () => (pacing.now as () => number)(), ips: () => (pacing.ips as () => number)() });
  }

  /**
   * Free run: from now on the host runs on `clock` (µs), as a real host does — a slice lasts as long
   * as it really ran, slices are sized from the measured speed to last what the model's did, and a
   * primary's guest reads its time from the clock. `relativeSpeed` (≤ 1): this host's model speed
   * over the primary's — a slow backup stays as slow, against the clock. Not reproducible; the
   * simulator never calls it.
   */
  useRealClock(clock: () => number, relativeSpeed = 1): void {
    if (this.pacing instanceof RealClockPacing) return;
    const model = this.pacing;
    this.pacing = new RealClockPacing(clock, (model.sliceInstructions * 1e6) / model.nominalIps, model.nominalIps, relativeSpeed);
    if (this.primary) this.clockPrimary(this.primary);
  }

  private startBackup(): void {
    this.backup = new BackupHypervisor(this.machine, this.settings, this.rng);
    this.backup.setReplayIps(this.core.replayIps > 0 ? this.core.replayIps : this.pacing.nominalIps);
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

  /**
   * A message arrived on `channel` (from `from`, when the transport knows). Validated first: a
   * malformed one, or a logging message from a VM that is not this one's peer, changes nothing.
   * A crashed or halted host takes nothing.
   */
  receive(channel: ChannelName, raw: unknown, nowUs: number, from?: string): HostResult {
    if (this.core.role === 'crashed' || this.core.role === 'halted') return { effects: [], wakeUs: null };
    let fx: FtEffect[];
    try {
      if (channel === 'log' && from !== undefined && from !== this.failover.peer) throw new ChannelError(`logging message from ${from}, which is not this VM's peer`);
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

  private onLogging(msg: LoggingMsg, nowUs: number): FtEffect[] {
    if (this.failover.peer === null) throw new ChannelError(`a ${this.core.role} with no peer takes no logging messages`);
    this.failover.heard(nowUs);
    if (msg.type === 'snapshot') return this.onSnapshot(msg, nowUs);
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
    if (reply.kind === 'tas-reply') return this.onTasReply(reply, nowUs);
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
    if (c.role === 'crashed' || c.role === 'halted') return { effects: fx, wakeUs: null };
    if (c.slice && nowUs >= c.slice.endUs) {
      fx.push(...c.slice.effects);
      c.slice = null;
      if (c.arrivedDuringSlice && (c.state === 'idle' || c.state === 'waiting')) c.state = 'running';
    }
    this.failoverStep(nowUs, fx);
    if (this.role === 'halted') return { effects: fx, wakeUs: null };
    if (!c.slice && c.vmotion && this.precopied(nowUs)) fx.push(...this.sendSnapshot(c.vmotion.peer, c.vmotion.epoch, nowUs));
    if (nowUs >= c.heartbeatDueUs && this.paired) {
      fx.push({ ev: 'heartbeat-sent', hb: { type: 'heartbeat', icount: this.machine.icount, sentUs: nowUs } });
      c.heartbeatDueUs = nowUs + this.settings.heartbeatIntervalUs;
    } else if (nowUs >= c.heartbeatDueUs && c.role === 'live') {
      fx.push({ ev: 'announce' });
      c.heartbeatDueUs = nowUs + this.settings.announceIntervalUs;
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
    if (res.retired > 0) this.measureReplay(b, res.retired, nowUs);
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
    const endUs = nowUs + this.pacing.sliceUs(retired, nowUs) / share;
    c.nextSliceUs = endUs;
    if (endUs <= nowUs) return effects;
    c.slice = { endUs, effects };
    // Something that arrived while the slice ran is seen when it ends.
    return [];
  }

  private measureReplay(b: BackupHypervisor, retired: number, startUs: number): void {
    const ips0 = this.pacing.ips?.();
    if (ips0 !== undefined) {
      // A real clock measures the speed itself (over the slices that end with endSlice).
      this.core.replayIps = ips0;
      b.setReplayIps(ips0);
      return;
    }
    const us = this.pacing.sliceUs(retired, startUs);
    if (!(us > 0)) return;
    const ips = (retired * 1e6) / us;
    const c = this.core;
    c.replayIps = c.replayIps === 0 ? ips : c.replayIps + REPLAY_IPS_WEIGHT * (ips - c.replayIps);
    b.setReplayIps(c.replayIps);
  }

  /** Whether this host has a peer it sends heartbeats to and watches. */
  private get paired(): boolean {
    return this.failover.peer !== null && this.failover.phase === 'paired' && (this.core.role === 'primary' || this.core.role === 'backup');
  }

  /** When the host next wants `step`, or null if only an arrival can wake it. */
  nextWakeUs(): number | null {
    const c = this.core;
    if (c.role === 'crashed' || c.role === 'halted') return null;
    // A backup replaying before it asks: as soon as its replay stops, the next step asks.
    const replayDone = this.failover.phase === 'replaying' && !c.slice && c.state !== 'running';
    const fo = replayDone ? c.nextSliceUs : this.failover.nextDueUs();
    const beat = this.paired || c.role === 'live' ? c.heartbeatDueUs : null;
    // A guest that stopped (exit, fault) leaves its host alive: it goes on heartbeating, so a pair
    // whose guest stopped on both at the same instruction stays a pair. A backup that diverged
    // goes quiet: useless as a backup, it lets its primary go on alone.
    if (c.state === 'stopped' && !c.slice) return this.backup?.divergence ? fo : earliest(beat, fo);
    const due = this.primary ? this.primary.nextDueUs() : this.backup ? this.backup.nextDueUs() : null;
    const run = c.slice ? c.slice.endUs
      : c.pause !== 'no' ? null
        : c.state === 'running' ? c.nextSliceUs
          : c.state === 'idle' && this.primary ? this.primary.nextDeadlineUs() : null;
    const copy = c.vmotion && !c.slice ? c.vmotion.dueUs : null;
    return earliest(earliest(earliest(earliest(beat, due), run), fo), copy);
  }

  // ── failure, go-live, FT VMotion ─────────────────────────────────────────────────────────────

  /**
   * Not fail-stop: one bit of the guest's RAM flips (a cosmic ray) and the host goes on. Nothing is
   * logged, so the peer never learns of it — until a hash entry compares the states.
   */
  flipRamBit(addr: number, bit = 0): void {
    if (!this.machine.flipRamBit) throw new Error(`${this.core.name}'s machine cannot flip RAM bits`);
    this.machine.flipRamBit(addr, bit);
  }

  /** Fail-stop: the host does nothing more, and a slice in progress never lets its effects out. */
  kill(): void {
    const c = this.core;
    c.role = 'crashed';
    c.state = 'stopped';
    c.slice = null;
    c.stopReason = 'killed';
  }

  /**
   * Detection and the steps after it (failover.ts): a suspected peer starts the road to going
   * live; a backup first replays all it holds; an unanswered test-and-set is asked again.
   */
  private failoverStep(nowUs: number, fx: FtEffect[]): void {
    const f = this.failover;
    const c = this.core;
    if ((c.role === 'primary' || c.role === 'backup') && f.suspect(nowUs)) {
      fx.push({ ev: 'failure-suspected', peer: f.peer ?? '', silentUs: nowUs - f.lastHeardUs });
      if (c.role === 'primary') return this.askTas(nowUs, fx);
      if (!this.backup) return this.halt('no state to go live with: the snapshot never arrived', fx);
      f.startReplay();
      if (c.state === 'waiting') c.state = 'running';
    }
    if (f.phase === 'replaying' && !c.slice && c.state !== 'running') {
      fx.push({ ev: 'replay-finished', icount: this.machine.icount, replayUs: nowUs - (f.suspectedUs ?? nowUs) });
      return this.askTas(nowUs, fx);
    }
    if (f.askAgain(nowUs)) this.askTas(nowUs, fx);
  }

  private askTas(nowUs: number, fx: FtEffect[]): void {
    const attempt = this.failover.ask(nowUs);
    if (!this.settings.testAndSet) {
      // "Break it": go on without asking anyone — the split brain test-and-set exists to prevent.
      fx.push(...this.onTasReply({ kind: 'tas-reply', vm: this.name, epoch: this.failover.epoch, won: true, holder: this.name, reason: 'set' }, nowUs));
      return;
    }
    fx.push({ ev: 'tas-requested', epoch: this.failover.epoch, attempt });
  }

  /** The disk server decided: won, this VM serves alone; lost (or a stale epoch), it halts. */
  private onTasReply(reply: Extract<HostDiskReply, { kind: 'tas-reply' }>, nowUs: number): FtEffect[] {
    if (!this.failover.answered()) return [];
    const fx: FtEffect[] = [{ ev: 'tas-answered', won: reply.won, holder: reply.holder, reason: reply.reason }];
    if (!reply.won) this.halt(`lost test-and-set (${reply.reason}; held by ${reply.holder ?? 'nobody'})`, fx);
    else if (this.backup) this.backupGoesLive(this.backup, nowUs, fx);
    else if (this.primary) this.primaryGoesAlone(this.primary, nowUs, fx);
    return fx;
  }

  /**
   * A backup that won: it leaves replay — its nondet reads come from its own clock and RNG (after
   * the one the log still held, if the guest had not reached it), its output is released, and every
   * disk request with no logged completion is issued again.
   */
  private backupGoesLive(b: BackupHypervisor, nowUs: number, fx: FtEffect[]): void {
    const handedOver = b.handOver();
    this.backup = null;
    const p = this.makePrimary({ alone: true, handedOver });
    this.primary = p;
    const again = p.reissue(this.machine.pendingDiskRequests());
    this.becomeLive(nowUs, again.length, fx);
    fx.push(...again);
  }

  /** A primary that won: its backup is gone, so held output leaves now and nothing is logged. */
  private primaryGoesAlone(p: PrimaryHypervisor, nowUs: number, fx: FtEffect[]): void {
    this.becomeLive(nowUs, 0, fx);
    fx.push(...p.goAlone(nowUs));
  }

  private becomeLive(nowUs: number, reissued: number, fx: FtEffect[]): void {
    const c = this.core;
    c.role = 'live';
    this.failover.alone();
    if (c.state !== 'stopped') this.wakeNow(nowUs);
    c.heartbeatDueUs = nowUs + this.settings.announceIntervalUs; // went-live is the first announce
    fx.push({ ev: 'went-live', icount: this.machine.icount, reissued });
  }

  private halt(reason: string, fx: FtEffect[]): void {
    const c = this.core;
    c.role = 'halted';
    c.state = 'stopped';
    c.slice = null;
    c.stopReason = reason;
    this.failover.alone();
    fx.push({ ev: 'halted', reason });
  }

  /**
   * FT VMotion (docs/design.md §4.10): a VM serving alone starts a new backup `peer`. At the next
   * slice boundary it sends its machine's state over the new logging channel and logs from there
   * with a new sequence; `epoch` is the new pair's test-and-set epoch.
   */
  startVMotion(peer: string, epoch: number, nowUs: number): HostResult {
    if (this.core.role !== 'live' || !this.primary) throw new Error(`VM ${this.name} is ${this.core.role}: only a VM serving alone starts a new backup`);
    this.core.vmotion = { peer, epoch, copiedPages: 0, dueUs: nowUs };
    return this.step(nowUs);
  }

  /**
   * One step of FT VMotion's pre-copy (paper §3.1, after VMotion's): the next PRECOPY_PAGES of RAM
   * are copied while the guest runs on, one chunk every PRECOPY_EVERY_US; true once all are, when
   * the snapshot goes out with only the pages written since copied left to copy in the pause.
   * The progress is the host's own state, so a run restored mid-copy goes on as the original did.
   */
  private precopied(nowUs: number): boolean {
    const v = this.core.vmotion as NonNullable<HostCore['vmotion']>;
    const pages = this.machine.ramPages ?? 0;
    if (!this.machine.precopySnapshot || v.copiedPages >= pages) return true;
    if (nowUs < v.dueUs) return false;
    this.machine.precopySnapshot(v.copiedPages, PRECOPY_PAGES);
    v.copiedPages = Math.min(pages, v.copiedPages + PRECOPY_PAGES);
    v.dueUs = nowUs + PRECOPY_EVERY_US;
    return false;
  }

  private sendSnapshot(peer: string, epoch: number, nowUs: number): FtEffect[] {
    const p = this.primary as PrimaryHypervisor;
    this.core.vmotion = null;
    const snapshot = this.machine.snapshot({ precopied: true });
    p.pairAnew();
    this.core.role = 'primary';
    this.core.heartbeatDueUs = nowUs;
    this.failover.pairWith(peer, epoch, nowUs);
    return [{ ev: 'snapshot-sent', peer, icount: snapshot.icount, epoch, snapshot }];
  }

  /** The new backup takes the primary's state: it replays from that icount on. */
  private onSnapshot(msg: SnapshotMsg, nowUs: number): FtEffect[] {
    if (!this.core.awaitingSnapshot) throw new ChannelError('a snapshot arrived, but this VM is not waiting for one');
    try {
      this.machine.restore(msg.machine);
    } catch (err) {
      throw new ChannelError(`snapshot does not fit this machine: ${(err as Error).message}`);
    }
    this.core.awaitingSnapshot = false;
    this.failover.epoch = msg.epoch;
    this.startBackup();
    this.core.heartbeatDueUs = nowUs;
    return [{ ev: 'snapshot-restored', icount: this.machine.icount }];
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
  get lastHeardUs(): number {
    return this.failover.lastHeardUs;
  }
  get peer(): string | null {
    return this.failover.peer;
  }
  get epoch(): number {
    return this.failover.epoch;
  }
  /** Where the road to going live stands: paired, replaying, asking, done. */
  get failoverPhase(): string {
    return this.failover.phase;
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

  view(): HostView {
    const p = this.primary;
    const b = this.backup;
    const f = p?.viewFigures();
    return {
      stallCount: f?.stallCount ?? 0, stallMaxUs: f?.stallMaxUs ?? 0, entriesSent: f?.entriesSent ?? 0, bytesSent: f?.bytesSent ?? 0,
      name: this.core.name, role: this.core.role, state: this.core.state, paused: this.paused, peer: this.failover.peer,
      icount: this.machine.icount, pc: this.machine.pc, cpuShare: p?.cpuShare ?? 1, oldestHeldSinceUs: p?.oldestHeldSinceUs() ?? null,
      backupReady: b !== null, lastReceivedIcount: b?.lastReceivedIcount ?? this.machine.icount,
      logQueueEntries: p ? p.lastSentSeq - p.ackedSeq : b ? b.bufferedEntries : 0,
      logQueueBytes: p ? p.inflightBytes : 0,
      lagUs: p ? p.lagUs() : 0, heldCount: p?.heldCount ?? 0,
      suppressed: b?.suppressedCount ?? 0, hashesChecked: b?.hashesChecked ?? 0, divergence: b?.divergence ?? null,
    };
  }

  snapshot(): VmHostSnapshot {
    const hyper = this.primary
      ? { role: 'primary' as const, state: this.primary.snapshot() }
      : this.backup ? { role: 'backup' as const, state: this.backup.snapshot() } : null;
    return {
      core: structuredClone(this.core), failover: this.failover.snapshot(), hyper, machine: this.machine.snapshot({ sparse: true }),
      rng: this.rng.snapshot?.(), pacing: this.pacing.snapshot?.(),
    };
  }

  /**
   * Takes a snapshot's state whole (time travel: a cluster restored at a window boundary). The host
   * must be built with the same name, settings, pacing and RNG stream as the one snapshotted.
   */
  restore(s: VmHostSnapshot): void {
    this.machine.restore(s.machine);
    this.core = structuredClone(s.core);
    this.failover.restore(s.failover);
    this.primary = null;
    this.backup = null;
    if (s.hyper?.role === 'primary') {
      this.primary = this.makePrimary({});
      this.primary.restore(s.hyper.state);
    } else if (s.hyper?.role === 'backup') {
      this.backup = new BackupHypervisor(this.machine, this.settings, this.rng);
      this.backup.restore(s.hyper.state);
    }
    if (s.rng !== undefined) this.rng.restore?.(s.rng as never);
    if (s.pacing !== undefined) this.pacing.restore?.(s.pacing as never);
  }
}

function earliest(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : Math.min(a, b);
}

