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
import { readTheme } from './theme';
import { buildMarks, followWindow, linkEvents, spaceTimeLanes, type EventLinks, type Lanes, type SpaceTimeMarks, type TimeWindow } from './spacetime-marks';
import { describeEvent, nearestEvent, spaceTimeLayout, type SpaceTimeLayout } from './spacetime-layout';
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

export function createSpaceTime(host: HTMLElement, opts: SpaceTimeOptions = {}): SpaceTime {
  if (getComputedStyle(host).position === 'static') host.style.position = 'relative';
  if (host.clientHeight === 0) host.style.minHeight = '260px';
  const canvas = document.createElement('canvas');
  canvas.style.cssText = 'position:absolute;inset:0;width:100%;height:100%;display:block;cursor:grab;touch-action:none';
  const tooltip = createTooltip();
  host.append(canvas, tooltip);
  const ctx = canvas.getContext('2d')!;

  let data: SpaceTimeData = { events: [], nowUs: 0, vms: [] };
  let windowUs = clampWindow(opts.windowUs ?? DEFAULT_WINDOW_US);
  let following = true;
  let endUs = windowUs; // the right edge while not following
  let memo: LinkMemo | null = null;
  let lanes: { key: string; lanes: Lanes } = { key: '', lanes: spaceTimeLanes([]) };
  let sizePx = { w: host.clientWidth, h: host.clientHeight };
  let last: { layout: SpaceTimeLayout; marks: SpaceTimeMarks } | null = null;
  let pointer: { x: number; y: number } | null = null;
  let drag: { x0: number; end0: number; moved: boolean } | null = null;
  let raf = 0;

  const invalidate = (): void => {
    if (raf === 0) raf = requestAnimationFrame(draw);
  };
  const setFollowing = (on: boolean): void => {
    if (on === following) return;
    following = on;
    opts.onFollowChange?.(on);
  };
  const currentWindow = (): TimeWindow => (following ? followWindow(data.nowUs, windowUs) : { startUs: endUs - windowUs, endUs });
  /** Scrub to a new right edge; reaching now means following again. */
  const scrubTo = (toUs: number): void => {
    const liveEndUs = followWindow(data.nowUs, windowUs).endUs;
    endUs = Math.max(windowUs, Math.min(liveEndUs, toUs));
    setFollowing(endUs >= liveEndUs);
    invalidate();
  };

  function linksFor(events: readonly TraceEvent[]): EventLinks {
    const m = memo;
    if (m && m.events === events && m.length === events.length && m.first === events[0] && m.last === events[events.length - 1]) return m.links;
    memo = { events, length: events.length, first: events[0], last: events[events.length - 1], links: linkEvents(events) };
    return memo.links;
  }

  function draw(): void {
    raf = 0;
    const dpr = window.devicePixelRatio || 1;
    const { w, h } = sizePx;
    if (w <= 0 || h <= 0) return;
    if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
      canvas.width = Math.round(w * dpr);
      canvas.height = Math.round(h * dpr);
    }
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const laneSet = lanes.lanes;
    const layout = spaceTimeLayout(w, h, laneSet.names.length, currentWindow());
    const marks = buildMarks(data.events, linksFor(data.events), laneSet, layout.win, data.nowUs, { detail: windowUs <= DETAIL_WINDOW_US });
    const roles = new Map(data.vms.map((v) => [v.name, v.role]));
    const laneLabels = laneSet.names.map((name) => ({ name, role: roles.get(name) ?? name }));
    drawSpaceTime(ctx, { layout, lanes: laneLabels, marks, theme: readTheme(host), nowUs: data.nowUs, following });
    last = { layout, marks };
    showTooltip();
  }

  function showTooltip(): void {
    const hit = pointer && last && !drag?.moved ? nearestEvent(last.marks, last.layout, pointer.x, pointer.y) : null;
    if (!hit || !pointer) {
      tooltip.style.display = 'none';
      return;
    }
    const { title, lines } = describeEvent(hit.ev);
    tooltip.replaceChildren(Object.assign(document.createElement('strong'), { textContent: title }), ...lines.map((l) => Object.assign(document.createElement('div'), { textContent: l })));
    tooltip.style.display = 'block';
    const flipX = pointer.x + 16 + tooltip.offsetWidth > sizePx.w;
    const flipY = pointer.y + 16 + tooltip.offsetHeight > sizePx.h;
    tooltip.style.left = `${flipX ? Math.max(0, pointer.x - 12 - tooltip.offsetWidth) : pointer.x + 14}px`;
    tooltip.style.top = `${flipY ? Math.max(0, pointer.y - 12 - tooltip.offsetHeight) : pointer.y + 14}px`;
  }

  function onWheel(e: WheelEvent): void {
    e.preventDefault();
    const unitPx = e.deltaMode === 1 ? 16 : e.deltaMode === 2 ? sizePx.h : 1;
    const win = currentWindow();
    const plotPx = Math.max(1, (last?.layout.plot.right ?? sizePx.w) - (last?.layout.plot.left ?? 0));
    const panPx = e.shiftKey ? e.deltaY || e.deltaX : Math.abs(e.deltaX) > Math.abs(e.deltaY) ? e.deltaX : 0;
    if (panPx !== 0) {
      scrubTo(win.endUs + ((panPx * unitPx) / plotPx) * windowUs);
      return;
    }
    const next = clampWindow(windowUs * Math.exp(e.deltaY * unitPx * 0.0015));
    if (!following && last) {
      // Keep the time under the cursor where it is.
      const anchorUs = last.layout.usOfX(offsetX(e));
      const frac = (anchorUs - win.startUs) / windowUs;
      endUs = anchorUs + (1 - frac) * next;
    }
    windowUs = next;
    if (!following) scrubTo(endUs);
    invalidate();
  }

  function onPointerDown(e: PointerEvent): void {
    if (e.button !== 0) return;
    drag = { x0: e.clientX, end0: currentWindow().endUs, moved: false };
    canvas.setPointerCapture(e.pointerId);
    canvas.style.cursor = 'grabbing';
  }

  function onPointerMove(e: PointerEvent): void {
    pointer = { x: offsetX(e), y: offsetY(e) };
    if (drag) {
      const dx = e.clientX - drag.x0;
      if (Math.abs(dx) > DRAG_THRESHOLD_PX) drag.moved = true;
      if (drag.moved && last) {
        const usPerPx = windowUs / Math.max(1, last.layout.plot.right - last.layout.plot.left);
        scrubTo(drag.end0 - dx * usPerPx);
        if (following) setFollowing(false); // a drag holds the view still, even at now
        return;
      }
    }
    showTooltip();
  }

  function onPointerUp(e: PointerEvent): void {
    if (drag && canvas.hasPointerCapture(e.pointerId)) canvas.releasePointerCapture(e.pointerId);
    if (drag?.moved) scrubTo(endUs); // let go at now: follow again
    drag = null;
    canvas.style.cursor = 'grab';
  }

  function onPointerLeave(): void {
    pointer = null;
    tooltip.style.display = 'none';
  }

  const offsetX = (e: MouseEvent): number => e.clientX - canvas.getBoundingClientRect().left;
  const offsetY = (e: MouseEvent): number => e.clientY - canvas.getBoundingClientRect().top;
  const follow = (): void => {
    setFollowing(true);
    invalidate();
  };

  canvas.addEventListener('wheel', onWheel, { passive: false });
  canvas.addEventListener('pointerdown', onPointerDown);
  canvas.addEventListener('pointermove', onPointerMove);
  canvas.addEventListener('pointerup', onPointerUp);
  canvas.addEventListener('pointercancel', onPointerUp);
  canvas.addEventListener('pointerleave', onPointerLeave);
  canvas.addEventListener('dblclick', follow);
  const resize = new ResizeObserver(() => {
    sizePx = { w: host.clientWidth, h: host.clientHeight };
    invalidate();
  });
  resize.observe(host);

  return {
    update(d) {
      data = d;
      const key = d.vms.map((v) => `${v.name}:${v.peer ?? ''}`).join(',');
      if (key !== lanes.key) lanes = { key, lanes: spaceTimeLanes(d.vms) };
      invalidate();
    },
    follow,
    destroy() {
      if (raf !== 0) cancelAnimationFrame(raf);
      resize.disconnect();
      canvas.remove();
      tooltip.remove();
    },
  };
}

function clampWindow(us: number): number {
  return Math.max(MIN_WINDOW_US, Math.min(MAX_WINDOW_US, us));
}

function createTooltip(): HTMLDivElement {
  const div = document.createElement('div');
  div.style.cssText = [
    'position:absolute', 'display:none', 'pointer-events:none', 'z-index:2', 'max-width:340px',
    'padding:6px 9px', 'border-radius:6px', 'font:13px/1.4 ' + FONT,
    'background:var(--panel, #111c33)', 'color:var(--text, #e2e8f0)', 'border:1px solid var(--border, #24324f)',
    'box-shadow:0 4px 14px rgba(0,0,0,0.35)', 'white-space:nowrap',
  ].join(';');
  return div;
}
