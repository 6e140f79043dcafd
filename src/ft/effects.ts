/**
 * What the hypervisors and the VM host return (STYLE.md 5, 12): one event vocabulary. Each effect
 * is plain data; the host's transport carries out the ones that are messages (`outbound` in
 * host.ts), the simulator records every one in its trace under the same name, and the UI draws
 * them. Nothing here has a parallel name elsewhere.
 */
import type { MachineOutput, MachineSnapshot } from '../machine/types';
import type { Heartbeat, LogAck } from './channels';
import type { BlockReason } from './flow-control';
import type { LogEntry } from './log';

export type Role = 'primary' | 'backup' | 'live' | 'halted' | 'crashed';

export type FtEffect =
  /** Primary → backup: one encoded batch (and its entries, for drawing); `resent` on a resend. */
  | { ev: 'log-sent'; bytes: ArrayBuffer; first: number; last: number; entries: LogEntry[]; resent: boolean }
  /** Backup: a batch failed validation and was dropped whole (the resend brings it again). */
  | { ev: 'log-rejected'; error: string }
  /** Backup: a batch it already had (a resend, or a duplicate on the link); answered with an ack. */
  | { ev: 'log-duplicate'; first: number; last: number }
  /** Backup: a batch arrived after a gap; it is held until the missing seqs arrive. */
  | { ev: 'log-gap'; expected: number; first: number }
  /** Backup → primary: please resend from this seq. */
  | { ev: 'resend-requested'; fromSeq: number }
  /** Backup → primary: cumulative ack. */
  | { ev: 'ack-sent'; ack: LogAck }
  /**
   * Backup, bounce buffer switched off: a logged packet's or disk read's data DMA'd into guest
   * memory on arrival, at `icount`, though the entry is for `loggedIcount`.
   */
  | { ev: 'dma-early'; kind: 'net-rx' | 'disk-done'; seq: number; loggedIcount: number; icount: number }
  /** Primary: an ack arrived and was applied (before any release it causes). */
  | { ev: 'ack-received'; ack: LogAck }
  /** Either way on the logging channel: a heartbeat. */
  | { ev: 'heartbeat-sent'; hb: Heartbeat }
  /** Primary: an output the Output Rule holds until the backup acknowledges the log up to it. */
  | { ev: 'output-held'; out: MachineOutput }
  /**
   * Primary: an output leaves the VM — the packet is sent, the text printed, the disk request
   * issued. `heldUs`: how long it waited; `held`: it waited for an ack (false for disk reads by
   * default, and for everything with the Output Rule switched off).
   */
  | { ev: 'output-released'; out: MachineOutput; heldUs: number; held: boolean }
  /** Backup: an output discarded, as FT does on the backup. */
  | { ev: 'output-suppressed'; out: MachineOutput }
  /** Backup: an entry's event delivered at its icount (nondet entries are consumed by reads). */
  | { ev: 'entry-applied'; entry: LogEntry }
  /** Primary: execution stopped: the log buffer is full, or the backup's backlog reached the cap. */
  | { ev: 'blocked'; why: BlockReason; inflightBytes: number; lagUs: number }
  /** Primary: execution resumes after `stalledUs`. */
  | { ev: 'unblocked'; why: BlockReason; stalledUs: number }
  /** Primary: throttling changed the CPU share. */
  | { ev: 'cpu-share'; share: number; lagUs: number }
  /** Backup: a hash entry matched. */
  | { ev: 'hash-ok'; icount: number; hash: string }
  /** Backup: the first divergence (hash mismatch, nondet read out of step, guest stopped early). */
  | { ev: 'divergence'; icount: number; reason: string }
  /** The guest stopped for good (exit or fault). */
  | { ev: 'guest-stopped'; reason: string; detail: string }
  /** A message on one of the host's channels failed validation and changed nothing. */
  | { ev: 'message-rejected'; channel: string; error: string }
  /** The NIC refused a packet (no free receive descriptor, receiver off, oversize). */
  | { ev: 'packet-dropped'; reason: string }
  /** Nothing heard from the peer on the logging channel for `silentUs`: it is suspected to have failed. */
  | { ev: 'failure-suspected'; peer: string; silentUs: number }
  /** A backup that suspects the primary has replayed every entry it holds (output still suppressed). */
  | { ev: 'replay-finished'; icount: number; replayUs: number }
  /** Test-and-set asked of the disk server (`attempt` counts repeats while it does not answer). */
  | { ev: 'tas-requested'; epoch: number; attempt: number }
  /** The disk server's answer. */
  | { ev: 'tas-answered'; won: boolean; holder: string | null; reason: string }
  /**
   * This VM now serves alone: a backup that won test-and-set, or a primary whose backup failed.
   * The network routes the service address here; `reissued` disk requests were sent again.
   */
  | { ev: 'went-live'; icount: number; reissued: number }
  /** A VM serving alone tells the switch again that the service address is here (went-live did first). */
  | { ev: 'announce' }
  /** This VM stopped for good: lost test-and-set, or had no state to go live with. */
  | { ev: 'halted'; reason: string }
  /** FT VMotion: the machine's state at `icount` sent to the new backup `peer`. */
  | { ev: 'snapshot-sent'; peer: string; icount: number; epoch: number; snapshot: MachineSnapshot }
  /** The new backup restored the snapshot and replays from `icount`. */
  | { ev: 'snapshot-restored'; icount: number };

export type FtEv = FtEffect['ev'];
