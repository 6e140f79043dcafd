/**
 * The simulator's trace: everything that crossed a link or changed the protocol's state, with the
 * virtual time it happened. Plain data, so two runs compare as strings (same seed + settings →
 * byte-identical trace) and the checkers in checkers.ts can read it.
 */
import type { MachineOutput } from '../machine/types';
import type { EntryKind } from '../ft/log';

export type VmName = string;
export type OutKind = MachineOutput['kind'];

/** A log entry as the trace keeps it: [seq, icount, kind]. */
export type TracedEntry = [number, number, EntryKind];

export type TraceEvent =
  | { tUs: number; vm: VmName; ev: 'log-sent'; bytes: number; entries: TracedEntry[] }
  | { tUs: number; vm: VmName; ev: 'log-rejected'; error: string }
  | { tUs: number; vm: VmName; ev: 'ack-sent'; ackSeq: number; backupIcount: number }
  | { tUs: number; vm: VmName; ev: 'ack-received'; ackSeq: number; backupIcount: number }
  | { tUs: number; vm: VmName; ev: 'applied'; seq: number; icount: number; kind: EntryKind }
  | { tUs: number; vm: VmName; ev: 'held'; icount: number; out: OutKind }
  | { tUs: number; vm: VmName; ev: 'released'; icount: number; out: OutKind; digest: string; heldUs: number; held: boolean }
  | { tUs: number; vm: VmName; ev: 'suppressed'; icount: number; out: OutKind; digest: string }
  | { tUs: number; vm: VmName; ev: 'log-full'; inflightBytes: number }
  | { tUs: number; vm: VmName; ev: 'log-drained'; stalledUs: number }
  | { tUs: number; vm: VmName; ev: 'cpu-share'; share: number; lagUs: number }
  | { tUs: number; vm: VmName; ev: 'hash-ok'; icount: number }
  | { tUs: number; vm: VmName; ev: 'divergence'; icount: number; reason: string }
  | { tUs: number; vm: VmName; ev: 'guest-stopped'; reason: string }
  | { tUs: number; vm: 'world'; ev: 'client-done'; client: number; seq: number; result: number; latencyUs: number }
  | { tUs: number; vm: 'sim'; ev: 'sample'; icounts: number[]; lagUs: number; share: number }
  /** The run's final summary (ClusterSummary as plain data), recorded by Cluster.finish(). */
  | { tUs: number; vm: 'sim'; ev: 'summary'; summary: Record<string, unknown> };

export type TraceEv = TraceEvent['ev'];

/**
 * What a checker compares of an output: FNV-1a over a packet's or disk request's content; for
 * console text, the text itself (the UART batches bytes per host run, and primary and backup run
 * in different slices, so checkers compare the console as one stream, not per batch).
 */
export function outputDigest(out: MachineOutput): string {
  if (out.kind === 'console') return String.fromCharCode(...out.bytes);
  let h = 0x811c9dc5;
  const eat = (b: number): void => {
    h = Math.imul(h ^ (b & 0xff), 0x01000193);
  };
  const eatBytes = (bytes: Uint8Array): void => bytes.forEach(eat);
  switch (out.kind) {
    case 'net-tx':
      eatBytes(out.bytes);
      break;
    case 'disk':
      [out.req.op === 'read' ? 1 : 2, out.req.id, out.req.sector, out.req.count].forEach((v) => [0, 8, 16, 24].forEach((s) => eat(v >>> s)));
      if (out.req.data) eatBytes(out.req.data);
      break;
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

/** One trace event as one line of the `sim --trace` timeline. */
export function formatEvent(e: TraceEvent): string {
  const t = `${(e.tUs / 1000).toFixed(3).padStart(10)} ms  ${e.vm.padEnd(5)} `;
  switch (e.ev) {
    case 'log-sent': {
      const first = e.entries[0];
      const last = e.entries[e.entries.length - 1];
      const kinds = [...new Set(e.entries.map((x) => x[2]))].join(',');
      return `${t}log → #${first[0]}..#${last[0]} (${e.entries.length} entries, ${e.bytes} B; icount ≤ ${last[1]}; ${kinds})`;
    }
    case 'ack-sent':
      return `${t}ack → #${e.ackSeq} (backup at ${e.backupIcount})`;
    case 'ack-received':
      return `${t}ack ← #${e.ackSeq}`;
    case 'applied':
      return `${t}applied #${e.seq} ${e.kind} @${e.icount}`;
    case 'held':
      return `${t}HOLD ${e.out} @${e.icount}`;
    case 'released':
      return `${t}RELEASE ${e.out} @${e.icount} after ${e.heldUs.toFixed(0)} µs`;
    case 'suppressed':
      return `${t}suppressed ${e.out} @${e.icount}`;
    case 'log-full':
      return `${t}LOG FULL (${e.inflightBytes} B unacked): primary stops`;
    case 'log-drained':
      return `${t}log drained after ${e.stalledUs.toFixed(0)} µs: primary resumes`;
    case 'cpu-share':
      return `${t}cpu share → ${(e.share * 100).toFixed(0)}% (lag ${(e.lagUs / 1000).toFixed(1)} ms)`;
    case 'hash-ok':
      return `${t}hash ok @${e.icount}`;
    case 'divergence':
      return `${t}DIVERGED @${e.icount}: ${e.reason}`;
    case 'client-done':
      return `${t}client ${e.client} seq ${e.seq} → ${e.result} (${(e.latencyUs / 1000).toFixed(2)} ms)`;
    case 'summary':
      return `${t}summary ${JSON.stringify(e.summary)}`;
    case 'sample':
      return `${t}sample icounts ${e.icounts.join('/')} lag ${(e.lagUs / 1000).toFixed(1)} ms share ${(e.share * 100).toFixed(0)}%`;
    default:
      return `${t}${JSON.stringify(e)}`;
  }
}

/** The trace as one string: what "byte-identical" compares. */
export function serializeTrace(trace: readonly TraceEvent[]): string {
  return trace.map((e) => JSON.stringify(e)).join('\n');
}
