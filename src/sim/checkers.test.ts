/** Each checker fails on a small hand-made trace that breaks its invariant, and passes the fixed one. */
import { describe, expect, it } from 'vitest';
import { checkHashes, checkOutputRule, checkSuppressedMatchesReleased, OutputRuleChecker } from './checkers';
import type { TraceEvent, TracedEntry } from './trace';

const sentAt = (tUs: number, entries: TracedEntry[]): TraceEvent => ({
  tUs, vm: 'A', ev: 'log-sent', bytes: 100, first: entries[0][0], last: entries[entries.length - 1][0], resent: false, entries,
});
const sent = sentAt(0, [[1, 10, 'net-rx'], [2, 50, 'progress'], [3, 90, 'hash']]);
const rel = (tUs: number, icount: number, digest = 'aa', held = true): TraceEvent => ({ tUs, vm: 'A', ev: 'output-released', icount, out: 'net-tx', digest, heldUs: 1, held });
const disk = (tUs: number, icount: number, dir: 'read' | 'write'): TraceEvent => ({ tUs, vm: 'A', ev: 'output-released', icount, out: 'disk', disk: dir, digest: 'dd', heldUs: 0, held: false });
const sup = (icount: number, digest = 'aa'): TraceEvent => ({ tUs: 9, vm: 'B', ev: 'output-suppressed', icount, out: 'net-tx', digest });
const ack = (tUs: number, ackSeq: number): TraceEvent => ({ tUs, vm: 'A', ev: 'ack-received', ackSeq, appliedSeq: ackSeq, backupIcount: 0 });

describe('checkers', () => {
  it('checkHashes: an unmatched hash entry or a divergence fails', () => {
    expect(checkHashes([sent])).toHaveLength(1);
    expect(checkHashes([sent, { tUs: 5, vm: 'B', ev: 'hash-ok', icount: 90 }])).toEqual([]);
    expect(checkHashes([sent, { tUs: 5, vm: 'B', ev: 'divergence', icount: 42, reason: 'x' }])[0].what).toMatch(/42/);
  });

  it('checkHashes: a match reported before its entry (free run: nodes report on their own) still matches it', () => {
    expect(checkHashes([{ tUs: 5, vm: 'B', ev: 'hash-ok', icount: 90 }, sent])).toEqual([]);
    // It matches that entry only: another at a different icount is still unmatched.
    expect(checkHashes([{ tUs: 5, vm: 'B', ev: 'hash-ok', icount: 91 }, sent])).toHaveLength(1);
  });

  it('checkOutputRule: release before the ack covering entries ≤ its icount fails, held flag or not', () => {
    // Output at icount 60: entries 1 (@10) and 2 (@50) must be acked.
    expect(checkOutputRule([sent, ack(1, 1), rel(2, 60)])).toHaveLength(1);
    expect(checkOutputRule([sent, ack(1, 2), rel(2, 60)])).toEqual([]);
    expect(checkOutputRule([sent, ack(1, 1), rel(2, 60, 'aa', false)])).toHaveLength(1); // the flag buys nothing
  });

  it('checkOutputRule: an output released before its own log entries were sent fails', () => {
    const later = sentAt(3, [[4, 95, 'nondet'], [5, 120, 'progress']]);
    expect(checkOutputRule([sent, ack(1, 3), rel(2, 100), later])).toHaveLength(1);
    expect(checkOutputRule([sent, later, ack(4, 4), rel(5, 100)])).toEqual([]);
  });

  it('checkOutputRule: disk writes are judged; disk reads only when holdDiskReads is on', () => {
    expect(checkOutputRule([sent, disk(2, 60, 'write')])).toHaveLength(1);
    expect(checkOutputRule([sent, disk(2, 60, 'read')])).toEqual([]);
    expect(checkOutputRule([sent, disk(2, 60, 'read')], { holdDiskReads: true })).toHaveLength(1);
  });

  it('checkOutputRule keeps flat memory over a long run with no outputs', () => {
    const c = new OutputRuleChecker({ holdDiskReads: false });
    for (let i = 1; i <= 100_000; i++) c.event(sentAt(i, [[i, i * 10, 'progress']]));
    c.event(ack(200_000, 100_000));
    c.event(rel(200_001, 1_000_001));
    expect(c.finish()).toEqual([]);
    expect(c.keptEntries()).toBeLessThan(10);
  });

  it('checkSuppressedMatchesReleased: a differing, missing or extra output fails', () => {
    expect(checkSuppressedMatchesReleased([rel(1, 60), sup(60)])).toEqual([]);
    expect(checkSuppressedMatchesReleased([rel(1, 60), sup(61)])).toHaveLength(1);
    expect(checkSuppressedMatchesReleased([rel(1, 60), sup(60, 'bb')])).toHaveLength(1);
    expect(checkSuppressedMatchesReleased([rel(1, 60)])).toHaveLength(1);
    expect(checkSuppressedMatchesReleased([sup(60)])).toHaveLength(1);
  });

  it('checkSuppressedMatchesReleased: console text compares as a stream', () => {
    const con = (vm: string, released: boolean, icount: number, text: string): TraceEvent =>
      released
        ? { tUs: 1, vm, ev: 'output-released', icount, out: 'console', digest: text, heldUs: 0, held: true }
        : { tUs: 1, vm, ev: 'output-suppressed', icount, out: 'console', digest: text };
    expect(checkSuppressedMatchesReleased([con('A', true, 5, 'hel'), con('A', true, 9, 'lo\n'), con('B', false, 9, 'hello\n')])).toEqual([]);
    expect(checkSuppressedMatchesReleased([con('A', true, 5, 'hello\n'), con('B', false, 9, 'help\n')])).toHaveLength(1);
  });
});
