/**
 * The UI's single store (zustand). It holds what the dashboard draws, as plain JSON-able data:
 * the VMs' roles and counters, what is cut, the clients' completed operations, the disk, the
 * checker's verdict and the run's controls. The session (session.ts) feeds it from worker stats at
 * most once per animation frame; React reads it through the constant selectors below, and the hot
 * numbers (icounts, lag, queues) go to the DOM through `HotText` without re-rendering (STYLE.md 8).
 */
import { create } from 'zustand';
import type { HostView } from '../ft/host-types';
import { emptyDigest, type Digest, type OpRow } from './digest';
import { DEFAULT_PACE_INDEX, DEFAULT_SETTINGS, type UiSettings } from './settings';

export type VmRole = HostView['role'];
/** in-sync: hashes match so far; syncing: a new backup before its first hash check; alone: no backup. */
export type SyncStatus = 'in-sync' | 'diverged' | 'syncing' | 'alone' | 'stopped';

export interface VmView extends HostView {
  /** How far behind its primary a backup is, in instructions (on a primary: its backup's lag). */
  lagInstructions: number;
  sync: SyncStatus;
  /** The current instruction, disassembled (empty when the pc is outside the ELF's code). */
  insn: string;
}

export type RunState = 'idle' | 'starting' | 'running' | 'paused' | 'error';
export type Mode = 'lockstep' | 'free';

export interface Verdict {
  kind: 'none' | 'checking' | 'ok' | 'violation' | 'unknown';
  text: string;
  /** Operations in the history the verdict is about. */
  ops: number;
}

export interface Notice {
  id: number;
  text: string;
  tone: 'info' | 'error';
}

/** The scenario being played: its step k of n (0-based), the narration, and whether the run is still on its way there. */
export interface ScenarioView {
  name: string;
  title: string;
  question: string;
  k: number;
  n: number;
  text: string;
  busy: boolean;
  phase: number;
  atUs: number;
}

export type Page = 'dashboard' | 'scenarios';

export interface DashboardState {
  appName: string;
  runState: RunState;
  mode: Mode;
  paceIndex: number;
  nowUs: number;
  /** The settings of the pair that runs now, and the ones being edited (applied by reset). */
  settings: UiSettings;
  draft: UiSettings;
  /** The guest's label: a shipped guest's name, or the user's file name. */
  guestLabel: string;
  load: boolean;
  vms: VmView[];
  digest: Digest;
  verdict: Verdict;
  notices: Notice[];
  theme: 'dark' | 'light';
  projector: boolean;
  showKeys: boolean;
  scenario: ScenarioView | null;
  page: Page;
  /** Time travel on its way back to this virtual time (null: none). */
  travellingTo: number | null;
}

export const initialDashboard: DashboardState = {
  appName: 'FT Visualizer',
  runState: 'idle',
  mode: 'lockstep',
  paceIndex: DEFAULT_PACE_INDEX,
  nowUs: 0,
  settings: DEFAULT_SETTINGS,
  draft: DEFAULT_SETTINGS,
  guestLabel: DEFAULT_SETTINGS.guest,
  load: true,
  vms: [],
  digest: emptyDigest(),
  verdict: { kind: 'none', text: 'no operations yet', ops: 0 },
  notices: [],
  theme: 'dark',
  projector: false,
  showKeys: false,
  scenario: null,
  page: 'dashboard',
  travellingTo: null,
};

let noticeId = 1;

export interface DashboardActions {
  set(patch: Partial<DashboardState>): void;
  notify(text: string, tone?: Notice['tone']): void;
  dismiss(id: number): void;
  editDraft(patch: Partial<UiSettings>): void;
}

export type DashboardStore = DashboardState & DashboardActions;

export const useDashboard = create<DashboardStore>()((set) => ({
  ...initialDashboard,
  set: (patch) => set(patch),
  notify: (text, tone = 'info') => set((s) => ({ notices: [...s.notices.slice(-5), { id: noticeId++, text, tone }] })),
  dismiss: (id) => set((s) => ({ notices: s.notices.filter((n) => n.id !== id) })),
  editDraft: (patch) => set((s) => ({ draft: { ...s.draft, ...patch, switches: { ...s.draft.switches, ...patch.switches } } })),
}));

/** A completed operation as the debug snapshot and the history list give it. */
export type HistoryRow = OpRow;

export interface DebugSnapshot extends Omit<DashboardState, 'vms'> {
  vms: (VmView & { id: string })[];
  /** The clients' completed operations (the latest OPS_KEPT), duplicates marked; `clientHistory` is the same list. */
  history: HistoryRow[];
  clientHistory: HistoryRow[];
}

/** The store's state as plain JSON: actions dropped, everything structured-clone safe. */
export function snapshotDashboard(state: DashboardStore = useDashboard.getState()): DebugSnapshot {
  const { set: _s, notify: _n, dismiss: _d, editDraft: _e, vms, ...rest } = state;
  const plain: DebugSnapshot = { ...rest, vms: vms.map((v) => ({ ...v, id: v.name })), history: state.digest.ops, clientHistory: state.digest.ops };
  return JSON.parse(JSON.stringify(plain, (_k, v: unknown) => (v === Infinity ? 'Infinity' : v))) as DebugSnapshot;
}

export const selectVms = (s: DashboardStore) => s.vms;
export const selectRunState = (s: DashboardStore) => s.runState;
export const selectNotices = (s: DashboardStore) => s.notices;
export const selectMode = (s: DashboardStore) => s.mode;
export const selectTravellingTo = (s: DashboardStore) => s.travellingTo;
export const selectPaceIndex = (s: DashboardStore) => s.paceIndex;
export const selectDraft = (s: DashboardStore) => s.draft;
export const selectSettings = (s: DashboardStore) => s.settings;
export const selectLoad = (s: DashboardStore) => s.load;
export const selectVerdict = (s: DashboardStore) => s.verdict;
export const selectOps = (s: DashboardStore) => s.digest.ops;
export const selectDisk = (s: DashboardStore) => s.digest.disk;
export const selectCuts = (s: DashboardStore) => s.digest.cuts;
export const selectConsoles = (s: DashboardStore) => s.digest.consoles;
export const selectMoments = (s: DashboardStore) => s.digest.moments;
export const selectTheme = (s: DashboardStore) => s.theme;
export const selectProjector = (s: DashboardStore) => s.projector;
export const selectShowKeys = (s: DashboardStore) => s.showKeys;
export const selectGuestLabel = (s: DashboardStore) => s.guestLabel;
export const selectCompleted = (s: DashboardStore) => s.digest.completed;
export const selectDuplicates = (s: DashboardStore) => s.digest.duplicates;
export const selectChannelDelayUs = (s: DashboardStore) => s.settings.channelDelayUs;
export const selectSet = (s: DashboardStore) => s.set;
export const selectEditDraft = (s: DashboardStore) => s.editDraft;
export const selectDismiss = (s: DashboardStore) => s.dismiss;
export const selectScenario = (s: DashboardStore) => s.scenario;
export const selectPage = (s: DashboardStore) => s.page;
