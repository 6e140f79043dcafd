/** The shared disk server: the test-and-set flag (holder, epoch), recent block writes, re-issued requests. */
import { useDashboard, selectDisk, selectCuts } from '../store';
import { seconds } from '../format';

export function DiskPanel() {
  const disk = useDashboard(selectDisk);
  const cuts = useDashboard(selectCuts);
  return (
    <section className="panel panel-disk" aria-label="Shared disk">
      <h2>Shared disk</h2>
      <div className="tas" data-testid="tas-flag" data-holder={disk.holder ?? ''}>
        <span className={`flag ${disk.holder ? 'flag-set' : 'flag-clear'}`}>{disk.holder ? '⚑ set' : '⚐ clear'}</span>
        <span>test-and-set {disk.holder ? <>held by <strong>{disk.holder}</strong></> : 'flag clear'} · epoch {disk.epoch}</span>
      </div>
      {disk.last && (
        <p className="muted">
          {seconds(disk.last.tUs)}: {disk.last.vm} {disk.last.won === null ? disk.last.reason : disk.last.won ? 'won the flag' : `lost: ${disk.last.reason}`}
        </p>
      )}
      {cuts.vms.length > 0 && <p className="cut-note">cut: {cuts.vms.join(', ')}</p>}
      <h3>recent block writes</h3>
      <ul className="disk-writes">
        {disk.writes.slice().reverse().map((w) => <li key={`${w.tUs}-${w.icount}`}>{w.vm} @ icount {w.icount} <span className="muted">#{w.digest}</span></li>)}
        {disk.writes.length === 0 && <li className="empty">none yet</li>}
      </ul>
      {disk.reissued.length > 0 && (
        <>
          <h3>re-issued at go-live</h3>
          <ul>{disk.reissued.map((r) => <li key={r.tUs}>{r.vm}: {r.count} request(s) with no logged completion</li>)}</ul>
        </>
      )}
    </section>
  );
}
