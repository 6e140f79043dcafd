/**
 * The space-time diagram's pure half: trace events → marks (lines, bars, ticks, markers, rules)
 * for one time window. No DOM here, so it is unit-tested in node and the canvas half only paints.
 *
 * Two stages, because they change at different rates: linkEvents pairs each message with its
 * arrival (a log batch with its ack, an ack with its receipt, a held output with its release…)
 * once per new trace; buildMarks runs per frame and only walks the events near the window.
 */
import type { TraceEv, TraceEvent } from '../../sim/trace';
import type { ThemeColor } from './theme';

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

/** The view that follows the run: the right edge is now, and it fills from the left at start. */
export function followWindow(nowUs: number, windowUs: number): TimeWindow {
  const endUs = Math.max(nowUs, windowUs);
  return { startUs: endUs - windowUs, endUs };
}

/** First index with tUs ≥ tUs (events are in tUs order). */
export function lowerBound(events: readonly TraceEvent[], tUs: number): number {
  let lo = 0;
  let hi = events.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (events[mid].tUs < tUs) lo = mid + 1;
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

/** Pairs messages with their arrivals in one pass; memoise it per trace, not per frame. */
export function linkEvents(events: readonly TraceEvent[]): EventLinks {
  const n = events.length;
  const links: EventLinks = { partner: new Int32Array(n).fill(-1), isEnd: new Uint8Array(n), lost: new Uint8Array(n), open: [], maxForwardUs: 0, maxBackUs: 0 };
  const pair = (from: number, to: number, forward = true): void => {
    links.partner[from] = to;
    links.isEnd[to] = 1;
    if (forward) links.maxForwardUs = Math.max(links.maxForwardUs, events[to].tUs - events[from].tUs);
  };
  const batches: Queues = new Map(); // sender → log-sent awaiting an ack, in order of `last`
  const acks: Queues = new Map(); // sender → ack-sent awaiting arrival, in send order
  const spans: Queues = new Map(); // `${vm}|…` → output-held / blocked awaiting their end
  const pending = new Map<string, number>(); // tas by requester, snapshots by receiver
  for (let i = 0; i < n; i++) {
    const e = events[i];
    switch (e.ev) {
      case 'log-sent': {
        const q = batches.get(e.vm);
        // A resend covers what came before it: those copies never got through.
        while (e.resent && q && q.length > 0 && lastOf(events, q[q.length - 1]) >= e.first) links.lost[q.pop()!] = 1;
        enqueue(batches, e.vm, i);
        break;
      }
      case 'ack-sent':
        for (const [sender, q] of batches) {
          if (sender === e.vm) continue;
          while (q.length > 0 && lastOf(events, q[0]) <= e.ackSeq) pair(q.shift()!, i);
        }
        enqueue(acks, e.vm, i);
        break;
      case 'ack-received':
        matchAck(events, links, acks, e, i, pair);
        break;
      case 'went-live': // the old primary's unacked batches will never be acked now
        for (const sender of [...batches.keys()]) if (sender !== e.vm) batches.delete(sender);
        break;
      case 'output-held':
        enqueue(spans, `${e.vm}|${e.out}|${e.disk ?? ''}|${e.icount}`, i);
        break;
      case 'output-released':
        closeSpan(spans, `${e.vm}|${e.out}|${e.disk ?? ''}|${e.icount}`, i, pair);
        links.maxBackUs = Math.max(links.maxBackUs, e.heldUs);
        break;
      case 'blocked':
        enqueue(spans, `${e.vm}|blocked`, i);
        break;
      case 'unblocked':
        closeSpan(spans, `${e.vm}|blocked`, i, pair);
        links.maxBackUs = Math.max(links.maxBackUs, e.stalledUs);
        break;
      case 'crashed':
      case 'halted': // whatever it held or waited for ends here
        for (const [key, q] of spans) if (key.startsWith(`${e.vm}|`)) for (const h of q.splice(0)) pair(h, i);
        break;
      case 'client-completed':
        links.maxBackUs = Math.max(links.maxBackUs, e.latencyUs);
        break;
      case 'tas-requested':
        pending.set(`tas|${e.vm}`, i);
        break;
      case 'snapshot-sent':
        pending.set(`snap|${e.peer}`, i);
        break;
      case 'tas-answered':
      case 'snapshot-restored': {
        const key = `${e.ev === 'tas-answered' ? 'tas' : 'snap'}|${e.vm}`;
        const from = pending.get(key);
        if (from !== undefined) pair(from, i);
        pending.delete(key);
        break;
      }
    }
  }
  for (const q of spans.values()) links.open.push(...q);
  links.open.sort((a, b) => a - b);
  return links;
}

function lastOf(events: readonly TraceEvent[], i: number): number {
  const e = events[i];
  return e.ev === 'log-sent' ? e.last : Infinity;
}

/** Links are in order: an ack that arrives skips (loses) every older unmatched ack of its sender. */
function matchAck(events: readonly TraceEvent[], links: EventLinks, acks: Queues, e: Extract<TraceEvent, { ev: 'ack-received' }>, i: number, pair: (a: number, b: number) => void): void {
  for (const [sender, q] of acks) {
    if (sender === e.vm) continue;
    const seqAt = (k: number): number => { const a = events[q[k]]; return a.ev === 'ack-sent' ? a.ackSeq : Infinity; };
    while (q.length > 0 && seqAt(0) < e.ackSeq) links.lost[q.shift()!] = 1;
    if (q.length > 0 && seqAt(0) === e.ackSeq) {
      pair(q.shift()!, i);
      return;
    }
  }
}

function closeSpan(spans: Queues, key: string, i: number, pair: (a: number, b: number, forward?: boolean) => void): void {
  const start = spans.get(key)?.shift();
  if (start !== undefined) pair(start, i, false); // drawn from the end event, which carries the length
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
  const style = (MARKERS as Record<string, MarkerStyle<TraceEvent> | undefined>)[e.ev];
  if (!style || !within(b.win, e.tUs)) return;
  const lane = laneOf(b.lanes, e.ev === 'msg-lost' ? e.from : e.vm);
  if (lane >= 0) b.marks.markers.push({ tUs: e.tUs, lane, ev: e, ...style(e) });
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
  const hue: ThemeColor = answer.won ? 'live' : 'danger';
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

type MarkerStyle<E> = (e: E) => { hue: ThemeColor; shape: MarkerShape; big: boolean; label: string };
type MarkerTable = { [K in TraceEv]?: MarkerStyle<Extract<TraceEvent, { ev: K }>> };

const MARKERS: MarkerTable = {
  'crashed': () => ({ hue: 'danger', shape: 'x', big: true, label: 'crashed' }),
  'failure-suspected': (e) => ({ hue: 'warn', shape: 'triangle', big: true, label: `suspects ${e.peer}` }),
  'went-live': () => ({ hue: 'live', shape: 'flag', big: true, label: 'goes live' }),
  'halted': () => ({ hue: 'danger', shape: 'square', big: true, label: 'halted' }),
  'divergence': () => ({ hue: 'danger', shape: 'diamond', big: true, label: 'DIVERGED' }),
  'client-dropped-duplicate': (e) => ({ hue: 'warn', shape: 'ring', big: true, label: `duplicate c${e.client}#${e.seq}` }),
  'replay-finished': () => ({ hue: 'live', shape: 'circle', big: false, label: 'replayed' }),
  'announce': () => ({ hue: 'live', shape: 'circle', big: false, label: 'announce' }),
  'serving': (e) => ({ hue: 'client', shape: 'flag', big: false, label: `→ ${e.serving}` }),
  'snapshot-restored': () => ({ hue: 'text', shape: 'circle', big: false, label: 'restored' }),
  'cpu-share': (e) => ({ hue: 'muted', shape: 'circle', big: false, label: `cpu ${Math.round(e.share * 100)}%` }),
  'guest-stopped': () => ({ hue: 'muted', shape: 'square', big: false, label: 'guest stopped' }),
  'log-rejected': () => ({ hue: 'danger', shape: 'diamond', big: false, label: 'log rejected' }),
  'log-duplicate': () => ({ hue: 'warn', shape: 'diamond', big: false, label: 'duplicate log' }),
  'log-gap': (e) => ({ hue: 'warn', shape: 'diamond', big: false, label: `gap #${e.expected}` }),
  'resend-requested': (e) => ({ hue: 'warn', shape: 'triangle', big: false, label: `resend #${e.fromSeq}` }),
  'dma-early': () => ({ hue: 'danger', shape: 'diamond', big: false, label: 'DMA early' }),
  'message-rejected': () => ({ hue: 'danger', shape: 'diamond', big: false, label: 'rejected' }),
  'packet-dropped': () => ({ hue: 'muted', shape: 'x', big: false, label: 'dropped' }),
  'dropped': (e) => ({ hue: 'muted', shape: 'x', big: false, label: `dropped ${e.what}` }),
  'msg-lost': () => ({ hue: 'danger', shape: 'x', big: false, label: 'lost' }),
};
