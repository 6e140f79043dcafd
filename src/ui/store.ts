/**
 * The UI's single store (zustand). It holds what the dashboard draws, as plain JSON-able data:
 * the VMs' roles and counters, the logging channel, the clients' completed operations and the
 * checkers' verdicts. The runtime (src/runtime) feeds it from worker stats at ~30 Hz; React and the
 * d3 views read it through the constant selectors below (STYLE.md 8).
 */
import { create } from 'zustand';

export type VmRole = 'primary' | 'backup' | 'live' | 'halted' | 'crashed';
export type SyncStatus = 'in-sync' | 'diverged' | 'unknown';

export interface VmView {
  id: string; // 'A', 'B', 'C'…
  role: VmRole;
  icount: number;
  logQueueEntries: number;
  lagMs: number;
  stalls: number;
  sync: SyncStatus;
}

export type RunState = 'idle' | 'running' | 'paused';

export interface DashboardState {
  appName: string;
  runState: RunState;
  guest: string | null;
  vms: VmView[];
  notices: string[];
}

export const initialDashboard: DashboardState = {
  appName: 'FT Visualizer',
  runState: 'idle',
  guest: null,
  vms: [],
  notices: [],
};

export interface DashboardActions {
  reset(): void;
  notify(message: string): void;
}

export type DashboardStore = DashboardState & DashboardActions;

export const useDashboard = create<DashboardStore>()((set) => ({
  ...initialDashboard,
  reset: () => set({ ...initialDashboard }),
  notify: (message) => set((s) => ({ notices: [...s.notices.slice(-19), message] })),
}));

/** The store's state as plain JSON: actions dropped, everything structured-clone safe. */
export function snapshotDashboard(state: DashboardStore = useDashboard.getState()): DashboardState {
  const plain: DashboardState = {
    appName: state.appName,
    runState: state.runState,
    guest: state.guest,
    vms: state.vms,
    notices: state.notices,
  };
  return JSON.parse(JSON.stringify(plain)) as DashboardState;
}

export const selectVms = (s: DashboardStore) => s.vms;
export const selectRunState = (s: DashboardStore) => s.runState;
export const selectNotices = (s: DashboardStore) => s.notices;
