import { Dashboard } from './Dashboard';

export function App() {
  return (
    <div className="app">
      <header className="app-header">
        <h1>FT Visualizer</h1>
        <p className="app-lede">
          Two real RISC-V computers run the same program in lock step: the <strong>primary</strong> serves
          clients and logs every nondeterministic event — each timer interrupt, arriving packet, disk
          completion and clock read — with the exact instruction at which it happened; the{' '}
          <strong>backup</strong> replays that log and stays an instruction-exact copy. Outputs wait
          until the backup has the log (the Output Rule), heartbeats detect a failure, and a
          test-and-set on the shared disk decides who goes live. Kill a VM, cut the logging channel, and
          watch what the clients see.
        </p>
      </header>
      <Dashboard />
    </div>
  );
}
