/**
 * `window.ftDebug`: a stable hook for end-to-end tests and for a curious lecturer's console.
 * Present in every build (docs/design.md §7.2): `snapshot()` gives the store as plain JSON — at least
 * `vms` (each with its name, role and icount) and the clients' `history`.
 */
import { snapshotDashboard, type DebugSnapshot } from './store';
import { session } from './session';

export interface FtDebug {
  /** The store's current state as plain JSON. */
  snapshot(): DebugSnapshot;
  /** The run so far as a script `npm run sim -- --script` replays (lockstep). */
  script(): Promise<string>;
  /** Checks the clients' history now instead of at the next second. */
  check(): Promise<void>;
}

declare global {
  interface Window {
    ftDebug: FtDebug;
  }
}

export function installDebugHook(target: Window): void {
  target.ftDebug = { snapshot: () => snapshotDashboard(), script: () => session.script(), check: () => session.check() };
}
