import { useDashboard, selectRunState, selectVms } from './store';

/** The dashboard frame: where the VMs, the logging channel, the clients and the timeline go. */
export function Dashboard() {
  const vms = useDashboard(selectVms);
  const runState = useDashboard(selectRunState);
  return (
    <main className="dashboard" data-testid="dashboard" data-run-state={runState}>
      <section className="panel panel-vm" aria-label="Primary host">
        <h2>Primary</h2>
        {vms.length === 0 && <p className="empty">No VM running yet.</p>}
      </section>
      <section className="panel panel-channel" aria-label="Logging channel">
        <h2>Logging channel</h2>
        <p className="empty">Log entries →<br />← acks and heartbeats</p>
      </section>
      <section className="panel panel-vm" aria-label="Backup host">
        <h2>Backup</h2>
        {vms.length === 0 && <p className="empty">No VM running yet.</p>}
      </section>
      <section className="panel panel-clients" aria-label="Clients">
        <h2>Clients</h2>
        <p className="empty">No requests yet.</p>
      </section>
      <section className="panel panel-timeline" aria-label="Timeline">
        <h2>Timeline</h2>
        <p className="empty">Every message on every channel will appear here.</p>
      </section>
    </main>
  );
}
