/**
 * Paints the space-time marks on a 2D canvas. Lines of one style go into one path and one
 * stroke, so thousands of messages stay cheap; text is drawn only where it has room.
 */
import { scaleLinear } from 'd3';
import type { Theme, ThemeColor } from './theme';
import type { BarMark, LineMark, MarkerMark, SpaceTimeMarks, TickMark } from './spacetime-marks';
import { barY, GUTTER_PX, MARKER_RADIUS_PX, type SpaceTimeLayout } from './spacetime-layout';

export const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
const LINE_PX = 1.75;
/** Line labels (batch ranges, ack numbers) only on lines this slanted, and not too many. */
const LINE_LABEL_MIN_DX_PX = 24;
const LINE_LABEL_MAX = 120;
/** Past this many lines of one style, arrow heads are a blur: the slant still shows direction. */
const ARROW_MAX = 600;

export interface LaneLabel { name: string; role: string }

export interface DrawState {
  layout: SpaceTimeLayout;
  lanes: readonly LaneLabel[];
  marks: SpaceTimeMarks;
  theme: Theme;
  nowUs: number;
  following: boolean;
  /** The theme's --font-scale (the projector theme enlarges type): every label scales with it. */
  fontScale: number;
}

function font(scale: number, weight: number, px: number): string {
  return `${weight} ${Math.round(px * scale * 10) / 10}px ${FONT}`;
}

export function drawSpaceTime(ctx: CanvasRenderingContext2D, s: DrawState): void {
  const { layout } = s;
  ctx.clearRect(0, 0, layout.widthPx, layout.heightPx);
  drawLanes(ctx, s);
  drawAxis(ctx, s);
  ctx.save();
  ctx.beginPath();
  ctx.rect(layout.plot.left, 0, layout.plot.right - layout.plot.left, layout.plot.bottom);
  ctx.clip();
  drawBars(ctx, s, s.marks.bars.filter((m) => m.band));
  drawRules(ctx, s);
  drawLines(ctx, s);
  drawBars(ctx, s, s.marks.bars.filter((m) => !m.band));
  drawTicks(ctx, s, s.marks.ticks);
  drawMarkers(ctx, s);
  drawNow(ctx, s);
  ctx.restore();
  drawFollowState(ctx, s);
}

function laneHue(role: string): ThemeColor {
  switch (role) {
    case 'primary': return 'primary';
    case 'backup': return 'backup';
    case 'live': return 'live';
    case 'crashed': return 'danger';
    case 'clients': return 'client';
    case 'disk': return 'disk';
    default: return 'muted';
  }
}

function drawLanes(ctx: CanvasRenderingContext2D, { layout, lanes, theme, fontScale }: DrawState): void {
  const { plot, laneHeightPx } = layout;
  lanes.forEach((lane, i) => {
    const top = plot.top + i * laneHeightPx;
    if (i % 2 === 1) {
      ctx.fillStyle = theme.border;
      ctx.globalAlpha = 0.22;
      ctx.fillRect(0, top, layout.widthPx, laneHeightPx);
      ctx.globalAlpha = 1;
    }
    const y = layout.yOfLane(i);
    ctx.strokeStyle = theme.border;
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(plot.left, y);
    ctx.lineTo(plot.right, y);
    ctx.stroke();
    const isVm = lane.role !== 'clients' && lane.role !== 'disk';
    ctx.textBaseline = 'middle';
    ctx.fillStyle = theme[laneHue(lane.role)];
    ctx.font = font(fontScale, 700, isVm ? 17 : 14);
    ctx.fillText(lane.name, 12, isVm && laneHeightPx >= 40 ? y - 9 * fontScale : y);
    if (isVm && laneHeightPx >= 40) {
      ctx.fillStyle = theme.muted;
      ctx.font = font(fontScale, 500, 13);
      ctx.fillText(lane.role, 12, y + 10 * fontScale);
    }
  });
}

function drawAxis(ctx: CanvasRenderingContext2D, { layout, theme, fontScale }: DrawState): void {
  const { plot, win } = layout;
  const scale = scaleLinear().domain([win.startUs / 1000, win.endUs / 1000]).range([plot.left, plot.right]);
  const count = Math.max(2, Math.floor((plot.right - plot.left) / 120));
  const format = scale.tickFormat(count);
  ctx.font = font(fontScale, 500, 13);
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  for (const ms of scale.ticks(count)) {
    const x = scale(ms);
    ctx.strokeStyle = theme.border;
    ctx.globalAlpha = 0.7;
    ctx.beginPath();
    ctx.moveTo(x, plot.top);
    ctx.lineTo(x, plot.bottom + 4);
    ctx.stroke();
    ctx.globalAlpha = 1;
    const label = `${format(ms)} ms`;
    const halfPx = ctx.measureText(label).width / 2;
    if (x + halfPx > layout.widthPx - 2) continue; // would be cut off
    ctx.fillStyle = theme.muted;
    ctx.fillText(label, x, plot.bottom + 8);
  }
  ctx.textAlign = 'left';
}

