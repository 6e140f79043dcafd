/** Each checker fails on a small hand-made trace that breaks its invariant, and passes the fixed one. */
import { describe, expect, it } from 'vitest';
import { checkHashes, checkOutputRule, checkSuppressedMatchesReleased, checkEveryOutputHeld } from './checkers';
import type { TraceEvent } from './trace';

const sent: TraceEvent = { tUs: 0, vm: 'A', ev: 'log-sent', bytes: 100, entries: [[1, 10, 'net-rx'], [2, 50, 'progress'], [3, 90, 'hash']] };
const rel = (tUs: number, icount: number, digest = 'aa', held = true): TraceEvent => ({ tUs, vm: 'A', ev: 'released', icount, out: 'net-tx', digest, heldUs: 1, held });
const sup = (icount: number, digest = 'aa'): TraceEvent => ({ tUs: 9, vm: 'B', ev: 'suppressed', icount, out: 'net-tx', digest });
const ack = (tUs: number, ackSeq: number): TraceEvent => ({ tUs, vm: 'A', ev: 'ack-received', ackSeq, backupIcount: 0 });

describe('checkers', () => {
  it('checkHashes: an unmatched hash entry or a divergence fails', () => {
    expect(checkHashes([sent])).toHaveLength(1);
    expect(checkHashes([sent, { tUs: 5, vm: 'B', ev: 'hash-ok', icount: 90 }])).toEqual([]);
    expect(checkHashes([sent, { tUs: 5, vm: 'B', ev: 'divergence', icount: 42, reason: 'x' }])[0].what).toMatch(/42/);
  });

  it('checkOutputRule: release before the ack covering entries ≤ its icount fails', () => {
    // Output at icount 60: entries 1 (@10) and 2 (@50) must be acked.
    expect(checkOutputRule([sent, ack(1, 1), rel(2, 60)])).toHaveLength(1);
    expect(checkOutputRule([sent, ack(1, 2), rel(2, 60)])).toEqual([]);
    expect(checkOutputRule([sent, rel(2, 60, 'aa', false)])).toEqual([]); // not held: not this checker's business
  });

  it('checkSuppressedMatchesReleased: a differing, missing or extra output fails', () => {
    expect(checkSuppressedMatchesReleased([rel(1, 60), sup(60)])).toEqual([]);
    expect(checkSuppressedMatchesReleased([rel(1, 60), sup(61)])).toHaveLength(1);
    expect(checkSuppressedMatchesReleased([rel(1, 60), sup(60, 'bb')])).toHaveLength(1);
    expect(checkSuppressedMatchesReleased([rel(1, 60)])).toHaveLength(1);
    expect(checkSuppressedMatchesReleased([sup(60)])).toHaveLength(1);
  });

  it('checkSuppressedMatchesReleased: console text compares as a stream', () => {
    const con = (vm: string, ev: 'released' | 'suppressed', icount: number, text: string): TraceEvent =>
      ev === 'released' ? { tUs: 1, vm, ev, icount, out: 'console', digest: text, heldUs: 0, held: true } : { tUs: 1, vm, ev, icount, out: 'console', digest: text };
    expect(checkSuppressedMatchesReleased([con('A', 'released', 5, 'hel'), con('A', 'released', 9, 'lo\n'), con('B', 'suppressed', 9, 'hello\n')])).toEqual([]);
    expect(checkSuppressedMatchesReleased([con('A', 'released', 5, 'hello\n'), con('B', 'suppressed', 9, 'help\n')])).toHaveLength(1);
  });

  it('checkEveryOutputHeld: a packet released without holding fails', () => {
    expect(checkEveryOutputHeld([rel(1, 60, 'aa', false)])).toHaveLength(1);
    expect(checkEveryOutputHeld([rel(1, 60)])).toEqual([]);
  });
});
