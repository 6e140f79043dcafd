/**
 * The space-time (Lamport) diagram: one row per participant — clients, each VM, the disk server —
 * time left to right, every message a slanted line from sender to receiver. A canvas, so a long
 * trace still draws at 60 fps; React owns the host element and calls update() with new data.
 *
 * It follows the run (right edge = now) until the user drags or shift-scrolls back; the wheel
 * zooms; a double click or follow() returns to the run. Pure parts: spacetime-marks.ts (events →
 * marks) and spacetime-layout.ts (geometry, nearest event); spacetime-draw.ts paints.
 */
import type { TraceEvent } from '../../sim/trace';
import { readFontScale, readTheme } from './theme';
import { buildMarks, linkEvents, lowerBound, spaceTimeLanes, type EventLinks, type Lanes, type SpaceTimeMarks, type TimeWindow } from './spacetime-marks';
import { describeEvent, followWindow, nearestEvent, spaceTimeLayout, type SpaceTimeLayout } from './spacetime-layout';
import { drawSpaceTime, FONT } from './spacetime-draw';

export interface SpaceTimeData {
  /** Bounded (the store keeps the last ~20k), in tUs order. */
  events: readonly TraceEvent[];
  /** The run's current virtual time. */
  nowUs: number;
  /** One lane per VM, in this order. */
  vms: { name: string; role: string; peer: string | null }[];
}

export interface SpaceTime {
  update(d: SpaceTimeData): void;
  /** Back to following the run: the right edge is now again. */
  follow(): void;
  destroy(): void;
}

export interface SpaceTimeOptions {
  /** Virtual time across the view (µs); the wheel zooms it. Default 20 ms. */
  windowUs?: number;
  /** Told when the view starts or stops following the run (e.g. to show a "follow" button). */
  onFollowChange?: (following: boolean) => void;
}

export const DEFAULT_WINDOW_US = 20_000;
const MIN_WINDOW_US = 200;
const MAX_WINDOW_US = 60_000_000;
/** Below this window the per-entry dots (entry-applied) are drawn; above it they are noise. */
const DETAIL_WINDOW_US = 5_000;
const DRAG_THRESHOLD_PX = 3;

interface LinkMemo { events: readonly TraceEvent[]; length: number; first: TraceEvent | undefined; last: TraceEvent | undefined; links: EventLinks }

/** Everything one diagram knows between frames. */
interface View {
  host: HTMLElement;
  canvas: HTMLCanvasElement;
  ctx: CanvasRenderingContext2D;
  tooltip: HTMLDivElement;
  onFollowChange: ((following: boolean) => void) | undefined;
  data: SpaceTimeData;
  lanes: { key: string; lanes: Lanes };
  memo: LinkMemo | null;
  windowUs: number;
  following: boolean;
  /** The right edge while not following. */
  endUs: number;
  sizePx: { w: number; h: number };
  last: { layout: SpaceTimeLayout; marks: SpaceTimeMarks } | null;
  pointer: { x: number; y: number } | null;
  drag: { x0: number; end0: number; moved: boolean } | null;
  raf: number;
}

export function createSpaceTime(host: HTMLElement, opts: SpaceTimeOptions = {}): SpaceTime {
  if (getComputedStyle(host).position === 'static') host.style.position = 'relative';
  if (host.clientHeight === 0) host.style.minHeight = '260px';
  const canvas = document.createElement('canvas');
  canvas.style.cssText = 'position:absolute;inset:0;width:100%;height:100%;display:block;cursor:grab;touch-action:none';
  const tooltip = createTooltip();
  host.append(canvas, tooltip);
  const windowUs = clampWindow(opts.windowUs ?? DEFAULT_WINDOW_US);
  const v: View = {
    host, canvas, ctx: canvas.getContext('2d')!, tooltip, onFollowChange: opts.onFollowChange,
    data: { events: [], nowUs: 0, vms: [] }, lanes: { key: '', lanes: spaceTimeLanes([]) }, memo: null,
    windowUs, following: true, endUs: windowUs, sizePx: { w: host.clientWidth, h: host.clientHeight },
    last: null, pointer: null, drag: null, raf: 0,
  };
  const unlisten = listen(v);
  return {
    update(d) {
      v.data = d;
      const key = d.vms.map((vm) => `${vm.name}:${vm.peer ?? ''}`).join(',');
      if (key !== v.lanes.key) v.lanes = { key, lanes: spaceTimeLanes(d.vms) };
      invalidate(v);
    },
    follow: () => follow(v),
    destroy() {
      if (v.raf !== 0) cancelAnimationFrame(v.raf);
      unlisten();
      canvas.remove();
      tooltip.remove();
    },
  };
}

