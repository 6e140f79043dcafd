import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './ui/App';
import { installDebugHook } from './ui/debug';
import { session } from './ui/session';
import { settingsFromUrl } from './ui/url';
import { useDashboard } from './ui/store';
import { scenarioByName } from './ui/scenarios';
import { openScenario } from './ui/scenario';
import './ui/app.css';

installDebugHook(window);

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);

// `?scenarios`: the list. `?scenario=NAME&seed=N`: that scenario, step by step. Otherwise the pair
// starts on load with the settings the URL names (?seed=7&guest=kv&outputRule=0 …).
const query = new URLSearchParams(window.location.search);
const store = useDashboard.getState();
const scenarioName = query.get('scenario');
const scenario = scenarioName === null ? undefined : scenarioByName(scenarioName);
if (query.has('scenarios') || (scenarioName !== null && !scenario)) {
  if (scenarioName !== null) store.notify(`no scenario ${JSON.stringify(scenarioName)}: here is the list`, 'error');
  store.set({ page: 'scenarios' });
} else if (scenario) {
  const seed = query.get('seed');
  const n = seed === null ? null : Number(seed);
  if (n !== null && !(Number.isInteger(n) && n >= 0 && n < 2 ** 32)) store.notify(`seed ${JSON.stringify(seed)}: expected a whole number from 0 to 4294967295; the scenario's own is used`, 'error');
  void openScenario(scenario, n !== null && Number.isInteger(n) && n >= 0 && n < 2 ** 32 ? n : null);
} else {
  const fromUrl = settingsFromUrl(window.location.search, store.draft);
  if (fromUrl.error) store.notify(fromUrl.error, 'error');
  store.set({ draft: fromUrl.settings, load: fromUrl.load });
  void session.start(fromUrl.settings);
}