function drawRules(ctx: CanvasRenderingContext2D, { layout, marks, theme, fontScale }: DrawState): void {
  let labelEndPx = -Infinity;
  for (const r of marks.rules) {
    const x = layout.xOfUs(r.tUs);
    ctx.strokeStyle = theme[r.hue];
    ctx.lineWidth = 2.5;
    ctx.setLineDash(r.hue === 'danger' ? [] : [6, 4]);
    ctx.beginPath();
    ctx.moveTo(x, layout.plot.top - 6);
    ctx.lineTo(x, layout.plot.bottom);
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.font = font(fontScale, 700, 14);
    const w = ctx.measureText(r.label).width;
    if (x + 6 < labelEndPx) continue;
    ctx.fillStyle = theme.bg;
    ctx.globalAlpha = 0.85;
    ctx.fillRect(x + 4, 14 - 10 * fontScale, w + 8, 20 * fontScale);
    ctx.globalAlpha = 1;
    ctx.fillStyle = theme[r.hue];
    ctx.textBaseline = 'middle';
    ctx.fillText(r.label, x + 8, 14);
    labelEndPx = x + w + 16;
  }
}

/** One path per style: the reason a few thousand lines still draw in a frame. */
function drawLines(ctx: CanvasRenderingContext2D, s: DrawState): void {
  const groups = new Map<string, LineMark[]>();
  for (const m of s.marks.lines) {
    const key = `${m.hue}|${m.dashed ? 1 : 0}|${m.faint ? 1 : 0}`;
    const g = groups.get(key);
    if (g) g.push(m);
    else groups.set(key, [m]);
  }
  for (const group of groups.values()) strokeLineGroup(ctx, s, group);
  drawLineLabels(ctx, s);
  const lost = s.marks.lines.filter((m) => m.lost);
  for (const m of lost) drawCross(ctx, s.layout.xOfUs(m.t1Us), s.layout.yOfLane(m.lane1), 5, s.theme.danger, 2);
}

function strokeLineGroup(ctx: CanvasRenderingContext2D, { layout, theme }: DrawState, group: LineMark[]): void {
  const first = group[0];
  ctx.strokeStyle = theme[first.hue];
  ctx.fillStyle = theme[first.hue];
  ctx.globalAlpha = first.faint ? 0.35 : 1;
  ctx.lineWidth = first.faint ? 1.5 : LINE_PX;
  ctx.setLineDash(first.dashed ? [6, 4] : []);
  ctx.beginPath();
  let prev: LineMark | null = null;
  let prevX0 = NaN;
  let prevX1 = NaN;
  for (const m of group) {
    const x0 = layout.xOfUs(m.t0Us);
    const x1 = layout.xOfUs(m.t1Us);
    // Zoomed out, many lines land on the same pixels: stroking each again only costs time.
    if (prev && prev.lane0 === m.lane0 && prev.lane1 === m.lane1 && Math.abs(x0 - prevX0) < 0.5 && Math.abs(x1 - prevX1) < 0.5) continue;
    ctx.moveTo(x0, layout.yOfLane(m.lane0));
    ctx.lineTo(x1, layout.yOfLane(m.lane1));
    prev = m;
    prevX0 = x0;
    prevX1 = x1;
  }
  ctx.stroke();
  ctx.setLineDash([]);
  if (group.length > ARROW_MAX || first.faint) {
    ctx.globalAlpha = 1;
    return;
  }
  ctx.beginPath();
  for (const m of group) arrowHead(ctx, layout.xOfUs(m.t0Us), layout.yOfLane(m.lane0), layout.xOfUs(m.t1Us), layout.yOfLane(m.lane1));
  ctx.fill();
  ctx.globalAlpha = 1;
}

