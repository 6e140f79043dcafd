/**
 * The space-time diagram's pure half: trace events → marks (lines, bars, ticks, markers, rules)
 * for one time window. No DOM here, so it is unit-tested in node and the canvas half only paints.
 *
 * Two stages, because they change at different rates: linkEvents pairs each message with its
 * arrival (a log batch with its ack, an ack with its receipt, a held output with its release…)
 * once per new trace; buildMarks runs per frame and only walks the events near the window.
 */
import type { TraceEvent } from '../../sim/trace';
import type { ThemeColor } from './theme';
import { markerStyle } from './spacetime-markers';

/** Where a message whose arrival is not in the trace (yet) is drawn to end: a nominal flight. */
export const NOMINAL_FLIGHT_US = 50;

export interface LaneVm { name: string; role: string; peer: string | null }

/** The rows, top to bottom: the clients, each VM in the given order, the shared disk server. */
export interface Lanes {
  names: string[];
  index: Map<string, number>;
  peer: Map<string, string | null>;
}

export interface TimeWindow { startUs: number; endUs: number }

interface MarkBase { hue: ThemeColor; ev: TraceEvent }
export interface LineMark extends MarkBase { t0Us: number; lane0: number; t1Us: number; lane1: number; dashed: boolean; lost: boolean; faint: boolean; label: string | null }
/** `slot` shifts a bar up or down inside its lane (-1, 0, 1) so overlapping ones stay apart. */
export interface BarMark extends MarkBase { t0Us: number; t1Us: number; lane: number; slot: number; band: boolean; label: string | null }
export interface TickMark extends MarkBase { tUs: number; lane: number; dot: boolean; faint: boolean }
export type MarkerShape = 'x' | 'diamond' | 'triangle' | 'circle' | 'flag' | 'ring' | 'square';
export interface MarkerMark extends MarkBase { tUs: number; lane: number; shape: MarkerShape; big: boolean; label: string }
/** A vertical line across every lane: a scripted fault, a liveness complaint. */
export interface RuleMark extends MarkBase { tUs: number; label: string }

export interface SpaceTimeMarks { lines: LineMark[]; bars: BarMark[]; ticks: TickMark[]; markers: MarkerMark[]; rules: RuleMark[] }

export function spaceTimeLanes(vms: readonly LaneVm[]): Lanes {
  const names = ['clients', ...vms.map((v) => v.name), 'disk'];
  return { names, index: new Map(names.map((n, i) => [n, i])), peer: new Map(vms.map((v) => [v.name, v.peer])) };
}

/** A trace name's lane: 'world' and client endpoints are the clients' row; -1: not drawn. */
export function laneOf(lanes: Lanes, name: string): number {
  const i = lanes.index.get(name);
  if (i !== undefined) return i;
  if (name === 'world' || name.startsWith('client')) return 0;
  return -1;
}

/** First index with tUs ≥ tUs (the items are in tUs order): events, chart points. */
export function lowerBound(items: readonly { tUs: number }[], tUs: number): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (items[mid].tUs < tUs) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// ---------------------------------------------------------------------------------------------
// Stage 1: pairing

export interface EventLinks {
  /** The event that ends this one's span (ack of a batch, release of a held output…), or -1. */
  partner: Int32Array;
  /** 1: this event is some other event's end, drawn by that one. */
  isEnd: Uint8Array;
  /** 1: the message was lost: a resend replaced it, or a later one arrived first on an in-order link. */
  lost: Uint8Array;
  /** Spans with no end yet (a held output, a blocked primary): drawn to now whatever the window. */
  open: number[];
  /** How far a span reaches forward from / back from its event: how wide buildMarks must look. */
  maxForwardUs: number;
  maxBackUs: number;
}

type Queues = Map<string, number[]>;

function enqueue(q: Queues, key: string, i: number): void {
  const list = q.get(key);
  if (list) list.push(i);
  else q.set(key, [i]);
}

interface Pairing {
  events: readonly TraceEvent[];
  links: EventLinks;
  batches: Queues; // sender → log-sent awaiting an ack, in order of `last`
  acks: Queues; // sender → ack-sent awaiting arrival, in send order
  spans: Queues; // `${vm}|…` → output-held / blocked awaiting their end
  pending: Map<string, number>; // test-and-set by requester, snapshots by receiver
}

/** Pairs messages with their arrivals in one pass; memoise it per trace, not per frame. */
export function linkEvents(events: readonly TraceEvent[]): EventLinks {
  const n = events.length;
  const links: EventLinks = { partner: new Int32Array(n).fill(-1), isEnd: new Uint8Array(n), lost: new Uint8Array(n), open: [], maxForwardUs: 0, maxBackUs: 0 };
  const p: Pairing = { events, links, batches: new Map(), acks: new Map(), spans: new Map(), pending: new Map() };
  for (let i = 0; i < n; i++) if (!linkMessage(p, i)) linkSpan(p, i);
  for (const q of p.spans.values()) links.open.push(...q);
  links.open.sort((a, b) => a - b);
  return links;
}

