/**
 * The logging channel between a primary and its backup, drawn as it runs: log batches move right,
 * acks and heartbeats move left, each dot at the distance its virtual age says. When the run is too
 * fast for a 50 µs hop to be seen, the channel shows the last ~0.4 s of wall time instead, so the
 * flow is still visible; a cut channel is drawn cut, and what crosses it is lost.
 */
import { useEffect, useRef } from 'react';
import { session } from '../session';
import { useDashboard, selectChannelDelayUs } from '../store';
import { cssColor } from './colors';

const WALL_SPAN_MS = 400;
/** At most this much virtual time in view, and this many dots: past that the channel is a stream either way. */
const SPAN_MAX_US = 60_000;
const DOTS_MAX = 240;

interface Flow { from: string; to: string; delayUs: number }

function draw(canvas: HTMLCanvasElement, flow: Flow, cut: boolean, spanUs: number): void {
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth;
  const h = canvas.clientHeight;
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
  }
  const g = canvas.getContext('2d');
  if (!g) return;
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, w, h);
  const nowUs = useDashboard.getState().nowUs;
  const yLog = h * 0.3;
  const yAck = h * 0.7;
  const mid = w / 2;
  const muted = cssColor(canvas, '--border', '#334155');
  g.lineWidth = 2;
  g.strokeStyle = muted;
  for (const y of [yLog, yAck]) {
    g.beginPath();
    g.moveTo(4, y);
    g.lineTo(w - 4, y);
    g.stroke();
  }
  // Travel: a message sent at t is at fraction (now - t) / hop of the way, hop = the link's delay
  // stretched to the visible span.
  const hopUs = Math.max(flow.delayUs, Math.min(SPAN_MAX_US, spanUs));
  const primary = cssColor(canvas, '--primary', '#60a5fa');
  const backup = cssColor(canvas, '--backup', '#4ade80');
  const ev = session.events;
  let drawn = 0;
  for (let i = ev.length - 1; i >= 0 && drawn < DOTS_MAX; i--) {
    const e = ev[i];
    if (nowUs - e.tUs > hopUs) break;
    if (e.ev === 'log-sent' || e.ev === 'ack-sent' || e.ev === 'heartbeat-sent') drawn++;
    const f = Math.max(0, (nowUs - e.tUs) / hopUs);
    if (cut && f > 0.5) continue; // lost at the cut
    if (e.vm === flow.from && e.ev === 'log-sent') dot(g, 8 + f * (w - 16), yLog, 3 + Math.min(5, e.entries.length), primary, e.resent);
    else if (e.vm === flow.to && e.ev === 'ack-sent') dot(g, w - 8 - f * (w - 16), yAck, 4, backup, false);
    else if (e.ev === 'heartbeat-sent' && (e.vm === flow.from || e.vm === flow.to)) {
      const x = e.vm === flow.from ? 8 + f * (w - 16) : w - 8 - f * (w - 16);
      diamond(g, x, e.vm === flow.from ? yLog - 12 : yAck + 12, e.vm === flow.from ? primary : backup);
    }
  }
  if (cut) {
    g.strokeStyle = cssColor(canvas, '--danger', '#f87171');
    g.lineWidth = 4;
    g.beginPath();
    for (let k = 0; k <= 8; k++) g.lineTo(mid + (k % 2 === 0 ? -7 : 7), 6 + (k * (h - 12)) / 8);
    g.stroke();
  }
}

function dot(g: CanvasRenderingContext2D, x: number, y: number, r: number, color: string, hollow: boolean): void {
  g.beginPath();
  g.arc(x, y, r, 0, Math.PI * 2);
  if (hollow) {
    g.strokeStyle = color;
    g.lineWidth = 2;
    g.stroke();
  } else {
    g.fillStyle = color;
    g.fill();
  }
}

function diamond(g: CanvasRenderingContext2D, x: number, y: number, color: string): void {
  g.fillStyle = color;
  g.beginPath();
  g.moveTo(x, y - 5);
  g.lineTo(x + 5, y);
  g.lineTo(x, y + 5);
  g.lineTo(x - 5, y);
  g.closePath();
  g.fill();
}

/** Tracks how fast virtual time moves against the wall clock, to size the visible span. */
function spanTracker(): (nowUs: number) => number {
  let lastWall = performance.now();
  let lastNow = 0;
  let rate = 0; // virtual µs per wall ms, smoothed
  return (nowUs) => {
    const wall = performance.now();
    if (wall - lastWall > 50) {
      const r = Math.max(0, nowUs - lastNow) / (wall - lastWall);
      rate = rate === 0 ? r : rate * 0.8 + r * 0.2;
      lastWall = wall;
      lastNow = nowUs;
    }
    return rate * WALL_SPAN_MS;
  };
}

export function ChannelView({ from, to, cut, active }: { from: string; to: string; cut: boolean; active: boolean }) {
  const ref = useRef<HTMLCanvasElement>(null);
  const delayUs = useDashboard(selectChannelDelayUs);
  useEffect(() => {
    if (!active) return;
    let raf = 0;
    let seen = -1;
    const span = spanTracker();
    const loop = (): void => {
      const c = ref.current;
      const spanUs = span(useDashboard.getState().nowUs);
      if (c && session.version !== seen) {
        seen = session.version;
        draw(c, { from, to, delayUs }, cut, spanUs);
      }
      raf = requestAnimationFrame(loop);
    };
    raf = requestAnimationFrame(loop);
    return () => cancelAnimationFrame(raf);
  }, [from, to, cut, active, delayUs]);
  return (
    <section className={`channel ${active ? 'channel-active' : 'channel-idle'} ${cut ? 'channel-cut' : ''}`} aria-label={`logging channel ${from} to ${to}`} data-testid="logging-channel" data-cut={cut ? 'true' : 'false'}>
      <div className="channel-title">logging channel {from} → {to}</div>
      {active ? <canvas ref={ref} className="channel-canvas" /> : <div className="channel-none">{cut ? "the pair is over" : "no channel"}</div>}
      <div className="channel-legend">
        <span className="legend-log">● log entries →</span>
        <span className="legend-ack">← acks ●</span>
        <span className="legend-hb">◆ heartbeats</span>
      </div>
      {cut && <div className="channel-cut-label">✂ cut: nothing gets through</div>}
    </section>
  );
}