/** Redraws on the next animation frame, once however many updates came before it. */
function invalidate(v: View): void {
  if (v.raf === 0) v.raf = requestAnimationFrame(() => draw(v));
}

function setFollowing(v: View, on: boolean): void {
  if (on === v.following) return;
  v.following = on;
  v.onFollowChange?.(on);
}

function follow(v: View): void {
  setFollowing(v, true);
  invalidate(v);
}

function currentWindow(v: View): TimeWindow {
  return v.following ? followWindow(v.data.nowUs, v.windowUs) : { startUs: v.endUs - v.windowUs, endUs: v.endUs };
}

/** Scrub to a new right edge; reaching now means following again. */
function scrubTo(v: View, toUs: number): void {
  const liveEndUs = followWindow(v.data.nowUs, v.windowUs).endUs;
  v.endUs = Math.max(v.windowUs, Math.min(liveEndUs, toUs));
  setFollowing(v, v.endUs >= liveEndUs);
  invalidate(v);
}

/** Events from at least this long before the window are paired too: a batch and its ack, a held output and its release. */
const PAIRING_MARGIN_US = 20_000;

/**
 * The events the window can show, with a margin for pairs that reach into it: pairing costs time in
 * the number of events, and the ring holds seconds of them while the window shows milliseconds.
 */
function sliceAround(v: View, win: TimeWindow): readonly TraceEvent[] {
  const ev = v.data.events;
  const marginUs = Math.max(v.windowUs, PAIRING_MARGIN_US);
  const from = lowerBound(ev, win.startUs - marginUs);
  const to = lowerBound(ev, win.endUs + marginUs);
  if (from === 0 && to === ev.length) return ev;
  const m = v.memo;
  // The same stretch as last time: keep its slice, so the pairing is not done again.
  if (m && m.length === to - from && m.first === ev[from] && m.last === ev[to - 1]) return m.events;
  return ev.slice(from, to);
}

/** The pairing only changes with the trace, not with the view: computed once per new trace. */
function linksFor(v: View, events: readonly TraceEvent[]): EventLinks {
  const m = v.memo;
  const first = events[0];
  const last = events[events.length - 1];
  if (m && m.events === events && m.length === events.length && m.first === first && m.last === last) return m.links;
  v.memo = { events, length: events.length, first, last, links: linkEvents(events) };
  return v.memo.links;
}

function draw(v: View): void {
  v.raf = 0;
  const dpr = window.devicePixelRatio || 1;
  const { w, h } = v.sizePx;
  if (w <= 0 || h <= 0) return;
  if (v.canvas.width !== Math.round(w * dpr) || v.canvas.height !== Math.round(h * dpr)) {
    v.canvas.width = Math.round(w * dpr);
    v.canvas.height = Math.round(h * dpr);
  }
  v.ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  const lanes = v.lanes.lanes;
  const layout = spaceTimeLayout(w, h, lanes.names.length, currentWindow(v));
  const events = sliceAround(v, layout.win);
  const marks = buildMarks(events, linksFor(v, events), lanes, layout.win, v.data.nowUs, { detail: v.windowUs <= DETAIL_WINDOW_US });
  const roles = new Map(v.data.vms.map((vm) => [vm.name, vm.role]));
  const laneLabels = lanes.names.map((name) => ({ name, role: roles.get(name) ?? name }));
  drawSpaceTime(v.ctx, { layout, lanes: laneLabels, marks, theme: readTheme(v.host), nowUs: v.data.nowUs, following: v.following, fontScale: readFontScale(v.host) });
  v.last = { layout, marks };
  showTooltip(v);
}

function showTooltip(v: View): void {
  const { pointer, last, tooltip } = v;
  const hit = pointer && last && !v.drag?.moved ? nearestEvent(last.marks, last.layout, pointer.x, pointer.y) : null;
  if (!hit || !pointer) {
    tooltip.style.display = 'none';
    return;
  }
  const { title, lines } = describeEvent(hit.ev);
  tooltip.replaceChildren(Object.assign(document.createElement('strong'), { textContent: title }), ...lines.map((l) => Object.assign(document.createElement('div'), { textContent: l })));
  tooltip.style.display = 'block';
  const flipX = pointer.x + 16 + tooltip.offsetWidth > v.sizePx.w;
  const flipY = pointer.y + 16 + tooltip.offsetHeight > v.sizePx.h;
  tooltip.style.left = `${flipX ? Math.max(0, pointer.x - 12 - tooltip.offsetWidth) : pointer.x + 14}px`;
  tooltip.style.top = `${flipY ? Math.max(0, pointer.y - 12 - tooltip.offsetHeight) : pointer.y + 14}px`;
}

