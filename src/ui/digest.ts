/**
 * What the panels show that no single host view says, folded from the run's event stream as it
 * arrives: each VM's console (released text on a primary, suppressed text on a backup), the
 * clients' completed operations with duplicates marked, the shared disk (test-and-set flag, holder,
 * epoch, recent writes, re-issued requests) and what is cut. Plain data, bounded: a 50-minute
 * lecture keeps the same few kilobytes.
 */
import type { TraceEvent } from '../sim/trace';

export const CONSOLE_CHARS_MAX = 1_200;
export const OPS_KEPT = 200;
export const DISK_WRITES_KEPT = 8;

export interface ConsoleText {
  /** Released to the world (a primary's, or a live VM's). */
  released: string;
  /** Produced and discarded (a backup's): the same text, greyed. */
  suppressed: string;
}

export interface OpRow {
  tUs: number;
  client: number;
  seq: number;
  result: number;
  latencyUs: number;
  fromVm: string;
  /** A reply the client had already seen (a re-emitted output after a failover), dropped by seq. */
  duplicate: boolean;
}

export interface DiskView {
  /** Who won the test-and-set flag in this epoch (null: nobody has asked). */
  holder: string | null;
  epoch: number;
  /** The last request and its answer, for the panel's one-line story. */
  last: { tUs: number; vm: string; won: boolean | null; reason: string } | null;
  writes: { tUs: number; vm: string; icount: number; digest: string }[];
  reissued: { tUs: number; vm: string; count: number }[];
}

export interface Cuts {
  logging: boolean;
  /** VMs made (FT VMotion) since the logging channel was cut: a channel to one of them is whole. */
  wholeTo: string[];
  /** "A disk", "B clients", … */
  vms: string[];
}

export interface Digest {
  consoles: Record<string, ConsoleText>;
  ops: OpRow[];
  completed: number;
  duplicates: number;
  disk: DiskView;
  cuts: Cuts;
  /** The latest faults and protocol moments, newest last (for the notices strip). */
  moments: { tUs: number; text: string; tone: 'fault' | 'failover' | 'error' | 'info' }[];
}

export function emptyDigest(): Digest {
  return {
    consoles: {}, ops: [], completed: 0, duplicates: 0,
    disk: { holder: null, epoch: 0, last: null, writes: [], reissued: [] },
    cuts: { logging: false, wholeTo: [], vms: [] },
    moments: [],
  };
}

const tail = (s: string, n: number): string => (s.length > n ? s.slice(s.length - n) : s);
const keepLast = <T>(xs: T[], n: number): T[] => (xs.length > n ? xs.slice(xs.length - n) : xs);

/** Folds `events` into `d` (a new object; `d` is not changed), in order. */
export function foldEvents(d: Digest, events: readonly TraceEvent[]): Digest {
  if (events.length === 0) return d;
  const next: Digest = {
    ...d, consoles: { ...d.consoles }, ops: [...d.ops], disk: { ...d.disk, writes: [...d.disk.writes], reissued: [...d.disk.reissued] },
    cuts: { logging: d.cuts.logging, wholeTo: [...d.cuts.wholeTo], vms: [...d.cuts.vms] }, moments: [...d.moments],
  };
  for (const e of events) foldOne(next, e);
  next.ops = keepLast(next.ops, OPS_KEPT);
  next.disk.writes = keepLast(next.disk.writes, DISK_WRITES_KEPT);
  next.disk.reissued = keepLast(next.disk.reissued, DISK_WRITES_KEPT);
  next.moments = keepLast(next.moments, 12);
  return next;
}

function consoleOf(d: Digest, vm: string): ConsoleText {
  const c = d.consoles[vm] ?? { released: '', suppressed: '' };
  d.consoles[vm] = c;
  return c;
}

function moment(d: Digest, tUs: number, text: string, tone: Digest['moments'][number]['tone']): void {
  d.moments.push({ tUs, text, tone });
}

