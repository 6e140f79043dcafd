import { describe, expect, it } from 'vitest';
import { initialDashboard, snapshotDashboard, useDashboard } from './store';

describe('dashboard store', () => {
  it('snapshots as plain JSON without actions, with vms and the client history', () => {
    useDashboard.setState({ ...initialDashboard, notices: [] });
    useDashboard.getState().notify('hello');
    const snap = snapshotDashboard();
    expect(snap.notices.map((n) => n.text)).toEqual(['hello']);
    expect(JSON.parse(JSON.stringify(snap))).toEqual(snap);
    expect(Object.values(snap).some((v) => typeof v === 'function')).toBe(false);
    expect(Array.isArray(snap.vms)).toBe(true);
    expect(Array.isArray(snap.history)).toBe(true);
  });

  it('keeps only the latest 6 notices', () => {
    useDashboard.setState({ notices: [] });
    for (let i = 0; i < 25; i++) useDashboard.getState().notify(`n${i}`);
    const { notices } = snapshotDashboard();
    expect(notices.map((n) => n.text)).toEqual(['n19', 'n20', 'n21', 'n22', 'n23', 'n24']);
  });

  it('edits the draft settings without touching the ones in force', () => {
    useDashboard.setState({ ...initialDashboard });
    useDashboard.getState().editDraft({ seed: 42, switches: { ...initialDashboard.draft.switches, outputRule: false } });
    const s = useDashboard.getState();
    expect(s.draft.seed).toBe(42);
    expect(s.draft.switches.outputRule).toBe(false);
    expect(s.draft.switches.testAndSet).toBe(true);
    expect(s.settings.seed).toBe(initialDashboard.settings.seed);
  });
});
