/**
 * The space-time diagram (charts/spacetime.ts) owned by React: one lane per client group, VM and
 * the disk server; it follows the run and can be dragged back. Redraws when the session has new
 * events, at most once per frame.
 */
import { useEffect, useRef } from 'react';
import { createSpaceTime, type SpaceTime } from '../charts/spacetime';
import { session } from '../session';
import { useDashboard } from '../store';

export function Timeline() {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<SpaceTime | null>(null);
  useEffect(() => {
    if (!host.current) return;
    const st = createSpaceTime(host.current);
    view.current = st;
    let raf = 0;
    let seen = -1;
    const loop = (): void => {
      if (session.version !== seen) {
        seen = session.version;
        const s = useDashboard.getState();
        st.update({ events: session.events, nowUs: s.nowUs, vms: s.vms.map((v) => ({ name: v.name, role: v.role, peer: v.peer })) });
      }
      raf = requestAnimationFrame(loop);
    };
    raf = requestAnimationFrame(loop);
    return () => {
      cancelAnimationFrame(raf);
      st.destroy();
      view.current = null;
    };
  }, []);
  return (
    <section className="panel panel-timeline" aria-label="Timeline">
      <h2>
        Timeline <span className="h2-note">every message: drag to scrub back, wheel to zoom, double-click to follow</span>
        <button className="small" onClick={() => view.current?.follow()}>follow</button>
      </h2>
      <div ref={host} className="spacetime-host" data-testid="timeline" />
    </section>
  );
}