/** `from` ends at `to`. Forward spans are drawn from `from`, so buildMarks must look back that far. */
function pair(p: Pairing, from: number, to: number, forward = true): void {
  p.links.partner[from] = to;
  p.links.isEnd[to] = 1;
  if (forward) p.links.maxForwardUs = Math.max(p.links.maxForwardUs, p.events[to].tUs - p.events[from].tUs);
}

function linkMessage(p: Pairing, i: number): boolean {
  const e = p.events[i];
  switch (e.ev) {
    case 'log-sent': {
      const q = p.batches.get(e.vm);
      // A resend covers what came before it: those copies never got through.
      while (e.resent && q && q.length > 0 && lastOf(p.events, q[q.length - 1]) >= e.first) p.links.lost[q.pop()!] = 1;
      enqueue(p.batches, e.vm, i);
      return true;
    }
    case 'ack-sent':
      for (const [sender, q] of p.batches) {
        if (sender === e.vm) continue;
        while (q.length > 0 && lastOf(p.events, q[0]) <= e.ackSeq) pair(p, q.shift()!, i);
      }
      enqueue(p.acks, e.vm, i);
      return true;
    case 'ack-received':
      matchAck(p, e, i);
      return true;
    case 'went-live': // the old primary's unacked batches will never be acked now
      for (const sender of [...p.batches.keys()]) if (sender !== e.vm) p.batches.delete(sender);
      return true;
    case 'tas-requested':
      p.pending.set(`tas|${e.vm}`, i);
      return true;
    case 'snapshot-sent':
      p.pending.set(`snap|${e.peer}`, i);
      return true;
    case 'tas-answered':
    case 'snapshot-restored': {
      const key = `${e.ev === 'tas-answered' ? 'tas' : 'snap'}|${e.vm}`;
      const from = p.pending.get(key);
      if (from !== undefined) pair(p, from, i);
      p.pending.delete(key);
      return true;
    }
    default:
      return false;
  }
}

function linkSpan(p: Pairing, i: number): void {
  const e = p.events[i];
  const links = p.links;
  switch (e.ev) {
    case 'output-held':
      enqueue(p.spans, `${e.vm}|${e.out}|${e.disk ?? ''}|${e.icount}`, i);
      break;
    case 'output-released':
      closeSpan(p, `${e.vm}|${e.out}|${e.disk ?? ''}|${e.icount}`, i);
      links.maxBackUs = Math.max(links.maxBackUs, e.heldUs);
      break;
    case 'blocked':
      enqueue(p.spans, `${e.vm}|blocked`, i);
      break;
    case 'unblocked':
      closeSpan(p, `${e.vm}|blocked`, i);
      links.maxBackUs = Math.max(links.maxBackUs, e.stalledUs);
      break;
    case 'crashed':
    case 'halted': // whatever it held or waited for ends here
      for (const [key, q] of p.spans) if (key.startsWith(`${e.vm}|`)) for (const h of q.splice(0)) pair(p, h, i);
      break;
    case 'client-completed':
      links.maxBackUs = Math.max(links.maxBackUs, e.latencyUs);
      break;
  }
}

function lastOf(events: readonly TraceEvent[], i: number): number {
  const e = events[i];
  return e.ev === 'log-sent' ? e.last : Infinity;
}

/** Links are in order: an ack that arrives skips (loses) every older unmatched ack of its sender. */
function matchAck(p: Pairing, e: Extract<TraceEvent, { ev: 'ack-received' }>, i: number): void {
  for (const [sender, q] of p.acks) {
    if (sender === e.vm) continue;
    const seqAt = (k: number): number => { const a = p.events[q[k]]; return a.ev === 'ack-sent' ? a.ackSeq : Infinity; };
    while (q.length > 0 && seqAt(0) < e.ackSeq) p.links.lost[q.shift()!] = 1;
    if (q.length > 0 && seqAt(0) === e.ackSeq) {
      pair(p, q.shift()!, i);
      return;
    }
  }
}

function closeSpan(p: Pairing, key: string, i: number): void {
  const start = p.spans.get(key)?.shift();
  if (start !== undefined) pair(p, start, i, false); // drawn from the end event, which carries the length
}

// ---------------------------------------------------------------------------------------------
// Stage 2: marks for a window

interface Build {
  events: readonly TraceEvent[];
  links: EventLinks;
  lanes: Lanes;
  win: TimeWindow;
  nowUs: number;
  detail: boolean;
  marks: SpaceTimeMarks;
}

