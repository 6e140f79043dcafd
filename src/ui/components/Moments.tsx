/** The strip of what just happened (faults, suspicion, test-and-set, go-live) and the page's notices. */
import { useDashboard, selectDismiss, selectMoments, selectNotices } from '../store';
import { seconds } from '../format';

/** What the page refused or wants to say (an error names what was wrong). */
export function Notices() {
  const notices = useDashboard(selectNotices);
  const dismiss = useDashboard(selectDismiss);
  return (
    <>
      {notices.map((n) => (
        <div key={n.id} className={`notice notice-${n.tone}`} data-testid={n.tone === 'error' ? 'error' : 'notice'} role={n.tone === 'error' ? 'alert' : 'status'}>
          {n.text}
          <button className="small" onClick={() => dismiss(n.id)} aria-label="dismiss">×</button>
        </div>
      ))}
    </>
  );
}

export function Moments() {
  const moments = useDashboard(selectMoments);
  return (
    <div className="moments" aria-live="polite">
      <Notices />
      <ol className="moment-list">
        {moments.slice(-4).map((m, i) => <li key={`${m.tUs}-${i}`} className={`moment moment-${m.tone}`}><span className="moment-t">{seconds(m.tUs)}</span> {m.text}</li>)}
        {moments.length === 0 && <li className="muted">faults, suspicions, test-and-set and go-live appear here as they happen</li>}
      </ol>
    </div>
  );
}
