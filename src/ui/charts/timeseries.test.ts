import { describe, expect, it } from 'vitest';
import { cssColor } from './theme';
import { formatValue, latestValues, visibleRange, xDomainUs, yDomain, type TimePoint } from './timeseries';

const pts = (rows: [number, ...number[]][]): TimePoint[] => rows.map(([tUs, ...values]) => ({ tUs, values }));

describe('time series windowing', () => {
  it('ends the x domain at now once a whole window has passed, and starts at 0 before', () => {
    expect(xDomainUs(5_000_000, 2_000_000)).toEqual([3_000_000, 5_000_000]);
    expect(xDomainUs(500_000, 2_000_000)).toEqual([0, 2_000_000]);
  });

  it('draws the points in the window plus the one before it', () => {
    const points = pts([[0, 1], [100, 2], [200, 3], [300, 4], [400, 5]]);
    expect(visibleRange(points, 150, 300)).toEqual({ from: 1, to: 4 });
    expect(visibleRange(points, 0, 1000)).toEqual({ from: 0, to: 5 });
    expect(visibleRange(points, 900, 1000)).toEqual({ from: 4, to: 5 });
    expect(visibleRange([], 0, 1000)).toEqual({ from: 0, to: 0 });
  });
});

describe('time series y domain', () => {
  const points = pts([[0, 3, 40], [100, 7, NaN], [200, 12, 18]]);
  const all = { from: 0, to: points.length };

  it('covers every series from 0, rounded up to a nice number', () => {
    expect(yDomain(points, all, 2)).toEqual([0, 40]);
    expect(yDomain(points, { from: 1, to: 3 }, 2)).toEqual([0, 20]);
  });

  it('keeps fixed ends, and goes below 0 only for negative data', () => {
    expect(yDomain(points, all, 2, 0, 100)).toEqual([0, 100]);
    expect(yDomain(pts([[0, -3], [1, 4]]), { from: 0, to: 2 }, 1)).toEqual([-3, 4]);
    expect(yDomain(points, all, 2, undefined, 1)[1]).toBe(1);
  });

  it('is [0, 1] with no data or flat zeros', () => {
    expect(yDomain([], { from: 0, to: 0 }, 2)).toEqual([0, 1]);
    expect(yDomain(pts([[0, 0], [1, 0]]), { from: 0, to: 2 }, 1)).toEqual([0, 1]);
  });
});

describe('time series legend', () => {
  it('shows each series’ latest finite value', () => {
    expect(latestValues(pts([[0, 1, 5], [100, 2, NaN], [200, NaN, NaN]]), 2)).toEqual([2, 5]);
    expect(latestValues([], 2)).toEqual([null, null]);
  });

  it('formats with at most three significant figures', () => {
    expect([formatValue(1234.4), formatValue(12.34), formatValue(0.5), formatValue(0)]).toEqual(['1234', '12.3', '0.5', '0']);
  });
});

describe('series colours', () => {
  it('turns a custom property name into var() with the theme fallback, and leaves colours alone', () => {
    expect(cssColor('--primary')).toBe('var(--primary, #60a5fa)');
    expect(cssColor('--custom')).toBe('var(--custom)');
    expect(cssColor('#ff0000')).toBe('#ff0000');
  });
});
