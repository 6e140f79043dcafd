/**
 * Invariant checkers (docs/design.md §6), streaming: each reads the trace one event at a time as
 * the simulator produces it and keeps only what is still open (hash entries not yet matched,
 * outputs not yet compared, log entries an output may still need), so an hour-long run checks in
 * flat memory. `finish()` returns the violations, each with the virtual time, so a failing seeded
 * test can print exactly where. The checkers judge from the trace alone: none trusts a flag the
 * protocol sets about itself.
 */
import type { TraceEvent } from './trace';

export interface Violation {
  tUs: number;
  what: string;
  /** The checker that found it. */
  checker?: string;
}

export interface Checker {
  readonly name: string;
  event(e: TraceEvent): void;
  finish(): Violation[];
}

const VIOLATIONS_KEPT = 20;

/** The events the standard checkers read: a run with no trace kept builds only these. */
export const CHECKED_EVENTS: ReadonlySet<TraceEvent['ev']> = new Set<TraceEvent['ev']>([
  'log-sent', 'hash-ok', 'divergence', 'output-held', 'output-released', 'output-suppressed', 'ack-received',
  'went-live', 'halted', 'crashed', 'snapshot-sent',
]);

abstract class BaseChecker implements Checker {
  abstract readonly name: string;
  protected readonly found: Violation[] = [];
  protected count = 0;

  abstract event(e: TraceEvent): void;

  protected violate(tUs: number, what: string): void {
    this.count++;
    if (this.found.length < VIOLATIONS_KEPT) this.found.push({ tUs, what, checker: this.name });
  }

  finish(): Violation[] {
    const more = this.count - this.found.length;
    return more > 0 ? [...this.found, { tUs: Infinity, what: `${this.name}: ${more} more violation(s)`, checker: this.name }] : [...this.found];
  }
}

/**
 * Who is paired with whom, read from the trace: A primary and B backup at the start; a pair ends
 * when its backup goes live or halts (the primary failed: what the primary released must have
 * reached the backup), or when its backup crashes or its primary goes on alone (the backup failed:
 * nothing more to compare); FT VMotion (`snapshot-sent`) starts a new pair.
 */
export class Pairs {
  private readonly backups = new Map<string, string>();
  private readonly primaries = new Map<string, string>();

  constructor(primary = 'A', backup = 'B') {
    this.join(primary, backup);
  }

  private join(primary: string, backup: string): void {
    this.backups.set(primary, backup);
    this.primaries.set(backup, primary);
  }

  /** Applies a role-changing event; returns the pair it ended or started, if any. */
  apply(e: TraceEvent): { ended?: { primary: string; backup: string; primaryFailed: boolean }; started?: { primary: string; backup: string } } {
    if (e.ev === 'snapshot-sent') {
      this.leave(e.vm);
      this.join(e.vm, e.peer);
      return { started: { primary: e.vm, backup: e.peer } };
    }
    if (e.ev !== 'went-live' && e.ev !== 'halted' && e.ev !== 'crashed') return {};
    const asBackup = this.primaries.get(e.vm);
    if (asBackup !== undefined) {
      this.leave(asBackup);
      return { ended: { primary: asBackup, backup: e.vm, primaryFailed: e.ev !== 'crashed' } };
    }
    const asPrimary = this.backups.get(e.vm);
    // A primary that crashes leaves its pair to the backup's outcome; one that goes on alone or
    // halts ends it.
    if (asPrimary !== undefined && e.ev !== 'crashed') {
      this.leave(e.vm);
      return { ended: { primary: e.vm, backup: asPrimary, primaryFailed: false } };
    }
    return {};
  }

  private leave(primary: string): void {
    const b = this.backups.get(primary);
    this.backups.delete(primary);
    if (b !== undefined) this.primaries.delete(b);
  }

  backupOf(primary: string): string | undefined {
    return this.backups.get(primary);
  }
  primaryOf(backup: string): string | undefined {
    return this.primaries.get(backup);
  }
}

/** The backup's state hash equals its primary's at every `hash` entry; no divergence at all. */
export class HashChecker extends BaseChecker {
  readonly name = 'hashes';
  private readonly pairs: Pairs;
  /** Per primary: hash entries sent and not yet matched (icount → when sent). */
  private readonly pending = new Map<string, Map<number, number>>();
  /**
   * Per primary: matches seen before the entry they match. In free run the nodes report on their
   * own, so a backup's `hash-ok` can reach the checker before its primary's `log-sent`.
   */
  private readonly early = new Map<string, Set<number>>();

