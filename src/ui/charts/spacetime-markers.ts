/**
 * How each point event of the trace looks on the space-time diagram: colour, shape, size, label.
 * A table, so adding an event to the trace is one line here.
 */
import type { TraceEv, TraceEvent } from '../../sim/trace';
import type { ThemeColor } from './theme';
import type { MarkerShape } from './spacetime-marks';

export interface MarkerStyle { hue: ThemeColor; shape: MarkerShape; big: boolean; label: string }

/** The marker for an event, or null: not a point event (or not one this diagram knows). */
export function markerStyle(e: TraceEvent): MarkerStyle | null {
  const style = (MARKERS as Record<string, ((e: TraceEvent) => MarkerStyle) | undefined>)[e.ev];
  return style ? style(e) : null;
}

type MarkerTable = { [K in TraceEv]?: (e: Extract<TraceEvent, { ev: K }>) => MarkerStyle };

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
