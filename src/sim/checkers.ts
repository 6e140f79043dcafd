/**
 * Invariant checkers over a simulator trace (DESIGN.md §6). Each returns a list of violations
 * (empty = holds), each naming the virtual time and icount, so a failing seeded test can print
 * exactly where. Later work adds the failover checkers (one live server, linearizability).
 */
import type { TraceEvent, TracedEntry } from './trace';

export interface Violation {
  tUs: number;
  what: string;
}

/**
 * Backup state hash equals the primary's at every `hash` entry; no divergence at all. (A run too
 * short for any hash entry passes vacuously: callers assert on summary().hashesChecked.)
 */
export function checkHashes(trace: readonly TraceEvent[], backup = 'B'): Violation[] {
  const v: Violation[] = [];
  const sent = new Set<number>();
  const ok = new Set<number>();
  for (const e of trace) {
    if (e.ev === 'log-sent') for (const [, icount, kind] of e.entries) if (kind === 'hash') sent.add(icount);
    if (e.ev === 'hash-ok' && e.vm === backup) ok.add(e.icount);
    if (e.ev === 'divergence') v.push({ tUs: e.tUs, what: `${e.vm} diverged at icount ${e.icount}: ${e.reason}` });
  }
  for (const icount of sent) if (!ok.has(icount)) v.push({ tUs: Infinity, what: `hash entry at icount ${icount} never matched on the backup` });
  return v;
}

interface Out {
  tUs: number;
  icount: number;
  out: string;
  digest: string;
}

/**
 * The backup suppressed exactly the outputs the primary released: same kinds, icounts, content,
 * order. Console text is compared as one stream (see outputDigest). Run after the cluster drained.
 */
export function checkSuppressedMatchesReleased(trace: readonly TraceEvent[], primary = 'A', backup = 'B'): Violation[] {
  const rel: Out[] = [];
  const sup: Out[] = [];
  let relText = '';
  let supText = '';
  for (const e of trace) {
    if (e.ev === 'released' && e.vm === primary) {
      if (e.out === 'console') relText += e.digest;
      else rel.push(e);
    }
    if (e.ev === 'suppressed' && e.vm === backup) {
      if (e.out === 'console') supText += e.digest;
      else sup.push(e);
    }
  }
  const v: Violation[] = [];
  const n = Math.max(rel.length, sup.length);
  for (let i = 0; i < n && v.length < 5; i++) {
    const a = rel[i];
    const b = sup[i];
    if (!a || !b || a.out !== b.out || a.icount !== b.icount || a.digest !== b.digest) {
      const show = (x: Out | undefined): string => (x ? `${x.out}@${x.icount}#${x.digest}` : 'nothing');
      v.push({ tUs: (a ?? b).tUs, what: `output ${i}: primary released ${show(a)}, backup suppressed ${show(b)}` });
    }
  }
  if (relText !== supText) v.push({ tUs: Infinity, what: `console text differs: primary ${JSON.stringify(relText.slice(-40))}, backup ${JSON.stringify(supText.slice(-40))}` });
  return v;
}

/**
 * Output Rule (§2.2): every held output at icount X was released only after the primary had
 * received an ack covering every log entry with icount ≤ X (over all entries the run ever sent).
 */
export function checkOutputRule(trace: readonly TraceEvent[], primary = 'A'): Violation[] {
  const entries: TracedEntry[] = [];
  for (const e of trace) if (e.ev === 'log-sent' && e.vm === primary) entries.push(...e.entries);
  // maxSeqUpTo(X): the highest seq among entries with icount ≤ X (entries are in seq order).
  const maxSeqUpTo = (icount: number): number => {
    let lo = 0;
    let hi = entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (entries[mid][1] <= icount) lo = mid + 1;
      else hi = mid;
    }
    return lo === 0 ? 0 : entries[lo - 1][0];
  };
  const v: Violation[] = [];
  let acked = 0;
  for (const e of trace) {
    if (e.ev === 'ack-received' && e.vm === primary) acked = Math.max(acked, e.ackSeq);
    if (e.ev === 'released' && e.vm === primary && e.held) {
      const need = maxSeqUpTo(e.icount);
      if (acked < need) v.push({ tUs: e.tUs, what: `${e.out} at icount ${e.icount} released with ack #${acked}, needs #${need}` });
    }
  }
  return v;
}

/** Every released output (except disk reads) must have been held at all: the rule was applied. */
export function checkEveryOutputHeld(trace: readonly TraceEvent[], primary = 'A'): Violation[] {
  const v: Violation[] = [];
  for (const e of trace) if (e.ev === 'released' && e.vm === primary && !e.held && e.out !== 'disk') v.push({ tUs: e.tUs, what: `${e.out} at ${e.icount} released without being held` });
  return v;
}

export function checkAll(trace: readonly TraceEvent[]): Violation[] {
  return [...checkHashes(trace), ...checkSuppressedMatchesReleased(trace), ...checkOutputRule(trace), ...checkEveryOutputHeld(trace)];
}
