import { describe, expect, it } from 'vitest';
import type { TraceEvent } from '../../sim/trace';
import { buildMarks, linkEvents, lowerBound, NOMINAL_FLIGHT_US, spaceTimeLanes, type SpaceTimeMarks, type TimeWindow } from './spacetime-marks';
import { describeEvent, followWindow, nearestEvent, spaceTimeLayout } from './spacetime-layout';

const VMS = [
  { name: 'A', role: 'primary', peer: 'B' },
  { name: 'B', role: 'backup', peer: 'A' },
];
const LANES = spaceTimeLanes(VMS); // clients 0, A 1, B 2, disk 3

function logSent(tUs: number, first: number, last: number, resent = false): TraceEvent {
  return { tUs, vm: 'A', ev: 'log-sent', bytes: 64, first, last, resent, entries: [[first, 100, 'timer']] };
}
function ackSent(tUs: number, ackSeq: number): TraceEvent {
  return { tUs, vm: 'B', ev: 'ack-sent', ackSeq, appliedSeq: ackSeq, backupIcount: 90 };
}
function ackReceived(tUs: number, ackSeq: number): TraceEvent {
  return { tUs, vm: 'A', ev: 'ack-received', ackSeq, appliedSeq: ackSeq, backupIcount: 90 };
}

function marksOf(events: TraceEvent[], win: TimeWindow = { startUs: 0, endUs: 10_000 }, nowUs = 10_000): SpaceTimeMarks {
  return buildMarks(events, linkEvents(events), LANES, win, nowUs);
}

describe('space-time marks', () => {
  it('draws lanes for the clients, each VM in order, then the disk', () => {
    expect(LANES.names).toEqual(['clients', 'A', 'B', 'disk']);
  });

  it('turns a log batch and its ack into a line A → B, and the ack into a line B → A', () => {
    const events = [logSent(1000, 5, 7), ackSent(1040, 7), ackReceived(1090, 7)];
    const { lines } = marksOf(events);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ t0Us: 1000, lane0: 1, t1Us: 1040, lane1: 2, hue: 'primary', dashed: false, lost: false });
    expect(lines[1]).toMatchObject({ t0Us: 1040, lane0: 2, t1Us: 1090, lane1: 1, hue: 'backup' });
  });

  it('ends a batch at the first ack that covers its last entry', () => {
    const events = [logSent(1000, 1, 3), ackSent(1020, 2), ackSent(1060, 4)];
    expect(marksOf(events).lines[0]).toMatchObject({ t0Us: 1000, t1Us: 1060, lane1: 2 });
  });

  it('ends an unacked batch a nominal flight later on the peer lane, and dashes a resend', () => {
    const events = [logSent(1000, 1, 1), logSent(2000, 1, 1, true)];
    const [lost, resent] = marksOf(events).lines;
    expect(lost).toMatchObject({ t0Us: 1000, t1Us: 1000 + NOMINAL_FLIGHT_US, lane1: 2, lost: true });
    expect(resent).toMatchObject({ t0Us: 2000, dashed: true, lost: false });
  });

  it('marks an ack lost when a later one arrives first (links are in order)', () => {
    const events = [ackSent(1000, 3), ackSent(1200, 5), ackReceived(1250, 5)];
    const [lost, arrived] = marksOf(events).lines;
    expect(lost).toMatchObject({ t0Us: 1000, t1Us: 1000 + NOMINAL_FLIGHT_US, lane1: 1, lost: true });
    expect(arrived).toMatchObject({ t0Us: 1200, t1Us: 1250, lane1: 1, lost: false });
  });

  it('draws a released output as a bar of its heldUs, and a held one growing to now', () => {
    const events: TraceEvent[] = [
      { tUs: 1000, vm: 'A', ev: 'output-held', icount: 10, out: 'net-tx' },
      { tUs: 1300, vm: 'A', ev: 'output-released', icount: 10, out: 'net-tx', digest: 'x', heldUs: 300, held: true },
      { tUs: 2000, vm: 'A', ev: 'output-held', icount: 20, out: 'console' },
    ];
    const { bars } = marksOf(events, { startUs: 0, endUs: 5000 }, 4500);
    expect(bars).toHaveLength(2);
    expect(bars[0]).toMatchObject({ t0Us: 1000, t1Us: 1300, lane: 1, hue: 'warn' });
    expect(bars[1]).toMatchObject({ t0Us: 2000, t1Us: 4500, lane: 1 });
  });

  it('ends a held output at its VM’s crash', () => {
    const events: TraceEvent[] = [
      { tUs: 1000, vm: 'A', ev: 'output-held', icount: 10, out: 'net-tx' },
      { tUs: 1500, vm: 'A', ev: 'crashed' },
    ];
    const { bars, markers } = marksOf(events);
    expect(bars[0]).toMatchObject({ t0Us: 1000, t1Us: 1500 });
    expect(markers[0]).toMatchObject({ tUs: 1500, lane: 1, shape: 'x', big: true });
  });

  it('skips events outside the window, but keeps spans that cross into it', () => {
    const events: TraceEvent[] = [
      { tUs: 100, vm: 'A', ev: 'heartbeat-sent', icount: 1 },
      logSent(4990, 1, 1),
      ackSent(5030, 1),
      { tUs: 5600, vm: 'A', ev: 'output-released', icount: 10, out: 'net-tx', digest: 'x', heldUs: 900, held: true },
      { tUs: 9000, vm: 'A', ev: 'heartbeat-sent', icount: 2 },
    ];
    const m = marksOf(events, { startUs: 5000, endUs: 6000 }, 9000);
    expect(m.ticks).toHaveLength(0);
    expect(m.lines.map((l) => [l.t0Us, l.t1Us])).toEqual([[4990, 5030], [5030, 5030 + NOMINAL_FLIGHT_US]]); // the ack has no receipt yet
    expect(m.bars[0]).toMatchObject({ t0Us: 4700, t1Us: 5600 });
  });

  it('draws a fault across every lane, and test-and-set as VM → disk → VM', () => {
    const events: TraceEvent[] = [
      { tUs: 3000, vm: 'sim', ev: 'fault', action: 'kill A at 3ms' },
      { tUs: 4000, vm: 'B', ev: 'tas-requested', epoch: 1, attempt: 1 },
      { tUs: 4200, vm: 'B', ev: 'tas-answered', won: true, holder: 'B', reason: 'set' },
    ];
    const m = marksOf(events);
    expect(m.rules).toEqual([expect.objectContaining({ tUs: 3000, label: 'kill A at 3ms', hue: 'danger' })]);
    expect(m.lines).toEqual([
      expect.objectContaining({ t0Us: 4000, lane0: 2, t1Us: 4100, lane1: 3, hue: 'disk' }),
      expect.objectContaining({ t0Us: 4100, lane0: 3, t1Us: 4200, lane1: 2, hue: 'backup' }),
    ]);
    expect(m.markers[0]).toMatchObject({ label: 'won', lane: 2 });
  });

  it('draws a client operation as a bar on the clients lane with its result', () => {
    const events: TraceEvent[] = [{ tUs: 5000, vm: 'world', ev: 'client-completed', client: 0, seq: 1, result: 42, latencyUs: 800, fromVm: 'A' }];
    const m = marksOf(events);
    expect(m.bars[0]).toMatchObject({ t0Us: 4200, t1Us: 5000, lane: 0, label: '42', hue: 'client' });
  });

  it('skips samples, summaries and events it does not know', () => {
    const events = [
      { tUs: 10, vm: 'sim', ev: 'sample', icounts: [1, 2], lagUs: 0, share: 1 },
      { tUs: 20, vm: 'sim', ev: 'summary', summary: {} },
      { tUs: 30, vm: 'A', ev: 'something-new' },
    ] as TraceEvent[];
    const m = marksOf(events);
    expect([m.lines, m.bars, m.ticks, m.markers, m.rules].flat()).toHaveLength(0);
  });

  it('follows the run: the right edge is now, and it fills from 0 at the start', () => {
    expect(followWindow(50_000, 20_000)).toEqual({ startUs: 30_000, endUs: 50_000 });
    expect(followWindow(5_000, 20_000)).toEqual({ startUs: 0, endUs: 20_000 });
  });

  it('finds the first event at or after a time', () => {
    const events = [logSent(10, 1, 1), logSent(20, 2, 2), logSent(20, 3, 3), logSent(30, 4, 4)];
    expect([lowerBound(events, 0), lowerBound(events, 20), lowerBound(events, 25), lowerBound(events, 99)]).toEqual([0, 1, 3, 4]);
  });
});

