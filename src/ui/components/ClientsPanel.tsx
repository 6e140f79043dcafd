/**
 * The clients: send one request, steady load on or off, the completed operations (newest first,
 * duplicates the clients dropped by seq marked) and the linearizability verdict of the whole
 * history. Test ids: `client-send`, `client-load`, `client-history`, `checker-verdict`.
 */
import { useState } from 'react';
import { session } from '../session';
import { useDashboard, selectDuplicates, selectCompleted, selectLoad, selectOps, selectSettings, selectVerdict } from '../store';
import { ms } from '../format';

const ROWS_SHOWN = 40;

export function ClientsPanel() {
  const load = useDashboard(selectLoad);
  const ops = useDashboard(selectOps);
  const verdict = useDashboard(selectVerdict);
  const settings = useDashboard(selectSettings);
  const completed = useDashboard(selectCompleted);
  const duplicates = useDashboard(selectDuplicates);
  const [client, setClient] = useState(1);
  const hasClients = settings.clients > 0 && (settings.guest === 'counter' || settings.guest === 'kv');
  const shown = ops.slice(-ROWS_SHOWN).reverse();
  return (
    <section className="panel panel-clients" aria-label="Clients">
      <h2>Clients <span className="h2-note">{hasClients ? `${settings.clients} clients, ${settings.guest}` : 'none for this guest'}</span></h2>
      <div className="client-controls">
        <label>
          client{' '}
          <select value={client} onChange={(e) => setClient(Number(e.target.value))} aria-label="which client sends">
            {Array.from({ length: Math.max(1, settings.clients) }, (_, i) => <option key={i + 1} value={i + 1}>{i + 1}</option>)}
          </select>
        </label>
        <button data-testid="client-send" disabled={!hasClients} onClick={() => void session.act({ kind: 'send', client })} title="this client sends one request now">send one request</button>
        <button data-testid="client-load" aria-pressed={load} className={load ? 'on' : ''} disabled={!hasClients} onClick={() => void session.setLoad(!load)} title={`steady load: each client sends again ${settings.thinkTimeMs} ms after its reply (think time in settings)`}>
          steady load: {load ? 'on' : 'off'}
        </button>
        <span className="muted">{completed} completed · {duplicates} duplicates dropped</span>
      </div>
      <div className={`verdict verdict-${verdict.kind}`} data-testid="checker-verdict" data-verdict={verdict.kind} title="Is there one order of the operations, each taking effect between its request and its reply, that gives every reply the clients saw?">
        {verdict.kind === 'violation' ? '✗ ' : verdict.kind === 'ok' ? '✓ ' : ''}{verdict.text}
      </div>
      <ol className="history" data-testid="client-history" aria-label="completed operations, newest first">
        {shown.map((o) => (
          <li key={`${o.client}-${o.seq}-${o.duplicate ? 'dup' : 'op'}-${o.tUs}`} className={o.duplicate ? 'dup' : ''} data-client={o.client} data-seq={o.seq} data-result={o.result} data-duplicate={o.duplicate ? 'true' : 'false'}>
            <span className="op-client">c{o.client} #{o.seq}</span>
            <span className="op-result">{o.duplicate ? 'duplicate dropped' : `→ ${o.result}`}</span>
            <span className="op-meta">{o.duplicate ? `re-sent by ${o.fromVm}` : `from ${o.fromVm} · ${ms(o.latencyUs)}`}</span>
          </li>
        ))}
        {shown.length === 0 && <li className="empty">no operations yet</li>}
      </ol>
    </section>
  );
}