/** A filled arrow head at (x1, y1), pointing along the line; skipped on lines too short to show it. */
function arrowHead(ctx: CanvasRenderingContext2D, x0: number, y0: number, x1: number, y1: number): void {
  const len = Math.hypot(x1 - x0, y1 - y0);
  if (len < 14) return;
  const ux = (x1 - x0) / len;
  const uy = (y1 - y0) / len;
  const sizePx = 8;
  ctx.moveTo(x1, y1);
  ctx.lineTo(x1 - ux * sizePx - uy * sizePx * 0.45, y1 - uy * sizePx + ux * sizePx * 0.45);
  ctx.lineTo(x1 - ux * sizePx + uy * sizePx * 0.45, y1 - uy * sizePx - ux * sizePx * 0.45);
  // No closePath: fill() closes each subpath anyway, and closePath is slow on paths of thousands.
}

function drawLineLabels(ctx: CanvasRenderingContext2D, { layout, marks, theme, fontScale }: DrawState): void {
  const labelled = marks.lines.filter((m) => m.label !== null && !m.faint);
  if (labelled.length > LINE_LABEL_MAX) return;
  ctx.font = font(fontScale, 600, 12);
  ctx.textBaseline = 'middle';
  for (const m of labelled) {
    const x0 = layout.xOfUs(m.t0Us);
    const x1 = layout.xOfUs(m.t1Us);
    // Only once zoomed in far enough that the lines slant and labels have room beside them.
    if (Math.abs(x1 - x0) < LINE_LABEL_MIN_DX_PX) continue;
    const y = (layout.yOfLane(m.lane0) + layout.yOfLane(m.lane1)) / 2;
    // A batch goes down, its ack comes back up: label the one on its left, the other on its right.
    const down = m.lane1 > m.lane0;
    ctx.textAlign = down ? 'right' : 'left';
    ctx.fillStyle = theme[m.hue];
    ctx.fillText(m.label!, (x0 + x1) / 2 + (down ? -6 : 6), y);
  }
  ctx.textAlign = 'left';
}

function drawBars(ctx: CanvasRenderingContext2D, { layout, theme, fontScale }: DrawState, bars: BarMark[]): void {
  for (const m of bars) {
    const x0 = layout.xOfUs(m.t0Us);
    const w = Math.max(2, layout.xOfUs(m.t1Us) - x0);
    const y = barY(layout, m.lane, m.slot, m.band, m.lane === 0);
    const h = m.band ? layout.laneHeightPx * 0.5 : m.lane === 0 ? 6 : 7;
    ctx.fillStyle = theme[m.hue];
    ctx.globalAlpha = m.band ? 0.2 : 0.9;
    ctx.fillRect(x0, y - h / 2, w, h);
    ctx.globalAlpha = 1;
    if (m.label === null || (w < 14 && !m.band)) continue; // no room for even a digit: skip the measuring
    ctx.font = font(fontScale, 600, 12);
    const textPx = ctx.measureText(m.label).width;
    if (textPx + 6 > w && !m.band) continue;
    ctx.fillStyle = m.band ? theme[m.hue] : theme.text;
    ctx.textBaseline = 'bottom';
    ctx.fillText(m.label, x0 + 3, y - h / 2 - 1);
  }
}

function drawTicks(ctx: CanvasRenderingContext2D, { layout, theme }: DrawState, ticks: TickMark[]): void {
  ctx.lineWidth = 1.5;
  for (const m of ticks) {
    const x = layout.xOfUs(m.tUs);
    const y = layout.yOfLane(m.lane);
    ctx.globalAlpha = m.faint ? 0.5 : 1;
    if (m.dot) {
      ctx.fillStyle = theme[m.hue];
      ctx.beginPath();
      ctx.arc(x, y + (m.faint ? -6 : 6), 2.5, 0, Math.PI * 2);
      ctx.fill();
    } else {
      ctx.strokeStyle = theme[m.hue];
      ctx.beginPath();
      ctx.moveTo(x, y - 7);
      ctx.lineTo(x, y + 7);
      ctx.stroke();
    }
  }
  ctx.globalAlpha = 1;
}

/** Label rows around a lane's centre line: above, below, then higher above. */
const LABEL_ROWS = [-1, 1, -2];