  constructor(primary = 'A', backup = 'B') {
    super();
    this.pairs = new Pairs(primary, backup);
  }

  event(e: TraceEvent): void {
    const change = this.pairs.apply(e);
    if (change.ended) this.forget(change.ended.primary); // a failed pair's last hashes go unchecked
    if (change.started) this.forget(change.started.primary); // a new log sequence
    if (e.ev === 'log-sent' && this.pairs.backupOf(e.vm) !== undefined) {
      const p = this.pending.get(e.vm) ?? new Map<number, number>();
      const early = this.early.get(e.vm);
      for (const [, icount, kind] of e.entries) {
        if (kind !== 'hash') continue;
        if (early?.delete(icount)) continue;
        p.set(icount, e.tUs);
      }
      this.pending.set(e.vm, p);
    } else if (e.ev === 'hash-ok') {
      const primary = this.pairs.primaryOf(e.vm);
      if (primary !== undefined && !this.pending.get(primary)?.delete(e.icount)) {
        const early = this.early.get(primary) ?? new Set<number>();
        early.add(e.icount);
        this.early.set(primary, early);
      }
    } else if (e.ev === 'divergence') {
      this.violate(e.tUs, `${e.vm} diverged at icount ${e.icount}: ${e.reason}`);
    }
  }

  private forget(primary: string): void {
    this.pending.delete(primary);
    this.early.delete(primary);
  }

  override finish(): Violation[] {
    for (const [primary, p] of this.pending) {
      for (const [icount, tUs] of p) this.violate(tUs, `hash entry of ${primary} at icount ${icount} never matched on its backup`);
    }
    this.pending.clear();
    return super.finish();
  }

  /** Hash entries still waiting for a backup. */
  get open(): number {
    let n = 0;
    for (const p of this.pending.values()) n += p.size;
    return n;
  }
}

interface Out {
  tUs: number;
  icount: number;
  out: string;
  digest: string;
}

/** One pair's two output streams, compared as they come. */
interface Streams {
  rel: Out[];
  sup: Out[];
  relText: string;
  supText: string;
  consoleDiffers: boolean;
  index: number;
}

/**
 * The backup suppressed exactly the outputs its primary released: same kinds, icounts, content,
 * order; console text compared as one stream. Matched pairs are forgotten. When the primary fails,
 * what it released must be a prefix of what the backup suppressed (the backup replays all it
 * received, and the Output Rule let nothing out that the backup had not received); when the
 * backup fails there is nothing left to compare.
 */
export class OutputMatchChecker extends BaseChecker {
  readonly name = 'suppressed == released';
  private readonly pairs: Pairs;
  private readonly streams = new Map<string, Streams>();
  private readonly crashed = new Set<string>();

  constructor(primary = 'A', backup = 'B') {
    super();
    this.pairs = new Pairs(primary, backup);
    this.streams.set(primary, fresh());
  }

  event(e: TraceEvent): void {
    if (e.ev === 'crashed') this.crashed.add(e.vm);
    const change = this.pairs.apply(e);
    if (change.ended) this.end(change.ended.primary, change.ended.primaryFailed);
    if (change.started) this.streams.set(change.started.primary, fresh());
    let st: Streams | undefined;
    if (e.ev === 'output-released' && (st = this.streams.get(e.vm))) {
      if (e.out === 'console') st.relText += e.digest;
      else st.rel.push(e);
      this.compare(st);
    } else if (e.ev === 'output-suppressed') {
      const primary = this.pairs.primaryOf(e.vm);
      st = primary === undefined ? undefined : this.streams.get(primary);
      if (!st) return;
      if (e.out === 'console') st.supText += e.digest;
      else st.sup.push(e);
      this.compare(st);
    }
  }

  private compare(st: Streams): void {
    while (st.rel.length > 0 && st.sup.length > 0) this.pair(st, st.rel.shift(), st.sup.shift());
    const n = Math.min(st.relText.length, st.supText.length);
    if (n === 0) return;
    if (!st.consoleDiffers && st.relText.slice(0, n) !== st.supText.slice(0, n)) {
      st.consoleDiffers = true;
      this.violate(Infinity, `console text differs: primary ${JSON.stringify(st.relText.slice(0, 40))}, backup ${JSON.stringify(st.supText.slice(0, 40))}`);
    }
    // Compared text is forgotten; once the streams differ, the rest says nothing new.
    st.relText = st.relText.slice(n);
    st.supText = st.supText.slice(n);
  }