export interface BuildOptions {
  /** Draw the per-entry dots (entry-applied): only when zoomed in, there are too many. */
  detail?: boolean;
}

/** The marks that show anything inside `win`; events whose spans miss it are skipped. */
export function buildMarks(events: readonly TraceEvent[], links: EventLinks, lanes: Lanes, win: TimeWindow, nowUs: number, opts: BuildOptions = {}): SpaceTimeMarks {
  const marks: SpaceTimeMarks = { lines: [], bars: [], ticks: [], markers: [], rules: [] };
  const b: Build = { events, links, lanes, win, nowUs, detail: opts.detail ?? false, marks };
  const from = lowerBound(events, win.startUs - links.maxForwardUs);
  const to = lowerBound(events, win.endUs + links.maxBackUs + 1e-6);
  for (let i = from; i < to; i++) addMarks(b, i);
  for (const i of links.open) if (i < from) addMarks(b, i);
  return marks;
}

function addMarks(b: Build, i: number): void {
  const e = b.events[i];
  if (addMessage(b, i) || addSpan(b, i)) return;
  if (e.ev === 'fault' || e.ev === 'liveness') {
    if (within(b.win, e.tUs)) b.marks.rules.push({ tUs: e.tUs, hue: e.ev === 'fault' ? 'danger' : 'warn', label: e.ev === 'fault' ? e.action : e.what, ev: e });
    return;
  }
  if (!within(b.win, e.tUs)) return;
  const style = markerStyle(e);
  if (!style) return;
  const lane = laneOf(b.lanes, e.ev === 'msg-lost' ? e.from : e.vm);
  if (lane >= 0) b.marks.markers.push({ tUs: e.tUs, lane, ev: e, ...style });
}

function within(win: TimeWindow, tUs: number): boolean {
  return tUs >= win.startUs && tUs <= win.endUs;
}

function overlaps(win: TimeWindow, aUs: number, bUs: number): boolean {
  return Math.max(aUs, bUs) >= win.startUs && Math.min(aUs, bUs) <= win.endUs;
}

function line(b: Build, m: Omit<LineMark, 'dashed' | 'lost' | 'faint' | 'label'> & Partial<LineMark>): void {
  if (m.lane0 < 0 || m.lane1 < 0 || !overlaps(b.win, m.t0Us, m.t1Us)) return;
  // Defaults filled in place: this runs per line per frame, a copy would double the garbage.
  m.dashed ??= false;
  m.lost ??= false;
  m.faint ??= false;
  m.label ??= null;
  b.marks.lines.push(m as LineMark);
}

/** Where a message ends: its matched arrival, or a nominal flight to the sender's peer. */
function arrival(b: Build, i: number, peer: string | null): { tUs: number; lane: number } {
  const e = b.events[i];
  const p = b.links.partner[i];
  if (p >= 0) return { tUs: b.events[p].tUs, lane: laneOf(b.lanes, b.events[p].vm) };
  return { tUs: e.tUs + NOMINAL_FLIGHT_US, lane: peer === null ? -1 : laneOf(b.lanes, peer) };
}

function addMessage(b: Build, i: number): boolean {
  const e = b.events[i];
  const lane0 = laneOf(b.lanes, e.vm);
  const lost = b.links.lost[i] === 1;
  switch (e.ev) {
    case 'log-sent': {
      const to = arrival(b, i, b.lanes.peer.get(e.vm) ?? null);
      line(b, { t0Us: e.tUs, lane0, t1Us: to.tUs, lane1: to.lane, hue: 'primary', dashed: e.resent, lost, label: e.first === e.last ? `#${e.first}` : `#${e.first}–${e.last}`, ev: e });
      return true;
    }
    case 'ack-sent': {
      const to = arrival(b, i, b.lanes.peer.get(e.vm) ?? null);
      line(b, { t0Us: e.tUs, lane0, t1Us: to.tUs, lane1: to.lane, hue: 'backup', lost, label: `ack #${e.ackSeq}`, ev: e });
      return true;
    }
    case 'snapshot-sent': {
      const to = arrival(b, i, e.peer);
      line(b, { t0Us: e.tUs, lane0, t1Us: to.tUs, lane1: laneOf(b.lanes, e.peer), hue: 'text', dashed: true, label: 'snapshot', ev: e });
      return true;
    }
    case 'tas-requested':
    case 'tas-answered':
      addTestAndSet(b, i);
      return true;
    default:
      return false;
  }
}