function plotWidthPx(v: View): number {
  return v.last ? Math.max(1, v.last.layout.plot.right - v.last.layout.plot.left) : Math.max(1, v.sizePx.w);
}

/** The wheel zooms (around the cursor when scrubbing, at now when following); shift or a sideways wheel pans. */
function onWheel(v: View, e: WheelEvent): void {
  e.preventDefault();
  const unitPx = e.deltaMode === 1 ? 16 : e.deltaMode === 2 ? v.sizePx.h : 1;
  const win = currentWindow(v);
  const panPx = e.shiftKey ? e.deltaY || e.deltaX : Math.abs(e.deltaX) > Math.abs(e.deltaY) ? e.deltaX : 0;
  if (panPx !== 0) {
    scrubTo(v, win.endUs + ((panPx * unitPx) / plotWidthPx(v)) * v.windowUs);
    return;
  }
  const next = clampWindow(v.windowUs * Math.exp(e.deltaY * unitPx * 0.0015));
  if (!v.following && v.last) {
    const anchorUs = v.last.layout.usOfX(localPoint(v, e).x);
    const frac = (anchorUs - win.startUs) / v.windowUs;
    v.endUs = anchorUs + (1 - frac) * next; // the time under the cursor stays put
  }
  v.windowUs = next;
  if (v.following) invalidate(v);
  else scrubTo(v, v.endUs);
}

function onPointerDown(v: View, e: PointerEvent): void {
  if (e.button !== 0) return;
  v.drag = { x0: e.clientX, end0: currentWindow(v).endUs, moved: false };
  v.canvas.setPointerCapture(e.pointerId);
  v.canvas.style.cursor = 'grabbing';
}

function onPointerMove(v: View, e: PointerEvent): void {
  v.pointer = localPoint(v, e);
  const drag = v.drag;
  if (drag) {
    const dx = e.clientX - drag.x0;
    if (Math.abs(dx) > DRAG_THRESHOLD_PX) drag.moved = true;
    if (drag.moved) {
      scrubTo(v, drag.end0 - (dx * v.windowUs) / plotWidthPx(v));
      setFollowing(v, false); // while the drag lasts the view holds still, even at now
      return;
    }
  }
  showTooltip(v);
}

function onPointerUp(v: View, e: PointerEvent): void {
  if (v.canvas.hasPointerCapture(e.pointerId)) v.canvas.releasePointerCapture(e.pointerId);
  if (v.drag?.moved) scrubTo(v, v.endUs); // let go at now: follow again
  v.drag = null;
  v.canvas.style.cursor = 'grab';
}

function localPoint(v: View, e: MouseEvent): { x: number; y: number } {
  const r = v.canvas.getBoundingClientRect();
  return { x: e.clientX - r.left, y: e.clientY - r.top };
}

/** Wires the canvas's input and the host's size; returns what undoes it. */
function listen(v: View): () => void {
  const c = v.canvas;
  const handlers: [string, (e: never) => void, AddEventListenerOptions?][] = [
    ['wheel', (e: WheelEvent) => onWheel(v, e), { passive: false }],
    ['pointerdown', (e: PointerEvent) => onPointerDown(v, e)],
    ['pointermove', (e: PointerEvent) => onPointerMove(v, e)],
    ['pointerup', (e: PointerEvent) => onPointerUp(v, e)],
    ['pointercancel', (e: PointerEvent) => onPointerUp(v, e)],
    ['pointerleave', () => { v.pointer = null; v.tooltip.style.display = 'none'; }],
    ['dblclick', () => follow(v)],
  ];
  for (const [type, fn, o] of handlers) c.addEventListener(type, fn as EventListener, o);
  const resize = new ResizeObserver(() => {
    v.sizePx = { w: v.host.clientWidth, h: v.host.clientHeight };
    invalidate(v);
  });
  resize.observe(v.host);
  return () => {
    resize.disconnect();
    for (const [type, fn] of handlers) c.removeEventListener(type, fn as EventListener);
  };
}

function clampWindow(us: number): number {
  return Math.max(MIN_WINDOW_US, Math.min(MAX_WINDOW_US, us));
}

function createTooltip(): HTMLDivElement {
  const div = document.createElement('div');
  div.style.cssText = [
    'position:absolute', 'display:none', 'pointer-events:none', 'z-index:2', 'max-width:340px',
    'padding:6px 9px', 'border-radius:6px', `font:calc(13px * var(--font-scale, 1))/1.4 ${FONT}`,
    'background:var(--panel, #111c33)', 'color:var(--text, #e2e8f0)', 'border:1px solid var(--border, #24324f)',
    'box-shadow:0 4px 14px rgba(0,0,0,0.35)', 'white-space:nowrap',
  ].join(';');
  return div;
}