describe('space-time hit-testing', () => {
  const win = { startUs: 0, endUs: 10_000 };
  const layout = spaceTimeLayout(1116, 430, LANES.names.length, win); // plot 116..1098 wide, 28..400 tall

  it('maps time and lanes to pixels and back', () => {
    expect(layout.xOfUs(0)).toBe(116);
    expect(layout.usOfX(layout.xOfUs(4321))).toBeCloseTo(4321);
    expect(layout.yOfLane(0)).toBeCloseTo(28 + 93 / 2);
  });

  it('returns the event nearest the pointer, or none when nothing is close', () => {
    const hb: TraceEvent = { tUs: 2000, vm: 'A', ev: 'heartbeat-sent', icount: 1 };
    const events = [logSent(1000, 1, 1), ackSent(1400, 1), hb];
    const marks = marksOf(events, win);
    const onHeartbeat = nearestEvent(marks, layout, layout.xOfUs(2000) + 2, layout.yOfLane(1) + 1);
    expect(onHeartbeat?.ev).toBe(hb);
    // Halfway along the batch's line from A to B.
    const mid = nearestEvent(marks, layout, (layout.xOfUs(1000) + layout.xOfUs(1400)) / 2, (layout.yOfLane(1) + layout.yOfLane(2)) / 2);
    expect(mid?.ev).toBe(events[0]);
    expect(nearestEvent(marks, layout, layout.xOfUs(8000), layout.yOfLane(3))).toBeNull();
  });

  it('describes an event by name, time in ms and its fields', () => {
    const d = describeEvent({ tUs: 1234.6, vm: 'A', ev: 'output-released', icount: 7, out: 'net-tx', digest: 'ab', heldUs: 300, held: true });
    expect(d.title).toBe('output-released');
    expect(d.lines[0]).toBe('1.235 ms · A');
    expect(d.lines).toContain('heldUs: 300 µs');
  });
});
