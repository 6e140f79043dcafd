/**
 * What the hypervisor's protocol steps return (STYLE.md 5): messages to send and things that
 * happened, as plain data. The host (the simulator, or a worker in src/runtime) carries out the
 * sends; the trace and the UI draw all of them.
 */
import type { MachineOutput } from '../machine/types';
import type { LogAck, LogEntry } from './log';

export type Role = 'primary' | 'backup' | 'live' | 'halted' | 'crashed';

export type FtEffect =
  /** Primary → backup on the logging channel: one encoded batch (and its entries, for drawing). */
  | { kind: 'send-log'; bytes: ArrayBuffer; entries: LogEntry[] }
  /** Backup → primary on the logging channel. */
  | { kind: 'send-ack'; ack: LogAck }
  /** An output the Output Rule holds until the backup acknowledges the log up to its icount. */
  | { kind: 'output-held'; out: MachineOutput }
  /**
   * An output leaves the VM: the host sends the packet / prints the text / issues the disk request
   * to the disk server. `heldUs` is how long it waited; `held`: it waited for an ack (false for
   * disk reads and with the Output Rule switched off).
   */
  | { kind: 'release-output'; out: MachineOutput; heldUs: number; held: boolean }
  /** Backup: an output discarded, as FT does on the backup. */
  | { kind: 'output-suppressed'; out: MachineOutput }
  /** Backup: an entry's event delivered (nondet entries are consumed by reads, not listed). */
  | { kind: 'entry-applied'; entry: LogEntry }
  /** Primary: flow control stopped (full) or resumed (drained) execution. */
  | { kind: 'log-full'; inflightBytes: number }
  | { kind: 'log-drained'; stalledUs: number }
  /** Primary: throttling changed the CPU share. */
  | { kind: 'cpu-share'; share: number; lagUs: number }
  /** Backup: a hash entry matched. */
  | { kind: 'hash-ok'; icount: number; hash: string }
  /** Backup: the first divergence (hash mismatch, nondet read out of step, guest stopped early). */
  | { kind: 'divergence'; icount: number; reason: string };

/** One held output's life: produced at `icount`, held from `heldAtUs` until `releasedAtUs`. */
export interface OutputStall {
  icount: number;
  outKind: MachineOutput['kind'];
  heldAtUs: number;
  releasedAtUs: number;
}

export interface StallSummary {
  count: number;
  medianUs: number;
  maxUs: number;
}

export function summarizeDurations(durationsUs: readonly number[]): StallSummary {
  if (durationsUs.length === 0) return { count: 0, medianUs: 0, maxUs: 0 };
  const sorted = [...durationsUs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const medianUs = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { count: sorted.length, medianUs, maxUs: sorted[sorted.length - 1] };
}
