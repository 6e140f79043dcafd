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
]);

abstract class BaseChecker implements Checker {
  abstract readonly name: string;
  protected readonly found: Violation[] = [];
  protected count = 0;

  abstract event(e: TraceEvent): void;

  protected violate(tUs: number, what: string): void {
    this.count++;
    if (this.found.length < VIOLATIONS_KEPT) this.found.push({ tUs, what });
  }

  finish(): Violation[] {
    const more = this.count - this.found.length;
    return more > 0 ? [...this.found, { tUs: Infinity, what: `${this.name}: ${more} more violation(s)` }] : [...this.found];
  }
}

/** The backup's state hash equals the primary's at every `hash` entry; no divergence at all. */
export class HashChecker extends BaseChecker {
  readonly name = 'hashes';
  private readonly pending = new Map<number, number>();

  constructor(private readonly primary = 'A', private readonly backup = 'B') {
    super();
  }

  event(e: TraceEvent): void {
    if (e.ev === 'log-sent' && e.vm === this.primary) {
      for (const [, icount, kind] of e.entries) if (kind === 'hash') this.pending.set(icount, e.tUs);
    } else if (e.ev === 'hash-ok' && e.vm === this.backup) {
      this.pending.delete(e.icount);
    } else if (e.ev === 'divergence') {
      this.violate(e.tUs, `${e.vm} diverged at icount ${e.icount}: ${e.reason}`);
    }
  }

  override finish(): Violation[] {
    for (const [icount, tUs] of this.pending) this.violate(tUs, `hash entry at icount ${icount} never matched on the backup`);
    this.pending.clear();
    return super.finish();
  }

  /** Hash entries still waiting for the backup. */
  get open(): number {
    return this.pending.size;
  }
}

interface Out {
  tUs: number;
  icount: number;
  out: string;
  digest: string;
}

/**
 * The backup suppressed exactly the outputs the primary released: same kinds, icounts, content,
 * order. Console text is compared as one stream (see outputDigest). Matched pairs are forgotten.
 */
export class OutputMatchChecker extends BaseChecker {
  readonly name = 'suppressed == released';
  private readonly rel: Out[] = [];
  private readonly sup: Out[] = [];
  private relText = '';
  private supText = '';
  private consoleDiffers = false;
  private index = 0;

  constructor(private readonly primary = 'A', private readonly backup = 'B') {
    super();
  }

  event(e: TraceEvent): void {
    if (e.ev === 'output-released' && e.vm === this.primary) {
      if (e.out === 'console') this.relText += e.digest;
      else this.rel.push(e);
    } else if (e.ev === 'output-suppressed' && e.vm === this.backup) {
      if (e.out === 'console') this.supText += e.digest;
      else this.sup.push(e);
    } else {
      return;
    }
    this.compare();
  }

  private compare(): void {
    while (this.rel.length > 0 && this.sup.length > 0) this.pair(this.rel.shift(), this.sup.shift());
    const n = Math.min(this.relText.length, this.supText.length);
    if (n > 0 && !this.consoleDiffers) {
      if (this.relText.slice(0, n) !== this.supText.slice(0, n)) {
        this.consoleDiffers = true;
        this.violate(Infinity, `console text differs: primary ${JSON.stringify(this.relText.slice(0, 40))}, backup ${JSON.stringify(this.supText.slice(0, 40))}`);
      }
    }
    // Compared text is forgotten; once the streams differ, the rest says nothing new.
    if (n > 0) {
      this.relText = this.relText.slice(n);
      this.supText = this.supText.slice(n);
    }
  }

  private pair(a: Out | undefined, b: Out | undefined): void {
    const i = this.index++;
    if (a && b && a.out === b.out && a.icount === b.icount && a.digest === b.digest) return;
    const show = (x: Out | undefined): string => (x ? `${x.out}@${x.icount}#${x.digest}` : 'nothing');
    this.violate((a ?? b)?.tUs ?? Infinity, `output ${i}: primary released ${show(a)}, backup suppressed ${show(b)}`);
  }

  /** Call after the cluster drained: whatever is left unmatched is a mismatch. */
  override finish(): Violation[] {
    while (this.rel.length > 0 || this.sup.length > 0) this.pair(this.rel.shift(), this.sup.shift());
    if (this.relText !== this.supText && !this.consoleDiffers) {
      this.violate(Infinity, `console text differs at the end: primary ${JSON.stringify(this.relText.slice(0, 40))}, backup ${JSON.stringify(this.supText.slice(0, 40))}`);
    }
    return super.finish();
  }
}

/**
 * The Output Rule (paper §2.2), judged from the trace alone: every output released at icount X —
 * packets, console text, disk writes, and disk reads too unless `holdDiskReads` is off — left only
 * after the primary had received an ack covering every log entry with icount ≤ X, including
 * entries sent after the release (an output that went out before its entries were even sent is
 * the plainest violation). Outputs leave in production order, so X never decreases; entries below
 * every X still to come are folded into one number.
 */
export class OutputRuleChecker extends BaseChecker {
  readonly name = 'output rule';
  /** Log entries [seq, icount] that a future release may still need, in seq (= icount) order. */
  private entries: [number, number][] = [];
  /** The highest seq among entries folded away (all at icounts below every future X). */
  private baseSeq = 0;
  private acked = 0;
  /** Icounts of outputs announced as held and not yet released (they bound future X). */
  private heldX: number[] = [];
  private judgedX = -1;
  private lastSentIcount = 0;

  constructor(private readonly opts: { holdDiskReads: boolean; primary?: string }) {
    super();
  }

  private get primary(): string {
    return this.opts.primary ?? 'A';
  }

  event(e: TraceEvent): void {
    if (e.vm !== this.primary) return;
    switch (e.ev) {
      case 'log-sent':
        if (!e.resent) this.sent(e.tUs, e.entries);
        break;
      case 'ack-received':
        this.acked = Math.max(this.acked, e.ackSeq);
        break;
      case 'output-held':
        this.heldX.push(e.icount);
        break;
      case 'output-released':
        if (e.held && this.heldX.length > 0) this.heldX.shift();
        if (e.out === 'disk' && e.disk === 'read' && !this.opts.holdDiskReads) break;
        this.judge(e.tUs, e.icount, e.out + (e.disk ? `-${e.disk}` : ''));
        break;
      default:
        break;
    }
  }

  private sent(tUs: number, entries: readonly [number, number, string][]): void {
    for (const [seq, icount] of entries) {
      if (icount <= this.judgedX) this.violate(tUs, `log entry #${seq} at icount ${icount} sent after an output at icount ${this.judgedX} was released`);
      this.entries.push([seq, icount]);
      this.lastSentIcount = icount;
    }
    this.fold();
  }

  private judge(tUs: number, x: number, what: string): void {
    const need = this.needSeq(x);
    if (this.acked < need) this.violate(tUs, `${what} at icount ${x} released with ack #${this.acked}, needs #${need}`);
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
   * now (its icount announced) or not yet produced (at an icount ≥ every entry already sent).
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
    new OutputRuleChecker({ holdDiskReads: o.holdDiskReads ?? false, primary: o.primary }),
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