  private pair(st: Streams, a: Out | undefined, b: Out | undefined): void {
    const i = st.index++;
    if (a && b && a.out === b.out && a.icount === b.icount && a.digest === b.digest) return;
    const show = (x: Out | undefined): string => (x ? `${x.out}@${x.icount}#${x.digest}` : 'nothing');
    this.violate((a ?? b)?.tUs ?? Infinity, `output ${i}: primary released ${show(a)}, backup suppressed ${show(b)}`);
  }

  /** A pair ended: after a primary failure, everything released must have been suppressed too. */
  private end(primary: string, primaryFailed: boolean): void {
    const st = this.streams.get(primary);
    this.streams.delete(primary);
    if (!st || !primaryFailed) return;
    for (const a of st.rel) this.violate(a.tUs, `${primary} released ${a.out}@${a.icount} that its backup never replayed`);
    if (st.relText.length > 0 && !st.consoleDiffers) this.violate(Infinity, `${primary} printed ${JSON.stringify(st.relText.slice(0, 40))} that its backup never replayed`);
  }

  /** Call after the cluster drained: for a pair still running, whatever is unmatched is a mismatch. */
  override finish(): Violation[] {
    // A pair whose primary crashed and whose backup never decided (say it cannot reach the disk
    // server) ends here as a failed primary's pair: a prefix, not equality.
    for (const primary of [...this.streams.keys()]) if (this.crashed.has(primary)) this.end(primary, true);
    for (const st of this.streams.values()) {
      while (st.rel.length > 0 || st.sup.length > 0) this.pair(st, st.rel.shift(), st.sup.shift());
      if (st.relText !== st.supText && !st.consoleDiffers) {
        this.violate(Infinity, `console text differs at the end: primary ${JSON.stringify(st.relText.slice(0, 40))}, backup ${JSON.stringify(st.supText.slice(0, 40))}`);
      }
    }
    this.streams.clear();
    return super.finish();
  }
}

function fresh(): Streams {
  return { rel: [], sup: [], relText: '', supText: '', consoleDiffers: false, index: 0 };
}

/**
 * At most one server (docs/design.md §4.9, split brain): no VM goes live while another that went
 * live still runs, and client-visible output (packets) and disk writes come only from the VM that
 * serves — the first primary, then whichever VM last went live.
 */
export class OneServerChecker extends BaseChecker {
  readonly name = 'one server';
  private server: string;
  /** VMs that went live and have not crashed or halted since. */
  private readonly live = new Set<string>();

  constructor(primary = 'A') {
    super();
    this.server = primary;
  }

  event(e: TraceEvent): void {
    if (e.ev === 'crashed' || e.ev === 'halted') this.live.delete(e.vm);
    if (e.ev === 'went-live') {
      for (const other of this.live) if (other !== e.vm) this.violate(e.tUs, `${e.vm} went live while ${other} serves: two servers`);
      this.live.add(e.vm);
      this.server = e.vm;
    } else if (e.ev === 'output-released' && e.vm !== this.server && (e.out === 'net-tx' || (e.out === 'disk' && e.disk === 'write'))) {
      this.violate(e.tUs, `${e.vm} released ${e.out}${e.disk ? `-${e.disk}` : ''}@${e.icount} while ${this.server} serves: two servers`);
    }
  }
}

/**
 * The Output Rule (paper §2.2), judged from the trace alone: every output a primary released at
 * icount X — packets, console text, disk writes, and disk reads too unless `holdDiskReads` is off —
 * left only after it had received an ack covering every log entry with icount ≤ X, including
 * entries sent after the release (an output released before its own entries were even sent is the
 * plainest violation). A VM serving alone has no backup to wait for and is not judged; FT VMotion
 * starts a new log sequence.
 */
export class OutputRuleChecker extends BaseChecker {
  readonly name = 'output rule';
  private readonly pairs: Pairs;
  private readonly byPrimary = new Map<string, RuleState>();

  constructor(private readonly opts: { holdDiskReads: boolean; primary?: string; backup?: string }) {
    super();
    const primary = opts.primary ?? 'A';
    this.pairs = new Pairs(primary, opts.backup ?? 'B');
    this.byPrimary.set(primary, new RuleState());
  }

