import { describe, expect, it } from 'vitest';
import { emptyDigest, foldEvents, OPS_KEPT, CONSOLE_CHARS_MAX } from './digest';
import type { TraceEvent } from '../sim/trace';

const completed = (tUs: number, client: number, seq: number, result: number, fromVm = 'A'): TraceEvent =>
  ({ tUs, vm: 'world', ev: 'client-completed', client, seq, result, latencyUs: 500, fromVm });

describe('the event digest', () => {
  it('keeps the released console on the primary and the suppressed one on the backup', () => {
    const d = foldEvents(emptyDigest(), [
      { tUs: 1, vm: 'A', ev: 'output-released', icount: 10, out: 'console', digest: 'hel', heldUs: 5, held: true },
      { tUs: 2, vm: 'B', ev: 'output-suppressed', icount: 10, out: 'console', digest: 'hel' },
      { tUs: 3, vm: 'A', ev: 'output-released', icount: 20, out: 'console', digest: 'lo', heldUs: 5, held: true },
    ]);
    expect(d.consoles.A).toEqual({ released: 'hello', suppressed: '' });
    expect(d.consoles.B).toEqual({ released: '', suppressed: 'hel' });
  });

  it('bounds the console and the operations, and does not change the digest it folds into', () => {
    const first = emptyDigest();
    const text = 'x'.repeat(CONSOLE_CHARS_MAX + 50);
    const events: TraceEvent[] = [{ tUs: 1, vm: 'A', ev: 'output-released', icount: 1, out: 'console', digest: text, heldUs: 0, held: false }];
    for (let i = 0; i < OPS_KEPT + 30; i++) events.push(completed(10 + i, 1, i + 1, i + 1));
    const d = foldEvents(first, events);
    expect(d.consoles.A.released).toHaveLength(CONSOLE_CHARS_MAX);
    expect(d.ops).toHaveLength(OPS_KEPT);
    expect(d.ops[d.ops.length - 1].result).toBe(OPS_KEPT + 30);
    expect(d.completed).toBe(OPS_KEPT + 30);
    expect(first.ops).toHaveLength(0);
  });

  it('marks a dropped duplicate with the result the client first saw', () => {
    const d = foldEvents(emptyDigest(), [
      completed(1, 2, 7, 11),
      { tUs: 2, vm: 'world', ev: 'client-dropped-duplicate', client: 2, seq: 7, fromVm: 'B' },
    ]);
    expect(d.duplicates).toBe(1);
    expect(d.ops[1]).toMatchObject({ client: 2, seq: 7, result: 11, duplicate: true, fromVm: 'B' });
  });

  it('follows the test-and-set flag through a failover and a VMotion, and what is cut', () => {
    let d = foldEvents(emptyDigest(), [
      { tUs: 1, vm: 'sim', ev: 'fault', action: 'partition logging at 1us' },
      { tUs: 2, vm: 'B', ev: 'tas-requested', epoch: 0, attempt: 1 },
      { tUs: 3, vm: 'B', ev: 'tas-answered', won: true, holder: 'B', reason: 'flag was clear' },
      { tUs: 4, vm: 'A', ev: 'tas-answered', won: false, holder: 'B', reason: 'flag already set' },
      { tUs: 5, vm: 'B', ev: 'went-live', icount: 99, reissued: 2 },
    ]);
    expect(d.cuts.logging).toBe(true);
    expect(d.cuts.wholeTo).toEqual([]);
    expect(d.disk.holder).toBe('B');
    expect(d.disk.reissued).toEqual([{ tUs: 5, vm: 'B', count: 2 }]);
    d = foldEvents(d, [
      { tUs: 6, vm: 'sim', ev: 'fault', action: 'cut B disk at 6us' },
      { tUs: 7, vm: 'sim', ev: 'fault', action: 'heal at 7us' },
      { tUs: 8, vm: 'B', ev: 'snapshot-sent', peer: 'C', icount: 120, epoch: 1, bytes: 1 << 24 },
    ]);
    expect(d.cuts).toEqual({ logging: false, wholeTo: [], vms: [] });
    expect(d.disk).toMatchObject({ holder: null, epoch: 1 });
    expect(d.moments.map((m) => m.text)).toContain('B goes live at icount 99, re-issuing 2 disk request(s)');
    // Cut again, then a new backup: the wires of the old pair stay cut, the new VM's channel is whole.
    d = foldEvents(d, [
      { tUs: 9, vm: 'sim', ev: 'fault', action: 'partition logging at 9us' },
      { tUs: 10, vm: 'B', ev: 'snapshot-sent', peer: 'D', icount: 130, epoch: 2, bytes: 1 << 24 },
    ]);
    expect(d.cuts).toMatchObject({ logging: true, wholeTo: ['D'] });
  });
});
