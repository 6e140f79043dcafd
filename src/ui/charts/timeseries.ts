/**
 * A small live line chart (SVG, d3 scales and axes): the last windowUs of virtual time ending at
 * now, one line per series, a header with the title and each series' latest value. Built once;
 * update() only moves the scales, the axes and each path's `d`, so 30 updates a second are cheap.
 * The pure parts (windowing, domains, the legend's values) are exported for the tests.
 */
import { lowerBound } from './spacetime-marks';
import { axisBottom, axisLeft, line, scaleLinear, select, type Selection } from 'd3';
import { cssColor } from './theme';

export interface SeriesSpec { name: string; color: string /* CSS var name like '--primary' or a colour */ }
export interface TimePoint { tUs: number; values: readonly number[] }

export interface TimeSeries {
  update(points: readonly TimePoint[], nowUs: number): void;
  destroy(): void;
}

export interface TimeSeriesOptions {
  title: string;
  unit: string;
  series: SeriesSpec[];
  /** Virtual time across the chart (µs). Default 2 s. */
  windowUs?: number;
  /** Fixed ends of the y axis; either left out follows the data (the low end from 0 unless negative). */
  yMin?: number;
  yMax?: number;
  format?: (v: number) => string;
}

export const DEFAULT_SERIES_WINDOW_US = 2_000_000;
const MARGIN_PX = { top: 24, right: 14, bottom: 24, left: 52 };

/** The x domain in µs: ends at now, but starts at 0 until a whole window has passed. */
export function xDomainUs(nowUs: number, windowUs: number): [number, number] {
  const startUs = Math.max(0, nowUs - windowUs);
  return [startUs, startUs + windowUs];
}

/**
 * The slice [from, to) of points to draw: those inside the window plus the one just before it,
 * so the line enters from the left edge instead of starting late. Points are in tUs order.
 */
export function visibleRange(points: readonly TimePoint[], startUs: number, endUs: number): { from: number; to: number } {
  const lo = lowerBound(points, startUs);
  let to = lo;
  while (to < points.length && points[to].tUs <= endUs) to++;
  return { from: Math.max(0, lo - 1), to };
}

