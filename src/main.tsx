import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './ui/App';
import { installDebugHook } from './ui/debug';
import { session } from './ui/session';
import { settingsFromUrl } from './ui/url';
import { useDashboard } from './ui/store';
import './ui/app.css';

installDebugHook(window);

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);

// The pair starts on load, with the settings the URL names (?seed=7&guest=kv&outputRule=0 …).
const fromUrl = settingsFromUrl(window.location.search, useDashboard.getState().draft);
if (fromUrl.error) useDashboard.getState().notify(fromUrl.error, 'error');
useDashboard.getState().set({ draft: fromUrl.settings, load: fromUrl.load });
void session.start(fromUrl.settings);
