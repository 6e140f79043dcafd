/** Unit tests of the paper's mechanisms, each alone: Output Rule, flow control with the lag cap, throttling, stats. */
import { describe, expect, it } from 'vitest';
import { OutputRule } from './output-rule';
import { FlowControl } from './flow-control';
import { Throttle } from './throttle';
import { DurationStats, Ring } from './stats';
import type { FtEffect } from './effects';
import type { MachineOutput } from '../machine/types';

const packet = (icount: number): MachineOutput => ({ kind: 'net-tx', icount, bytes: new Uint8Array([icount & 0xff]) });
const read = (icount: number): MachineOutput => ({ kind: 'disk', icount, req: { id: icount, op: 'read', sector: 0, count: 1 } });

describe('OutputRule', () => {
  it('releases in production order once the ack covers an entry past each output', () => {
    const rule = new OutputRule({ outputRule: true, holdDiskReads: false });
    const fx: FtEffect[] = [];
    rule.hold(packet(10), 0, fx);
    rule.hold(read(12), 0, fx); // no ack needed, but queued behind the packet
    rule.hold(packet(20), 0, fx);
    expect(rule.needsCover(25)).toBe(true);
    rule.cover(7, 15); // covers the outputs before icount 15
    rule.cover(9, 25);
    expect(rule.needsCover(25)).toBe(false);
    rule.release(6, 100, fx);
    expect(fx.filter((e) => e.ev === 'output-released')).toHaveLength(0);
    rule.release(7, 200, fx);
    expect(fx.filter((e) => e.ev === 'output-released').map((e) => (e as { out: MachineOutput }).out.icount)).toEqual([10, 12]);
    rule.release(9, 300, fx);
    expect(rule.heldCount).toBe(0);
    expect(rule.summary()).toMatchObject({ count: 2, maxUs: 300 });
  });

  it('switched off, nothing waits', () => {
    const rule = new OutputRule({ outputRule: false, holdDiskReads: false });
    const fx: FtEffect[] = [];
    rule.hold(packet(10), 5, fx);
    rule.release(0, 5, fx);
    expect(fx.map((e) => e.ev)).toEqual(['output-released']);
  });
});

describe('FlowControl', () => {
  const settings = { logBufferBytesMax: 100, lagCapUs: 10_000, speedIps: 1_000_000 };
  const ack = (seq: number, backupIcount: number, replayIps = 0) => ({ type: 'ack' as const, ackSeq: seq, appliedSeq: seq, backupIcount, replayIps });

  it('counts bytes until the backup has replayed them; full blocks', () => {
    const f = new FlowControl(settings, 0);
    f.sent([{ seq: 1, icount: 10, bytes: 60 }, { seq: 2, icount: 20, bytes: 60 }]);
    expect(f.blockReason(20)).toBe('log-full');
    f.onAck(ack(1, 10), 20);
    expect(f.inflightBytes).toBe(60);
    expect(f.blockReason(20)).toBeNull();
  });

  it('the lag cap limits the backlog at the backup\'s reported replay speed', () => {
    const f = new FlowControl(settings, 0);
    f.onAck(ack(0, 0, 100_000), 0); // the backup replays 100k instructions per second
    expect(f.budgetUnderCap(0)).toBe(970); // 10 ms of its time, less 3 % headroom
    expect(f.lagUs(500)).toBe(5_000);
    expect(f.blockReason(1_000)).toBe('lag-cap');
    f.onAck(ack(0, 600, 100_000), 1_000);
    expect(f.blockReason(1_000)).toBeNull();
  });
});

describe('Throttle', () => {
  it('cuts in small steps while the lag grows above the threshold, holds while it shrinks, restores below', () => {
    const t = new Throttle({ lagThresholdUs: 1_000, throttleStep: 0.1, throttleIntervalUs: 10, cpuShareMin: 0.3 });
    const shares: number[] = [];
    for (let i = 0; i < 12; i++) {
      t.update(i * 10, 2_000 + i * 100); // above and growing
      shares.push(t.cpuShare);
    }
    expect(Math.min(...shares)).toBe(0.3); // floor
    for (let i = 1; i < shares.length; i++) expect(shares[i - 1] - shares[i]).toBeLessThanOrEqual(0.1 + 1e-9);
    expect(t.update(200, 1_500)).toBeNull(); // above but shrinking: hold
    expect(t.update(210, 100)).toBeCloseTo(0.4); // below: restore
    expect(t.update(215, 100)).toBeNull(); // not within the interval
  });
});

describe('stats', () => {
  it('DurationStats keeps count and max exactly and the median within 1.1%', () => {
    const d = new DurationStats();
    for (let i = 1; i <= 10_001; i++) d.add(i * 3);
    const s = d.summary();
    expect(s.count).toBe(10_001);
    expect(s.maxUs).toBe(30_003);
    expect(Math.abs(s.medianUs - 15_003) / 15_003).toBeLessThan(0.011);
    expect(JSON.stringify(d.snapshot()).length).toBeLessThan(20_000);
  });

  it('Ring keeps the last items in order', () => {
    const r = new Ring<number>(3);
    for (let i = 0; i < 7; i++) r.push(i);
    expect(r.toArray()).toEqual([4, 5, 6]);
    expect(r.total).toBe(7);
  });
});