function foldOne(d: Digest, e: TraceEvent): void {
  switch (e.ev) {
    case 'output-released':
      if (e.out === 'console') {
        const c = { ...consoleOf(d, e.vm) };
        c.released = tail(c.released + e.digest, CONSOLE_CHARS_MAX);
        d.consoles[e.vm] = c;
      } else if (e.out === 'disk' && e.disk === 'write') {
        d.disk.writes.push({ tUs: e.tUs, vm: e.vm, icount: e.icount, digest: e.digest });
      }
      return;
    case 'output-suppressed':
      if (e.out === 'console') {
        const c = { ...consoleOf(d, e.vm) };
        c.suppressed = tail(c.suppressed + e.digest, CONSOLE_CHARS_MAX);
        d.consoles[e.vm] = c;
      }
      return;
    case 'client-completed':
      d.completed++;
      d.ops.push({ tUs: e.tUs, client: e.client, seq: e.seq, result: e.result, latencyUs: e.latencyUs, fromVm: e.fromVm, duplicate: false });
      return;
    case 'client-dropped-duplicate': {
      d.duplicates++;
      const first = d.ops.find((o) => o.client === e.client && o.seq === e.seq && !o.duplicate);
      d.ops.push({ tUs: e.tUs, client: e.client, seq: e.seq, result: first?.result ?? NaN, latencyUs: 0, fromVm: e.fromVm, duplicate: true });
      return;
    }
    case 'tas-requested':
      d.disk.epoch = Math.max(d.disk.epoch, e.epoch);
      d.disk.last = { tUs: e.tUs, vm: e.vm, won: null, reason: `asks (epoch ${e.epoch}, attempt ${e.attempt})` };
      return;
    case 'tas-answered':
      if (e.won) d.disk.holder = e.vm;
      else if (e.holder) d.disk.holder = e.holder;
      d.disk.last = { tUs: e.tUs, vm: e.vm, won: e.won, reason: e.reason };
      moment(d, e.tUs, `${e.vm} ${e.won ? 'won' : 'lost'} test-and-set${e.won ? '' : ` (${e.reason})`}`, 'failover');
      return;
    case 'snapshot-sent':
      // FT VMotion clears the flag for the new pair's epoch (docs/design.md §4.10).
      d.disk.holder = null;
      d.disk.epoch = e.epoch;
      if (d.cuts.logging && !d.cuts.wholeTo.includes(e.peer)) d.cuts.wholeTo.push(e.peer); // its channel is new
      moment(d, e.tUs, `${e.vm} sends its snapshot to ${e.peer} (FT VMotion, ${(e.bytes / 1048576).toFixed(1)} MiB)`, 'info');
      return;
    case 'went-live':
      if (e.reissued > 0) d.disk.reissued.push({ tUs: e.tUs, vm: e.vm, count: e.reissued });
      moment(d, e.tUs, `${e.vm} goes live at icount ${e.icount}${e.reissued > 0 ? `, re-issuing ${e.reissued} disk request(s)` : ''}`, 'failover');
      return;
    case 'failure-suspected':
      moment(d, e.tUs, `${e.vm} hears nothing from ${e.peer} for ${(e.silentUs / 1000).toFixed(0)} ms: failure suspected`, 'failover');
      return;
    case 'halted':
      moment(d, e.tUs, `${e.vm} halts: ${e.reason}`, 'failover');
      return;
    case 'crashed':
      moment(d, e.tUs, `${e.vm} is killed (fail-stop)`, 'fault');
      return;
    case 'divergence':
      moment(d, e.tUs, `${e.vm} diverged at icount ${e.icount}: ${e.reason}`, 'error');
      return;
    case 'guest-stopped':
      moment(d, e.tUs, `${e.vm}'s guest stopped: ${e.reason} ${e.detail}`, 'error');
      return;
    case 'fault':
      foldFault(d, e.tUs, e.action);
      return;
    default:
      return;
  }
}

/** A fault's text is the script step ("partition logging at 120000us", "cut A disk at 3s"). */
function foldFault(d: Digest, tUs: number, action: string): void {
  const what = action.replace(/ at \S+$/, '');
  if (what === 'partition logging') d.cuts.logging = true;
  else if (what === 'heal') d.cuts = { logging: false, wholeTo: [], vms: [] };
  else {
    const m = /^cut (\S+) (disk|clients)$/.exec(what);
    if (m && !d.cuts.vms.includes(`${m[1]} ${m[2]}`)) d.cuts.vms.push(`${m[1]} ${m[2]}`);
  }
  if (!/^(send client|load )/.test(what)) moment(d, tUs, what, 'fault');
}
