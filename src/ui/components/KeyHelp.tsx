/** The key list (?): what each lecture key does. */
import { useDashboard, selectSet, selectShowKeys } from '../store';
import { KEYS } from '../keyboard';

export function KeyHelp() {
  const show = useDashboard(selectShowKeys);
  const set = useDashboard(selectSet);
  if (!show) return null;
  return (
    <div className="overlay" role="dialog" aria-label="Keyboard shortcuts" data-testid="key-help" onClick={() => set({ showKeys: false })}>
      <div className="overlay-box">
        <h2>Keys</h2>
        <dl className="keys">{KEYS.map((k) => <div key={k.key}><dt><kbd>{k.key}</kbd></dt><dd>{k.what}</dd></div>)}</dl>
      </div>
    </div>
  );
}