function drawMarkers(ctx: CanvasRenderingContext2D, s: DrawState): void {
  const { layout, theme } = s;
  const taken = new Map<string, [number, number][]>(); // `${lane}|${row}` → label extents on it
  const fits = (key: string, x0: number, x1: number): boolean => !(taken.get(key) ?? []).some(([a, b]) => x0 < b && x1 > a);
  // Big markers first: when labels collide, the crash and the go-live keep theirs.
  const ordered = [...s.marks.markers.filter((m) => m.big), ...s.marks.markers.filter((m) => !m.big)];
  for (const m of ordered) {
    const x = layout.xOfUs(m.tUs);
    const y = layout.yOfLane(m.lane);
    const r = m.big ? MARKER_RADIUS_PX.big : MARKER_RADIUS_PX.small;
    drawShape(ctx, m, x, y, r, theme);
    ctx.font = font(s.fontScale, m.big ? 700 : 600, m.big ? 14 : 12);
    const w = ctx.measureText(m.label).width;
    const lx = x + r + 3;
    const row = LABEL_ROWS.find((k) => fits(`${m.lane}|${k}`, lx - 2, lx + w + 6));
    if (row === undefined) continue;
    const key = `${m.lane}|${row}`;
    taken.set(key, [...(taken.get(key) ?? []), [lx - 2, lx + w + 6]]);
    const baseline = row < 0 ? y - r - 2 - (row === -2 ? 17 : 0) : y + r + 16;
    ctx.fillStyle = theme.bg;
    ctx.globalAlpha = 0.75;
    ctx.fillRect(lx - 2, baseline - 16 * s.fontScale, w + 4, 17 * s.fontScale);
    ctx.globalAlpha = 1;
    ctx.fillStyle = theme[m.hue];
    ctx.textBaseline = 'bottom';
    ctx.fillText(m.label, lx, baseline);
  }
}

function drawShape(ctx: CanvasRenderingContext2D, m: MarkerMark, x: number, y: number, r: number, theme: Theme): void {
  const color = theme[m.hue];
  ctx.fillStyle = color;
  ctx.strokeStyle = color;
  ctx.lineWidth = m.big ? 2.5 : 1.75;
  ctx.beginPath();
  switch (m.shape) {
    case 'x':
      drawCross(ctx, x, y, r, color, m.big ? 4 : 2);
      return;
    case 'diamond':
      ctx.moveTo(x, y - r); ctx.lineTo(x + r, y); ctx.lineTo(x, y + r); ctx.lineTo(x - r, y); ctx.closePath();
      break;
    case 'triangle':
      ctx.moveTo(x, y - r); ctx.lineTo(x + r, y + r * 0.8); ctx.lineTo(x - r, y + r * 0.8); ctx.closePath();
      break;
    case 'square':
      ctx.rect(x - r * 0.8, y - r * 0.8, r * 1.6, r * 1.6);
      break;
    case 'flag':
      ctx.moveTo(x, y + r); ctx.lineTo(x, y - r); ctx.lineTo(x + r * 1.3, y - r * 0.5); ctx.lineTo(x, y);
      ctx.stroke();
      ctx.fill();
      return;
    case 'ring':
      ctx.arc(x, y, r, 0, Math.PI * 2);
      ctx.stroke();
      return;
    case 'circle':
      ctx.arc(x, y, r * 0.8, 0, Math.PI * 2);
      break;
  }
  ctx.fill();
}

function drawCross(ctx: CanvasRenderingContext2D, x: number, y: number, r: number, color: string, widthPx: number): void {
  ctx.strokeStyle = color;
  ctx.lineWidth = widthPx;
  ctx.lineCap = 'round';
  ctx.beginPath();
  ctx.moveTo(x - r, y - r); ctx.lineTo(x + r, y + r);
  ctx.moveTo(x + r, y - r); ctx.lineTo(x - r, y + r);
  ctx.stroke();
  ctx.lineCap = 'butt';
}

function drawNow(ctx: CanvasRenderingContext2D, { layout, nowUs, theme }: DrawState): void {
  if (nowUs < layout.win.startUs || nowUs > layout.win.endUs) return;
  const x = Math.min(layout.xOfUs(nowUs), layout.plot.right - 1);
  ctx.strokeStyle = theme.text;
  ctx.globalAlpha = 0.5;
  ctx.lineWidth = 1.5;
  ctx.setLineDash([3, 4]);
  ctx.beginPath();
  ctx.moveTo(x, layout.plot.top);
  ctx.lineTo(x, layout.plot.bottom);
  ctx.stroke();
  ctx.setLineDash([]);
  ctx.globalAlpha = 1;
}

/** Top left, above the lane labels: whether the view follows the run, and how to get back. */
function drawFollowState(ctx: CanvasRenderingContext2D, { following, theme, fontScale }: DrawState): void {
  ctx.font = font(fontScale, 600, 13);
  ctx.textBaseline = 'middle';
  ctx.fillStyle = following ? theme.muted : theme.warn;
  ctx.fillText(following ? '● following' : '❚❚ double-click to follow', 10, GUTTER_PX.top / 2);
}
