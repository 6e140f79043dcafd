/**
 * `window.ftDebug`: a stable hook for end-to-end tests and for a curious lecturer's console.
 * Present in every build (docs/design.md §7).
 */
import { snapshotDashboard, type DashboardState } from './store';

export interface FtDebug {
  /** The store's current state as plain JSON. */
  snapshot(): DashboardState;
}

declare global {
  interface Window {
    ftDebug: FtDebug;
  }
}

export function installDebugHook(target: Window): void {
  target.ftDebug = { snapshot: () => snapshotDashboard() };
}
