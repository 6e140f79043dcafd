/**
 * The simulator's trace: everything that crossed a link or changed the protocol's state, with the
 * virtual time it happened. Plain data, so two runs compare as strings (same seed + settings →
 * byte-identical trace) and the checkers in checkers.ts can read it.
 */
import type { MachineOutput } from '../machine/types';
import { ramBytes } from '../machine/memory';
import type { EntryKind } from '../ft/log';
import type { FtEffect } from '../ft/effects';
import type { WorldEffect } from '../world/world';

export type VmName = string;
export type OutKind = MachineOutput['kind'];

/** A log entry as the trace keeps it: [seq, icount, kind]. */
export type TracedEntry = [number, number, EntryKind];

/** Disk outputs say which way they go: the Output Rule exempts reads (by default), never writes. */
export type DiskDir = 'read' | 'write';

export type TraceEvent =
  | { tUs: number; vm: VmName; ev: 'log-sent'; bytes: number; first: number; last: number; resent: boolean; entries: TracedEntry[] }
  | { tUs: number; vm: VmName; ev: 'log-rejected'; error: string }
  | { tUs: number; vm: VmName; ev: 'log-duplicate'; first: number; last: number }
  | { tUs: number; vm: VmName; ev: 'log-gap'; expected: number; first: number }
  | { tUs: number; vm: VmName; ev: 'resend-requested'; fromSeq: number }
  | { tUs: number; vm: VmName; ev: 'ack-sent'; ackSeq: number; appliedSeq: number; backupIcount: number }
  | { tUs: number; vm: VmName; ev: 'dma-early'; kind: 'net-rx' | 'disk-done'; seq: number; loggedIcount: number; icount: number }
  | { tUs: number; vm: VmName; ev: 'ack-received'; ackSeq: number; appliedSeq: number; backupIcount: number }
  | { tUs: number; vm: VmName; ev: 'heartbeat-sent'; icount: number }
  | { tUs: number; vm: VmName; ev: 'output-held'; icount: number; out: OutKind; disk?: DiskDir }
  | { tUs: number; vm: VmName; ev: 'output-released'; icount: number; out: OutKind; disk?: DiskDir; digest: string; heldUs: number; held: boolean }
  | { tUs: number; vm: VmName; ev: 'output-suppressed'; icount: number; out: OutKind; disk?: DiskDir; digest: string }
  | { tUs: number; vm: VmName; ev: 'entry-applied'; seq: number; icount: number; kind: EntryKind }
  | { tUs: number; vm: VmName; ev: 'blocked'; why: string; inflightBytes: number; lagUs: number }
  | { tUs: number; vm: VmName; ev: 'unblocked'; why: string; stalledUs: number }
  | { tUs: number; vm: VmName; ev: 'cpu-share'; share: number; lagUs: number }
  | { tUs: number; vm: VmName; ev: 'hash-ok'; icount: number }
  | { tUs: number; vm: VmName; ev: 'divergence'; icount: number; reason: string }
  | { tUs: number; vm: VmName; ev: 'guest-stopped'; reason: string; detail: string }
  | { tUs: number; vm: VmName; ev: 'message-rejected'; channel: string; error: string }
  | { tUs: number; vm: VmName; ev: 'packet-dropped'; reason: string }
  | { tUs: number; vm: VmName; ev: 'failure-suspected'; peer: string; silentUs: number }
  | { tUs: number; vm: VmName; ev: 'replay-finished'; icount: number; replayUs: number }
  | { tUs: number; vm: VmName; ev: 'tas-requested'; epoch: number; attempt: number }
  | { tUs: number; vm: VmName; ev: 'tas-answered'; won: boolean; holder: string | null; reason: string }
  | { tUs: number; vm: VmName; ev: 'went-live'; icount: number; reissued: number }
  | { tUs: number; vm: VmName; ev: 'announce' }
  | { tUs: number; vm: VmName; ev: 'halted'; reason: string }
  | { tUs: number; vm: VmName; ev: 'snapshot-sent'; peer: string; icount: number; epoch: number; bytes: number }
  | { tUs: number; vm: VmName; ev: 'snapshot-restored'; icount: number }
  /** The simulator killed this VM (fail-stop). */
  | { tUs: number; vm: VmName; ev: 'crashed' }
  | { tUs: number; vm: 'world'; ev: 'client-completed'; client: number; seq: number; result: number; latencyUs: number; fromVm: string }
  | { tUs: number; vm: 'world'; ev: 'client-dropped-duplicate'; client: number; seq: number; fromVm: string }
  | { tUs: number; vm: 'world'; ev: 'dropped'; what: string; reason: string; detail: string }
  /** The switch learned from an announce that this VM serves the service address. */
  | { tUs: number; vm: 'world'; ev: 'serving'; serving: string }
  /** A message lost on a link: random loss, a partition, or an injected fault. */
  | { tUs: number; vm: 'sim'; ev: 'msg-lost'; link: string; from: string; to: string; reason: string }
  /** A scripted action (partition, heal, …) taking effect. */
  | { tUs: number; vm: 'sim'; ev: 'fault'; action: string }
  | { tUs: number; vm: 'sim'; ev: 'liveness'; what: string }
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
  if (out.kind === 'net-tx') {
    h = fnvBytes(h, out.bytes);
  } else {
    for (const v of [out.req.op === 'read' ? 1 : 2, out.req.id, out.req.sector, out.req.count]) {
      for (let shift = 0; shift < 32; shift += 8) h = Math.imul(h ^ ((v >>> shift) & 0xff), 0x01000193);
    }
    if (out.req.data) h = fnvBytes(h, out.req.data);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

/** FNV-1a over bytes, continuing from `h`. */
function fnvBytes(h: number, bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
  return h;
}

/** A world effect as the trace keeps it, or null for the ones that are only sends. */
export function worldTraceEvent(e: WorldEffect, tUs: number): TraceEvent | null {
  switch (e.kind) {
    case 'client-completed':
      return { tUs, vm: 'world', ev: 'client-completed', client: e.client, seq: e.seq, result: e.result, latencyUs: e.returnUs - e.invokeUs, fromVm: e.fromVm };
    case 'client-dropped-duplicate':
      return { tUs, vm: 'world', ev: 'client-dropped-duplicate', client: e.client, seq: e.seq, fromVm: e.fromVm };
    case 'dropped':
      return { tUs, vm: 'world', ev: 'dropped', what: e.what, reason: e.reason, detail: e.detail };
    case 'serving':
      return { tUs, vm: 'world', ev: 'serving', serving: e.vm };
    default:
      return null;
  }
}

/** A host's effect as the trace keeps it: same name, payloads reduced to what a checker compares. */
export function traceOf(vm: VmName, tUs: number, e: FtEffect): TraceEvent {
  switch (e.ev) {
    case 'log-sent':
      return { tUs, vm, ev: e.ev, bytes: e.bytes.byteLength, first: e.first, last: e.last, resent: e.resent, entries: e.entries.map((x) => [x.seq, x.icount, x.kind]) };
    case 'ack-sent':
    case 'ack-received':
      return { tUs, vm, ev: e.ev, ackSeq: e.ack.ackSeq, appliedSeq: e.ack.appliedSeq, backupIcount: e.ack.backupIcount };
    case 'heartbeat-sent':
      return { tUs, vm, ev: e.ev, icount: e.hb.icount };
    case 'output-held':
      return { tUs, vm, ev: e.ev, icount: e.out.icount, ...outFields(e.out) };
    case 'output-released':
      return { tUs, vm, ev: e.ev, icount: e.out.icount, ...outFields(e.out), digest: outputDigest(e.out), heldUs: e.heldUs, held: e.held };
    case 'output-suppressed':
      return { tUs, vm, ev: e.ev, icount: e.out.icount, ...outFields(e.out), digest: outputDigest(e.out) };
    case 'entry-applied':
      return { tUs, vm, ev: e.ev, seq: e.entry.seq, icount: e.entry.icount, kind: e.entry.kind };
    case 'hash-ok':
      return { tUs, vm, ev: e.ev, icount: e.icount };
    case 'snapshot-sent':
      return { tUs, vm, ev: e.ev, peer: e.peer, icount: e.icount, epoch: e.epoch, bytes: ramBytes(e.snapshot.ram) + e.snapshot.cpu.byteLength };
    default:
      return { tUs, vm, ...e } as TraceEvent;
  }
}

function outFields(out: MachineOutput): { out: OutKind; disk?: DiskDir } {
  return out.kind === 'disk' ? { out: out.kind, disk: out.req.op } : { out: out.kind };
}

/** One trace event as one line of the `sim --trace` timeline. */
export function formatEvent(e: TraceEvent): string {
  const t = `${(e.tUs / 1000).toFixed(3).padStart(10)} ms  ${e.vm.padEnd(5)} `;
  switch (e.ev) {
    case 'log-sent': {
      if (e.resent) return `${t}log → #${e.first}..#${e.last} RESENT (${e.bytes} B)`;
      const last = e.entries[e.entries.length - 1];
      const kinds = [...new Set(e.entries.map((x) => x[2]))].join(',');
      return `${t}log → #${e.first}..#${e.last} (${e.entries.length} entries, ${e.bytes} B; icount ≤ ${last[1]}; ${kinds})`;
    }
    case 'log-rejected':
      return `${t}log REJECTED: ${e.error}`;
    case 'log-duplicate':
      return `${t}log #${e.first}..#${e.last} duplicate, dropped`;
    case 'log-gap':
      return `${t}log GAP: expected #${e.expected}, got #${e.first} (held)`;
    case 'resend-requested':
      return `${t}resend ← from #${e.fromSeq}`;
    case 'ack-sent':
      return `${t}ack → #${e.ackSeq} (applied #${e.appliedSeq}, backup at ${e.backupIcount})`;
    case 'ack-received':
      return `${t}ack ← #${e.ackSeq}`;
    case 'dma-early':
      return `${t}DMA of #${e.seq} ${e.kind} landed at icount ${e.icount}, logged for ${e.loggedIcount} (no bounce buffer)`;
    case 'heartbeat-sent':
      return `${t}heartbeat (icount ${e.icount})`;
    case 'entry-applied':
      return `${t}applied #${e.seq} ${e.kind} @${e.icount}`;
    case 'output-held':
      return `${t}HOLD ${e.out}${e.disk ? `-${e.disk}` : ''} @${e.icount}`;
    case 'output-released':
      return `${t}RELEASE ${e.out}${e.disk ? `-${e.disk}` : ''} @${e.icount} after ${e.heldUs.toFixed(0)} µs`;
    case 'output-suppressed':
      return `${t}suppressed ${e.out}${e.disk ? `-${e.disk}` : ''} @${e.icount}`;
    case 'blocked':
      return `${t}BLOCKED (${e.why}: ${e.inflightBytes} B unreplayed, lag ${(e.lagUs / 1000).toFixed(1)} ms): primary stops`;
    case 'unblocked':
      return `${t}unblocked after ${e.stalledUs.toFixed(0)} µs (${e.why}): primary resumes`;
    case 'cpu-share':
      return `${t}cpu share → ${(e.share * 100).toFixed(0)}% (lag ${(e.lagUs / 1000).toFixed(1)} ms)`;
    case 'hash-ok':
      return `${t}hash ok @${e.icount}`;
    case 'divergence':
      return `${t}DIVERGED @${e.icount}: ${e.reason}`;
    case 'client-completed':
      return `${t}client ${e.client} seq ${e.seq} → ${e.result} (${(e.latencyUs / 1000).toFixed(2)} ms, from ${e.fromVm})`;
    case 'msg-lost':
      return `${t}lost on ${e.link} ${e.from}→${e.to} (${e.reason})`;
    case 'fault':
      return `${t}FAULT ${e.action}`;
    case 'failure-suspected':
      return `${t}SUSPECTS ${e.peer}: nothing heard for ${(e.silentUs / 1000).toFixed(1)} ms`;
    case 'replay-finished':
      return `${t}replayed every buffered entry (icount ${e.icount}, ${(e.replayUs / 1000).toFixed(2)} ms)`;
    case 'tas-requested':
      return `${t}test-and-set → disk server (epoch ${e.epoch}${e.attempt > 1 ? `, attempt ${e.attempt}` : ''})`;
    case 'tas-answered':
      return `${t}test-and-set ${e.won ? 'WON' : 'LOST'} (${e.reason}, holder ${e.holder ?? 'none'})`;
    case 'went-live':
      return `${t}GOES LIVE at icount ${e.icount}${e.reissued ? `, ${e.reissued} disk request(s) re-issued` : ''}`;
    case 'halted':
      return `${t}HALTED: ${e.reason}`;
    case 'serving':
      return `${t}switch: the service address is at ${e.serving} now`;
    case 'announce':
      return `${t}announces the service address`;
    case 'snapshot-sent':
      return `${t}FT VMotion: snapshot at icount ${e.icount} (${(e.bytes / 1048576).toFixed(1)} MiB) → ${e.peer}, epoch ${e.epoch}`;
    case 'snapshot-restored':
      return `${t}snapshot restored: backup from icount ${e.icount}`;
    case 'crashed':
      return `${t}CRASHED (killed)`;
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