/** Request VM → disk, answer disk → VM, meeting at the disk midway (when the server decided). */
function addTestAndSet(b: Build, i: number): void {
  const e = b.events[i];
  if (e.ev === 'tas-answered' && b.links.isEnd[i]) return; // its request draws both legs
  const vmLane = laneOf(b.lanes, e.vm);
  const diskLane = b.lanes.names.length - 1;
  const p = b.links.partner[i];
  const answer = e.ev === 'tas-answered' ? e : p >= 0 ? b.events[p] : null;
  const answerUs = answer ? answer.tUs : e.tUs + 2 * NOMINAL_FLIGHT_US;
  const requestUs = e.ev === 'tas-requested' ? e.tUs : e.tUs - 2 * NOMINAL_FLIGHT_US;
  const midUs = (requestUs + answerUs) / 2;
  if (e.ev === 'tas-requested') line(b, { t0Us: requestUs, lane0: vmLane, t1Us: midUs, lane1: diskLane, hue: 'disk', label: 'test-and-set', ev: e });
  if (!answer || answer.ev !== 'tas-answered') return;
  const hue: ThemeColor = answer.won ? 'backup' : 'danger'; // won green, lost red
  line(b, { t0Us: midUs, lane0: diskLane, t1Us: answerUs, lane1: vmLane, hue, ev: answer });
  if (within(b.win, answerUs) && vmLane >= 0) b.marks.markers.push({ tUs: answerUs, lane: vmLane, hue, shape: 'circle', big: true, label: answer.won ? 'won' : 'lost', ev: answer });
}

function bar(b: Build, m: Omit<BarMark, 'slot' | 'band' | 'label'> & Partial<BarMark>): void {
  if (m.lane < 0 || !overlaps(b.win, m.t0Us, m.t1Us)) return;
  b.marks.bars.push({ slot: 0, band: false, label: null, ...m });
}

function tick(b: Build, m: Omit<TickMark, 'dot' | 'faint'> & Partial<TickMark>): void {
  if (m.lane < 0 || !within(b.win, m.tUs)) return;
  b.marks.ticks.push({ dot: false, faint: false, ...m });
}

/** Where an open span stops: its crash or halt if it had one, else now. */
function spanEndUs(b: Build, i: number): number {
  const p = b.links.partner[i];
  return p >= 0 ? b.events[p].tUs : Math.max(b.nowUs, b.events[i].tUs);
}

function addSpan(b: Build, i: number): boolean {
  const e = b.events[i];
  const lane = laneOf(b.lanes, e.vm);
  const p = b.links.partner[i];
  const closedByEnd = p >= 0 && (b.events[p].ev === 'output-released' || b.events[p].ev === 'unblocked');
  switch (e.ev) {
    case 'output-held':
      if (!closedByEnd) bar(b, { t0Us: e.tUs, t1Us: spanEndUs(b, i), lane, hue: 'warn', ev: e });
      return true;
    case 'output-released':
      if (e.held && e.heldUs > 0) bar(b, { t0Us: e.tUs - e.heldUs, t1Us: e.tUs, lane, hue: 'warn', ev: e });
      else tick(b, { tUs: e.tUs, lane, hue: 'muted', dot: true, ev: e });
      return true;
    case 'blocked':
      if (!closedByEnd) bar(b, { t0Us: e.tUs, t1Us: spanEndUs(b, i), lane, hue: 'danger', band: true, label: 'blocked', ev: e });
      return true;
    case 'unblocked':
      bar(b, { t0Us: e.tUs - e.stalledUs, t1Us: e.tUs, lane, hue: 'danger', band: true, label: 'blocked', ev: e });
      return true;
    case 'client-completed':
      addClientOp(b, e);
      return true;
    case 'heartbeat-sent':
      tick(b, { tUs: e.tUs, lane, hue: 'muted', ev: e });
      return true;
    case 'output-suppressed':
      tick(b, { tUs: e.tUs, lane, hue: 'muted', dot: true, faint: true, ev: e });
      return true;
    case 'entry-applied':
      if (b.detail) tick(b, { tUs: e.tUs, lane, hue: 'backup', dot: true, faint: true, ev: e });
      return true;
    case 'sample':
    case 'summary':
    case 'ack-received':
      return true;
    default:
      return false;
  }
}

/** A bar on the clients' row from invoke to return, and the request/reply as a V to the VM that answered. */
function addClientOp(b: Build, e: Extract<TraceEvent, { ev: 'client-completed' }>): void {
  const t0Us = e.tUs - e.latencyUs;
  bar(b, { t0Us, t1Us: e.tUs, lane: 0, slot: (e.client % 3) - 1, hue: 'client', label: String(e.result), ev: e });
  const vmLane = laneOf(b.lanes, e.fromVm);
  const midUs = e.tUs - e.latencyUs / 2;
  line(b, { t0Us, lane0: 0, t1Us: midUs, lane1: vmLane, hue: 'client', faint: true, ev: e });
  line(b, { t0Us: midUs, lane0: vmLane, t1Us: e.tUs, lane1: 0, hue: 'client', faint: true, ev: e });
}
