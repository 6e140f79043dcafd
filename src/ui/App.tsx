import { useEffect } from 'react';
import { Dashboard } from './Dashboard';
import { KeyHelp } from './components/KeyHelp';
import { useDashboard, selectPage, selectSet, selectProjector, selectTheme } from './store';
import { ScenarioList } from './components/ScenarioList';
import { onKey } from './keyboard';

export function App() {
  const theme = useDashboard(selectTheme);
  const projector = useDashboard(selectProjector);
  const page = useDashboard(selectPage);
  const set = useDashboard(selectSet);
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
    document.documentElement.dataset.projector = projector ? 'on' : 'off';
  }, [theme, projector]);
  useEffect(() => {
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
  return (
    <div className="app">
      <header className="app-header">
        <div className="title-row">
          <h1>FT Visualizer</h1>
          <span className="subtitle">primary/backup replication of a whole machine, after VMware FT</span>
          <div className="view-toggles">
            <button data-testid="theme" onClick={() => set({ theme: theme === 'dark' ? 'light' : 'dark' })} title="light or dark">{theme === 'dark' ? '☀ light' : '☾ dark'}</button>
            <button data-testid="projector" className={projector ? 'on' : ''} onClick={() => set({ projector: !projector })} title="large type, high contrast">projector</button>
            <a className="button-link" href="?scenarios" data-testid="scenarios-link">scenarios</a>
            <button data-testid="keys" onClick={() => set({ showKeys: true })} title="keyboard shortcuts (?)">? keys</button>
          </div>
        </div>
        <details className="app-lede">
          <summary>Two real RISC-V computers, one program: the primary serves, the backup replays its log instruction for instruction.</summary>
          <p>
            The <strong>primary</strong> serves clients and logs every nondeterministic event — timer interrupts, arriving
            packets, disk completions, clock and RNG reads — with the exact instruction it happened at; the{' '}
            <strong>backup</strong> replays the log and stays an instruction-exact copy. Outputs wait until the backup has the
            log (the Output Rule), heartbeats detect a failure, and test-and-set on the shared disk decides who goes live.
            Kill a VM, cut the logging channel, turn a mechanism off, and watch what the clients see. Press <kbd>?</kbd> for the keys.
          </p>
        </details>
      </header>
      {page === 'scenarios' ? <ScenarioList /> : <Dashboard />}
      <KeyHelp />
    </div>
  );
}
