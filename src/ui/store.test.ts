import { describe, expect, it } from 'vitest';
import { snapshotDashboard, useDashboard } from './store';

describe('dashboard store', () => {
  it('snapshots as plain JSON without actions', () => {
    useDashboard.getState().reset();
    useDashboard.getState().notify('hello');
    const snap = snapshotDashboard();
    expect(snap.notices).toEqual(['hello']);
    expect(JSON.parse(JSON.stringify(snap))).toEqual(snap);
    expect(Object.values(snap).some((v) => typeof v === 'function')).toBe(false);
  });

  it('keeps only the latest 20 notices', () => {
    useDashboard.getState().reset();
    for (let i = 0; i < 25; i++) useDashboard.getState().notify(`n${i}`);
    const { notices } = snapshotDashboard();
    expect(notices).toHaveLength(20);
    expect(notices[0]).toBe('n5');
    expect(notices[19]).toBe('n24');
  });
});
