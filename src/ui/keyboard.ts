/**
 * The lecture keys: space pause, K kill primary, B kill backup, P partition, H heal, V new backup,
 * + / − pace, S step, E next log entry, ← back a second (time travel; in a scenario, its previous
 * step), ? the key list. Ignored while typing in a field.
 */
import { session } from './session';
import { useDashboard } from './store';
import { scenarioPlayer } from './scenario';

export const KEYS: { key: string; what: string }[] = [
  { key: 'space', what: 'pause / play' },
  { key: 'K', what: 'kill the primary' },
  { key: 'B', what: 'kill the backup' },
  { key: 'P', what: 'partition the logging channel' },
  { key: 'H', what: 'heal every cut' },
  { key: 'V', what: 'new backup (FT VMotion)' },
  { key: '+ / −', what: 'faster / slower' },
  { key: 'S', what: 'one step (lockstep window)' },
  { key: 'E', what: 'run to the next log entry sent' },
  { key: '←', what: 'back one second (time travel; the run forks there)' },
  { key: '← / →', what: 'scenario: previous / next step' },
  { key: '?', what: 'show these keys' },
  { key: 'Esc', what: 'close this list' },
];

function typing(t: EventTarget | null): boolean {
  const el = t as HTMLElement | null;
  return !!el && (el.tagName === 'INPUT' || el.tagName === 'SELECT' || el.tagName === 'TEXTAREA' || el.isContentEditable);
}

export function onKey(e: KeyboardEvent): void {
  if (e.ctrlKey || e.metaKey || e.altKey || typing(e.target)) return;
  const s = useDashboard.getState();
  const k = e.key;
  const act = (f: () => unknown): void => {
    e.preventDefault();
    void f();
  };
  if (k === ' ') return act(() => session.togglePause());
  if (k === '?') return act(() => s.set({ showKeys: !s.showKeys }));
  if (k === 'Escape') return act(() => s.set({ showKeys: false }));
  const player = scenarioPlayer();
  if (player && s.scenario && k === 'ArrowRight') return act(() => player.next());
  if (player && s.scenario && k === 'ArrowLeft') return act(() => player.prev());
  if (k === 'ArrowLeft' && s.mode === 'lockstep') return act(() => session.back());
  if (k === '+' || k === '=') return act(() => session.setPaceIndex(s.paceIndex + 1));
  if (k === '-' || k === '−' || k === '_') return act(() => session.setPaceIndex(s.paceIndex - 1));
  switch (k.toLowerCase()) {
    case 'k': return act(() => session.act({ kind: 'kill', vm: 'primary' }));
    case 'b': return act(() => session.act({ kind: 'kill', vm: 'backup' }));
    case 'p': return act(() => session.act({ kind: 'partition', what: 'logging' }));
    case 'h': return act(() => session.act({ kind: 'heal' }));
    case 'v': return act(() => session.act({ kind: 'vmotion' }));
    case 's': return act(() => session.step());
    case 'e': return act(() => session.stepEntry());
  }
}