/** The y domain over the drawn points: fixed ends where given, else the data's, rounded to nice numbers. */
export function yDomain(points: readonly TimePoint[], range: { from: number; to: number }, seriesCount: number, yMin?: number, yMax?: number): [number, number] {
  let min = Infinity;
  let max = -Infinity;
  for (let i = range.from; i < range.to; i++) {
    for (let k = 0; k < seriesCount; k++) {
      const v = points[i].values[k];
      if (!Number.isFinite(v)) continue;
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  let lo = yMin ?? (Number.isFinite(min) ? Math.min(0, min) : 0);
  let hi = yMax ?? (Number.isFinite(max) ? max : lo + 1);
  if (!(hi > lo)) hi = lo + 1;
  if (yMin === undefined || yMax === undefined) {
    const [niceLo, niceHi] = scaleLinear().domain([lo, hi]).nice(5).domain();
    lo = yMin ?? niceLo;
    hi = yMax ?? niceHi;
  }
  return [lo, hi];
}

/** Each series' most recent finite value (null: none yet), for the legend. */
export function latestValues(points: readonly TimePoint[], seriesCount: number): (number | null)[] {
  const out: (number | null)[] = new Array(seriesCount).fill(null);
  let missing = seriesCount;
  for (let i = points.length - 1; i >= 0 && missing > 0; i--) {
    for (let k = 0; k < seriesCount; k++) {
      const v = points[i].values[k];
      if (out[k] === null && Number.isFinite(v)) {
        out[k] = v;
        missing--;
      }
    }
  }
  return out;
}

/** Three significant figures at most, no trailing zeros: 1234 → "1234", 12.34 → "12.3", 0.5 → "0.5". */
export function formatValue(v: number): string {
  const abs = Math.abs(v);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : 2;
  return String(Number(v.toFixed(digits)));
}

let clipCounter = 0;

type Div = Selection<HTMLDivElement, unknown, null, undefined>;
type G = Selection<SVGGElement, unknown, null, undefined>;

/** The chart's elements, made once; a render only sets attributes on them. */
interface Chart {
  opts: TimeSeriesOptions;
  root: Div;
  frame: Div;
  svg: Selection<SVGSVGElement, unknown, null, undefined>;
  clipRect: Selection<SVGRectElement, unknown, null, undefined>;
  xAxis: G;
  yAxis: G;
  paths: Selection<SVGPathElement, SeriesSpec, SVGGElement, unknown>;
  legendValues: HTMLSpanElement[];
  x: ReturnType<typeof scaleLinear<number, number>>;
  y: ReturnType<typeof scaleLinear<number, number>>;
  /** The y axis as last drawn (domain and size): it is rebuilt only when this changes. */
  yKey: string;
}

export function createTimeSeries(host: HTMLElement, opts: TimeSeriesOptions): TimeSeries {
  if (host.clientHeight === 0) host.style.minHeight = '160px';
  const chart = buildChart(host, opts);
  let points: readonly TimePoint[] = [];
  let nowUs = 0;
  let sizePx = { w: 0, h: 0 };
  const resize = new ResizeObserver(() => {
    const el = chart.frame.node()!;
    sizePx = { w: el.clientWidth, h: el.clientHeight };
    chart.svg.attr('width', sizePx.w).attr('height', sizePx.h);
    renderChart(chart, points, nowUs, sizePx);
  });
  resize.observe(host);
  return {
    update(next, now) {
      points = next;
      nowUs = now;
      if (sizePx.w > 0) renderChart(chart, points, nowUs, sizePx);
    },
    destroy() {
      resize.disconnect();
      chart.root.remove();
    },
  };
}

function buildChart(host: HTMLElement, opts: TimeSeriesOptions): Chart {
  const root = select(host).append('div').style('display', 'flex').style('flex-direction', 'column').style('width', '100%').style('height', '100%').style('font', 'calc(13px * var(--font-scale, 1)) system-ui, sans-serif');
  const legendValues = buildHeader(root, opts);
  const frame = root.append('div').style('flex', '1 1 auto').style('min-height', '0').style('position', 'relative');
  const svg = frame.append('svg').style('position', 'absolute').style('inset', '0').style('overflow', 'visible');
  const clipId = `ts-clip-${++clipCounter}`;
  const clipRect = svg.append('defs').append('clipPath').attr('id', clipId).append('rect');
  const plot = svg.append('g').attr('transform', `translate(${MARGIN_PX.left},${MARGIN_PX.top})`);
  const axis = (): G => plot.append('g').style('color', 'var(--muted, #94a3b8)').style('font-size', 'calc(12px * var(--font-scale, 1))');
  const yAxis = axis();
  const xAxis = axis();
  svg.append('text').attr('x', MARGIN_PX.left - 8).attr('y', 10).attr('text-anchor', 'end').style('fill', 'var(--muted, #94a3b8)').style('font-size', 'calc(12px * var(--font-scale, 1))').text(opts.unit);
  const paths = plot.append('g').attr('clip-path', `url(#${clipId})`).selectAll<SVGPathElement, SeriesSpec>('path').data(opts.series).join('path')
    .attr('fill', 'none').attr('stroke-width', 2).attr('stroke-linejoin', 'round').style('stroke', (s) => cssColor(s.color));
  return { opts, root, frame, svg, clipRect, xAxis, yAxis, paths, legendValues, x: scaleLinear(), y: scaleLinear(), yKey: '' };
}

function renderChart(c: Chart, points: readonly TimePoint[], nowUs: number, sizePx: { w: number; h: number }): void {
  const { opts, x, y } = c;
  const format = opts.format ?? formatValue;
  const w = Math.max(10, sizePx.w - MARGIN_PX.left - MARGIN_PX.right);
  const h = Math.max(10, sizePx.h - MARGIN_PX.top - MARGIN_PX.bottom);
  const [startUs, endUs] = xDomainUs(nowUs, opts.windowUs ?? DEFAULT_SERIES_WINDOW_US);
  const range = visibleRange(points, startUs, endUs);
  x.domain([startUs / 1e6, endUs / 1e6]).range([0, w]);
  y.domain(yDomain(points, range, opts.series.length, opts.yMin, opts.yMax)).range([h, 0]);
  const xTicks = Math.max(2, Math.floor(w / 90));
  const seconds = x.tickFormat(xTicks);
  c.xAxis.attr('transform', `translate(0,${h})`).call(axisBottom(x).ticks(xTicks).tickFormat((v) => `${seconds(v)} s`));
  const yKey = `${y.domain().join()}|${w}x${h}`;
  if (yKey !== c.yKey) {
    // The y axis only changes with the data's range: no rebuild while the range holds.
    c.yKey = yKey;
    c.yAxis.call(axisLeft(y).ticks(Math.max(2, Math.floor(h / 36))).tickSize(-w).tickFormat((v) => format(Number(v))));
    c.yAxis.selectAll('.tick line').style('opacity', 0.25);
    c.yAxis.select('.domain').remove();
  }
  c.clipRect.attr('x', 0).attr('y', -2).attr('width', w).attr('height', h + 4);
  const visible = points.slice(range.from, range.to);
  c.paths.attr('d', (_s, k) => line<TimePoint>().defined((p) => Number.isFinite(p.values[k])).x((p) => x(p.tUs / 1e6)).y((p) => y(p.values[k]))(visible) ?? '');
  latestValues(points, opts.series.length).forEach((v, k) => {
    const text = v === null ? '–' : `${format(v)} ${opts.unit}`;
    if (c.legendValues[k].textContent !== text) c.legendValues[k].textContent = text;
  });
}

/** The title and one legend item per series (swatch, name, latest value); returns the value spans. */
function buildHeader(root: Div, opts: TimeSeriesOptions): HTMLSpanElement[] {
  const header = root.append('div').style('display', 'flex').style('flex-wrap', 'wrap').style('align-items', 'baseline').style('gap', '4px 16px').style('padding', '0 4px 4px');
  header.append('span').text(opts.title).style('font-weight', '700').style('font-size', 'calc(14px * var(--font-scale, 1))').style('color', 'var(--text, #e2e8f0)').style('margin-right', 'auto');
  const values: HTMLSpanElement[] = [];
  for (const s of opts.series) {
    const item = header.append('span').style('display', 'inline-flex').style('align-items', 'baseline').style('gap', '6px').style('color', 'var(--muted, #94a3b8)');
    item.append('span').style('display', 'inline-block').style('width', '14px').style('height', '3px').style('align-self', 'center').style('background', cssColor(s.color));
    item.append('span').text(s.name);
    values.push(item.append('span').style('color', 'var(--text, #e2e8f0)').style('font-weight', '600').style('font-variant-numeric', 'tabular-nums').text('–').node()!);
  }
  return values;
}
