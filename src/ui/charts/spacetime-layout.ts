/**
 * The space-time diagram's geometry and hit-testing, without the DOM: where a time and a lane
 * land in pixels, which event is nearest a point, and how an event reads in the tooltip.
 */
import type { TraceEvent } from '../../sim/trace';
import type { SpaceTimeMarks, TimeWindow } from './spacetime-marks';

/** Room around the plot: lane labels on the left, fault labels on top, the time axis below. */
export const GUTTER_PX = { left: 116, right: 18, top: 28, bottom: 30 };

export interface SpaceTimeLayout {
  widthPx: number;
  heightPx: number;
  plot: { left: number; top: number; right: number; bottom: number };
  laneHeightPx: number;
  /** How far a bar's slot (-1, 0, 1) moves it from the lane's centre line. */
  slotPx: number;
  win: TimeWindow;
  xOfUs(tUs: number): number;
  usOfX(xPx: number): number;
  yOfLane(lane: number): number;
}

/** The view that follows the run: the right edge is now, and it fills from the left at start. */
export function followWindow(nowUs: number, windowUs: number): TimeWindow {
  const endUs = Math.max(nowUs, windowUs);
  return { startUs: endUs - windowUs, endUs };
}

export function spaceTimeLayout(widthPx: number, heightPx: number, laneCount: number, win: TimeWindow): SpaceTimeLayout {
  const plot = { left: GUTTER_PX.left, top: GUTTER_PX.top, right: Math.max(GUTTER_PX.left + 1, widthPx - GUTTER_PX.right), bottom: Math.max(GUTTER_PX.top + 1, heightPx - GUTTER_PX.bottom) };
  const laneHeightPx = (plot.bottom - plot.top) / Math.max(1, laneCount);
  const spanUs = Math.max(1e-9, win.endUs - win.startUs);
  const pxPerUs = (plot.right - plot.left) / spanUs;
  return {
    widthPx,
    heightPx,
    plot,
    laneHeightPx,
    slotPx: Math.min(9, laneHeightPx / 5),
    win,
    xOfUs: (tUs) => plot.left + (tUs - win.startUs) * pxPerUs,
    usOfX: (xPx) => win.startUs + (xPx - plot.left) / pxPerUs,
    yOfLane: (lane) => plot.top + (lane + 0.5) * laneHeightPx,
  };
}

/** Where a held-output bar sits: a little below the lane's centre line, clear of the ticks. */
export function barY(layout: SpaceTimeLayout, lane: number, slot: number, band: boolean, onClients: boolean): number {
  if (band || onClients) return layout.yOfLane(lane) + slot * layout.slotPx;
  return layout.yOfLane(lane) + layout.laneHeightPx * 0.2;
}

export const MARKER_RADIUS_PX = { big: 9, small: 5 };

export interface Nearest { ev: TraceEvent; distPx: number }

/** The event whose mark passes closest to (x, y), within maxPx; markers count from their edge. */
export function nearestEvent(marks: SpaceTimeMarks, layout: SpaceTimeLayout, xPx: number, yPx: number, maxPx = 12): Nearest | null {
  let best: Nearest | null = null;
  const consider = (ev: TraceEvent, distPx: number): void => {
    if (distPx <= maxPx && (best === null || distPx < best.distPx)) best = { ev, distPx };
  };
  const { xOfUs, yOfLane } = layout;
  for (const m of marks.markers) consider(m.ev, Math.max(0, Math.hypot(xOfUs(m.tUs) - xPx, yOfLane(m.lane) - yPx) - (m.big ? MARKER_RADIUS_PX.big : MARKER_RADIUS_PX.small)));
  for (const m of marks.ticks) consider(m.ev, Math.hypot(xOfUs(m.tUs) - xPx, yOfLane(m.lane) - yPx));
  for (const m of marks.lines) consider(m.ev, segmentDistance(xPx, yPx, xOfUs(m.t0Us), yOfLane(m.lane0), xOfUs(m.t1Us), yOfLane(m.lane1)));
  for (const m of marks.bars) {
    const y = barY(layout, m.lane, m.slot, m.band, m.lane === 0);
    const halfPx = m.band ? layout.laneHeightPx * 0.25 : 3;
    consider(m.ev, Math.max(0, segmentDistance(xPx, yPx, xOfUs(m.t0Us), y, xOfUs(m.t1Us), y) - halfPx));
  }
  // A rule crosses every lane: let it win only when nothing else is as close.
  for (const m of marks.rules) if (yPx >= layout.plot.top - GUTTER_PX.top && yPx <= layout.plot.bottom) consider(m.ev, Math.abs(xOfUs(m.tUs) - xPx) + 1);
  return best;
}

/** Distance from point p to the segment a–b. */
export function segmentDistance(px: number, py: number, ax: number, ay: number, bx: number, by: number): number {
  const dx = bx - ax;
  const dy = by - ay;
  const len2 = dx * dx + dy * dy;
  const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / len2));
  return Math.hypot(px - (ax + t * dx), py - (ay + t * dy));
}

/** The tooltip's text: the event's name, its time in ms, then every other field. */
export function describeEvent(e: TraceEvent): { title: string; lines: string[] } {
  const lines = [`${(e.tUs / 1000).toFixed(3)} ms · ${e.vm}`];
  for (const [key, value] of Object.entries(e)) {
    if (key === 'tUs' || key === 'vm' || key === 'ev') continue;
    lines.push(`${key}: ${describeValue(key, value)}`);
  }
  return { title: e.ev, lines };
}

function describeValue(key: string, value: unknown): string {
  if (key === 'entries' && Array.isArray(value)) {
    const kinds = [...new Set(value.map((x: unknown[]) => String(x[2])))].join(', ');
    return `${value.length} (${kinds})`;
  }
  if (typeof value === 'number') {
    const text = Number.isInteger(value) ? String(value) : value.toFixed(2);
    return key.endsWith('Us') ? `${text} µs` : text;
  }
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}