  event(e: TraceEvent): void {
    const change = this.pairs.apply(e);
    if (change.started) this.byPrimary.set(change.started.primary, new RuleState());
    if (e.ev === 'went-live' || e.ev === 'halted' || e.ev === 'crashed') this.byPrimary.delete(e.vm);
    const st = this.byPrimary.get(e.vm);
    if (!st) return;
    switch (e.ev) {
      case 'log-sent':
        if (!e.resent) st.sent(e.entries, (what) => this.violate(e.tUs, what));
        break;
      case 'ack-received':
        st.acked = Math.max(st.acked, e.ackSeq);
        break;
      case 'output-held':
        st.heldX.push(e.icount);
        break;
      case 'output-released':
        if (e.held && st.heldX.length > 0) st.heldX.shift();
        if (e.out === 'disk' && e.disk === 'read' && !this.opts.holdDiskReads) break;
        st.judge(e.icount, e.out + (e.disk ? `-${e.disk}` : ''), (what) => this.violate(e.tUs, what));
        break;
      default:
        break;
    }
  }

  /** Log entries kept for one primary (for tests of the memory bound). */
  keptEntries(primary = 'A'): number {
    return this.byPrimary.get(primary)?.entries.length ?? 0;
  }
}

/** One primary's view for the Output Rule checker. */
class RuleState {
  /** Log entries [seq, icount] that a future release may still need, in seq (= icount) order. */
  entries: [number, number][] = [];
  /** The highest seq among entries folded away (all at icounts below every future X). */
  private baseSeq = 0;
  acked = 0;
  /** Icounts of outputs announced as held and not yet released (they bound future X). */
  heldX: number[] = [];
  private judgedX = -1;
  private lastSentIcount = 0;

  sent(entries: readonly [number, number, string][], violate: (what: string) => void): void {
    for (const [seq, icount] of entries) {
      if (icount <= this.judgedX) violate(`log entry #${seq} at icount ${icount} sent after an output at icount ${this.judgedX} was released`);
      this.entries.push([seq, icount]);
      this.lastSentIcount = icount;
    }
    this.fold();
  }

  judge(x: number, what: string, violate: (what: string) => void): void {
    const need = this.needSeq(x);
    if (this.acked < need) violate(`${what} at icount ${x} released with ack #${this.acked}, needs #${need}`);
    this.judgedX = Math.max(this.judgedX, x);
    this.fold();
  }

  /** The highest seq among entries with icount ≤ x. */
  private needSeq(x: number): number {
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.entries[mid][1] <= x) lo = mid + 1;
      else hi = mid;
    }
    return lo === 0 ? this.baseSeq : this.entries[lo - 1][0];
  }

  /**
   * Folds entries no future release can need singly: every output still to be released is held
   * now (its icount announced) or not yet produced (at an icount ≥ every entry already sent), and
   * outputs leave in production order.
   */
  private fold(): void {
    const floor = Math.max(this.judgedX, Math.min(this.heldX.length > 0 ? this.heldX[0] : Infinity, this.lastSentIcount));
    let i = 0;
    while (i < this.entries.length - 1 && this.entries[i + 1][1] <= floor) i++;
    if (i > 0) {
      this.baseSeq = this.entries[i - 1][0];
      this.entries = this.entries.slice(i);
    }
  }
}

export interface CheckOptions {
  holdDiskReads?: boolean;
  primary?: string;
  backup?: string;
}

/** The checkers every run is held to (liveness is the cluster's own: it needs host states). */
export function standardCheckers(o: CheckOptions = {}): Checker[] {
  return [
    new HashChecker(o.primary, o.backup),
    new OutputMatchChecker(o.primary, o.backup),
    new OutputRuleChecker({ holdDiskReads: o.holdDiskReads ?? false, primary: o.primary, backup: o.backup }),
    new OneServerChecker(o.primary),
  ];
}

/** Runs checkers over a recorded trace. */
export function runCheckers(trace: readonly TraceEvent[], checkers: Checker[]): Violation[] {
  for (const e of trace) for (const c of checkers) c.event(e);
  return checkers.flatMap((c) => c.finish());
}

export function checkAll(trace: readonly TraceEvent[], o: CheckOptions = {}): Violation[] {
  return runCheckers(trace, standardCheckers(o));
}

export function checkHashes(trace: readonly TraceEvent[]): Violation[] {
  return runCheckers(trace, [new HashChecker()]);
}
export function checkSuppressedMatchesReleased(trace: readonly TraceEvent[]): Violation[] {
  return runCheckers(trace, [new OutputMatchChecker()]);
}
export function checkOutputRule(trace: readonly TraceEvent[], o: { holdDiskReads: boolean } = { holdDiskReads: false }): Violation[] {
  return runCheckers(trace, [new OutputRuleChecker(o)]);
}
