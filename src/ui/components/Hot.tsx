/**
 * Hot numbers: text and gauges that change up to 60 times a second are written straight to the
 * DOM from a store subscription, so a running pair re-renders no React tree (STYLE.md 8).
 * `select` must be stable (a module constant, or memoised per VM).
 */
import { useEffect, useRef } from 'react';
import { useDashboard, type DashboardStore } from '../store';

export function HotText({ select, className, testId, title }: { select: (s: DashboardStore) => string; className?: string; testId?: string; title?: string }) {
  const ref = useRef<HTMLSpanElement>(null);
  useEffect(() => {
    const write = (s: DashboardStore): void => {
      const t = select(s);
      if (ref.current && ref.current.textContent !== t) ref.current.textContent = t;
    };
    write(useDashboard.getState());
    return useDashboard.subscribe(write);
  }, [select]);
  return <span ref={ref} className={className} data-testid={testId} title={title} />;
}

/** A horizontal gauge: `select` gives a fraction in [0, 1]. */
export function HotBar({ select, className }: { select: (s: DashboardStore) => number; className?: string }) {
  const ref = useRef<HTMLSpanElement>(null);
  useEffect(() => {
    const write = (s: DashboardStore): void => {
      const f = Math.max(0, Math.min(1, select(s)));
      if (ref.current) ref.current.style.width = `${(f * 100).toFixed(1)}%`;
    };
    write(useDashboard.getState());
    return useDashboard.subscribe(write);
  }, [select]);
  return (
    <span className={`gauge ${className ?? ''}`}>
      <span ref={ref} className="gauge-fill" />
    </span>
  );
}
