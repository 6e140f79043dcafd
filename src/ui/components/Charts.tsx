/**
 * Charts over virtual time (charts/timeseries.ts, d3 scales and axes): the backup's lag, the log
 * queue, the Output Rule's stall, the primary's CPU share and the logging bandwidth (the paper's
 * Table 1 figure). The window follows the pace, so a slow-motion run and a full-speed run both show
 * a few seconds of wall time.
 */
import { useEffect, useRef } from 'react';
import { createTimeSeries, type TimeSeries } from '../charts/timeseries';
import { session, type SeriesPoint } from '../session';
import { useDashboard, selectPaceIndex } from '../store';
import { PACES } from '../settings';

const CHART_REDRAW_MS = 200;

interface ChartSpec { title: string; unit: string; color: string; value: (p: SeriesPoint) => number; yMax?: number }

const CHARTS: ChartSpec[] = [
  { title: 'backup lag', unit: 'ms', color: '--backup', value: (p) => p.lagMs },
  { title: 'log queue', unit: 'entries', color: '--primary', value: (p) => p.queueEntries },
  { title: 'output-rule stall', unit: 'ms', color: '--warn', value: (p) => p.stallMs },
  { title: 'primary CPU share', unit: '%', color: '--live', value: (p) => p.cpuPct, yMax: 100 },
  { title: 'logging bandwidth', unit: 'Mbit/s', color: '--disk', value: (p) => p.bandwidthMbps },
];

/** Virtual time the charts span: ~10 s of wall time at the pace, within [50 ms, 10 s]. */
function windowUsFor(paceIndex: number): number {
  const pace = PACES[paceIndex];
  return Math.max(50_000, Math.min(10_000_000, pace === Infinity ? 10_000_000 : pace * 10_000_000));
}

function Chart({ spec, windowUs }: { spec: ChartSpec; windowUs: number }) {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!host.current) return;
    const chart: TimeSeries = createTimeSeries(host.current, { title: spec.title, unit: spec.unit, series: [{ name: spec.title, color: spec.color }], windowUs, yMin: 0, yMax: spec.yMax });
    let raf = 0;
    let seen = -1;
    let drawnMs = 0;
    const loop = (t: number): void => {
      // Seconds of history at a glance: ~5 redraws a second are enough, and leave the frame to the rest.
      if (session.version !== seen && t - drawnMs >= CHART_REDRAW_MS) {
        seen = session.version;
        drawnMs = t;
        const nowUs = useDashboard.getState().nowUs;
        const pts = [];
        for (let i = session.series.length - 1; i >= 0 && session.series[i].tUs >= nowUs - windowUs; i--) pts.push(session.series[i]);
        pts.reverse();
        chart.update(pts.map((p) => ({ tUs: p.tUs, values: [spec.value(p)] })), nowUs);
      }
      raf = requestAnimationFrame(loop);
    };
    raf = requestAnimationFrame(loop);
    return () => {
      cancelAnimationFrame(raf);
      chart.destroy();
    };
  }, [spec, windowUs]);
  return <div ref={host} className="chart" />;
}

export function Charts() {
  const paceIndex = useDashboard(selectPaceIndex);
  const windowUs = windowUsFor(paceIndex);
  return (
    <section className="panel panel-charts" aria-label="Charts">
      <h2>Over time</h2>
      <div className="charts">
        {CHARTS.map((c) => <Chart key={c.title} spec={c} windowUs={windowUs} />)}
      </div>
    </section>
  );
}
