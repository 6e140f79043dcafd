/**
 * The VM host's types (host.ts): its configuration, what its calls return, its state as data.
 */
import type { GuestMachine, MachineSnapshot } from '../machine/types';
import type { RandomSource, PrimaryState } from './primary';
import type { BackupState } from './backup';
import type { FtEffect, Role } from './effects';
import type { FtSettings } from './settings';
import type { FailoverState } from './failover';

/** What the host is doing: the UI shows it, the simulator's liveness check reads it. */
export type HostState = 'running' | 'idle' | 'blocked' | 'waiting' | 'stopped';

/** How long slices take on this host. */
export interface HostPacing {
  /** Instructions per slice: how much the host runs between looks at arrivals and timers. */
  sliceInstructions: number;
  /** Host time in µs that a slice retiring `retired` instructions, begun at `startUs`, took. */
  sliceUs(retired: number, startUs: number): number;
  /** The host's nominal speed (instructions per second): a backup reports it until it has measured its own. */
  nominalIps: number;
  /** The host's speed now, where it is measured (a real clock); the nominal speed otherwise. */
  ips?(): number;
  /** The real clock (µs), where the host runs on one: the guest's time reads take it directly. */
  now?(): number;
  /** The position of any randomness in sliceUs (the simulator's speed jitter), for a snapshot. */
  snapshot?(): unknown;
  restore?(state: never): void;
}

export interface VmHostConfig {
  name: string;
  role: 'primary' | 'backup';
  machine: GuestMachine;
  /** The guest's hardware RNG (used while the host runs the guest for real: as primary). */
  rng: RandomSource;
  settings?: Partial<FtSettings>;
  pacing: HostPacing;
  /** The other VM of the pair (null: none yet). Logging messages from anyone else are refused. */
  peer: string | null;
  /** The test-and-set epoch of this pair (the disk server's, reset by FT VMotion). */
  epoch?: number;
  /** A new backup made by FT VMotion: no state until the primary's snapshot arrives. */
  awaitSnapshot?: boolean;
  /** Host time at creation (the failure detector counts silence from here). */
  startUs?: number;
}

export interface HostResult {
  effects: FtEffect[];
  /** When the host wants `step` next (µs), or null: only an arrival can wake it. */
  wakeUs: number | null;
}

export interface RunningSlice {
  endUs: number;
  effects: FtEffect[];
}

/**
 * What the cluster's sampling and liveness checks read of a host, as plain data: the same from a
 * host in this thread (the simulator) and from one in a worker (the browser's lockstep runtime).
 */
export interface HostView {
  name: string;
  role: Role;
  state: HostState;
  paused: boolean;
  peer: string | null;
  icount: number;
  /** The guest's pc: the next instruction. */
  pc: number;
  /** Primary or serving alone: its CPU share and the age of its oldest held output. */
  cpuShare: number;
  /** When its oldest held output was held (null: none held); an age needs only the reader's clock. */
  oldestHeldSinceUs: number | null;
  /** A backup with state (a new backup has none until its snapshot arrives). */
  backupReady: boolean;
  /** Backup: the icount of the last entry it received. */
  lastReceivedIcount: number;
  /**
   * The log queue the UI draws: on a primary, entries sent and not yet acknowledged and the bytes
   * not yet replayed (flow control's count); on a backup, entries received and not yet replayed.
   */
  logQueueEntries: number;
  logQueueBytes: number;
  /** Primary: the backup's lag in backup time, as the primary measures it from acks (µs). */
  lagUs: number;
  /** Primary: outputs the Output Rule holds now. */
  heldCount: number;
  /** Primary: output-rule stalls so far (outputs that had to wait) and the longest wait. */
  stallCount: number;
  stallMaxUs: number;
  /** Primary: log entries and bytes sent so far (the logging bandwidth). */
  entriesSent: number;
  bytesSent: number;
  /** Backup: outputs suppressed, hash entries checked, and the first divergence if any. */
  suppressed: number;
  hashesChecked: number;
  divergence: { icount: number; reason: string } | null;
}

/** A view before the host has reported one (a new host), or of a host that never can (killed). */
export function blankHostView(o: Pick<HostView, 'name' | 'role' | 'state' | 'peer' | 'backupReady'>): HostView {
  return {
    ...o, paused: false, icount: 0, pc: 0, cpuShare: 1, oldestHeldSinceUs: null, lastReceivedIcount: 0,
    logQueueEntries: 0, logQueueBytes: 0, lagUs: 0, heldCount: 0, stallCount: 0, stallMaxUs: 0, entriesSent: 0, bytesSent: 0,
    suppressed: 0, hashesChecked: 0, divergence: null,
  };
}

export interface HostCore {
  name: string;
  role: Role;
  state: HostState;
  slice: RunningSlice | null;
  nextSliceUs: number;
  heartbeatDueUs: number;
  peerIcount: number | null;
  awaitingSnapshot: boolean;
  /** FT VMotion requested: RAM pre-copied so far, the next copy step; the snapshot goes at a slice boundary once all is copied. */
  vmotion: { peer: string; epoch: number; copiedPages: number; dueUs: number } | null;
  arrivedDuringSlice: boolean;
  replayIps: number;
  stopReason: string | null;
  /** pause(): no more slices; 'requested' until the running slice ends and the checkpoint is sent. */
  pause: 'no' | 'requested' | 'paused';
}

export interface VmHostSnapshot {
  core: HostCore;
  failover: FailoverState;
  hyper: { role: 'primary'; state: PrimaryState } | { role: 'backup'; state: BackupState } | null;
  machine: MachineSnapshot;
  /** The guest RNG's and the pacing's positions, when they have them. */
  rng?: unknown;
  pacing?: unknown;
}

