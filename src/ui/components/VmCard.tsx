/**
 * One VM host's card: role badge, instruction counter, the current instruction, the log queue,
 * lag, output-rule stalls, CPU share, the sync badge and its console. Test ids per docs/design.md
 * §7.2: `vm-card` with `data-vm` and `data-role`; inside, `icount`, `log-queue`, `lag`, `stalls`,
 * `sync`. Only the role and sync re-render the card; the numbers are hot text.
 */
import { memo, useMemo } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { useDashboard, selectConsoles, type DashboardStore, type VmView } from '../store';
import { bytes, hex, ms, pct } from '../format';
import { HotBar, HotText } from './Hot';
import { session } from '../session';

const ROLE_TEXT: Record<VmView['role'], string> = { primary: 'primary', backup: 'backup', live: 'live (alone)', halted: 'halted', crashed: 'crashed' };

const SYNC_HELP: Record<VmView['sync'], string> = {
  'in-sync': 'every state hash the primary logged matched the backup’s at the same instruction',
  diverged: 'a state hash differed: the backup is no longer a copy',
  syncing: 'a new backup: waiting for its snapshot or its first hash check',
  alone: 'no backup: one more failure and the service is gone',
  stopped: 'this host runs no more',
};

/** The card's hot selectors, made once per VM name. */
function selectorsFor(name: string) {
  const vm = (s: DashboardStore): VmView | undefined => s.vms.find((v) => v.name === name);
  const logBytesMax = (s: DashboardStore): number => s.settings.logBufferKiB * 1024;
  return {
    icount: (s: DashboardStore) => String(vm(s)?.icount ?? 0),
    pc: (s: DashboardStore) => hex(vm(s)?.pc ?? 0),
    insn: (s: DashboardStore) => vm(s)?.insn || '—',
    state: (s: DashboardStore) => {
      const v = vm(s);
      return v ? (v.paused ? 'paused' : v.state) : '';
    },
    queue: (s: DashboardStore) => {
      const v = vm(s);
      if (!v) return '';
      return v.role === 'primary' ? `${v.logQueueEntries} unacked · ${bytes(v.logQueueBytes)}` : `${v.logQueueEntries} to replay`;
    },
    queueFill: (s: DashboardStore) => {
      const v = vm(s);
      if (!v) return 0;
      return v.role === 'primary' ? v.logQueueBytes / logBytesMax(s) : Math.min(1, v.logQueueEntries / 64);
    },
    lag: (s: DashboardStore) => {
      const v = vm(s);
      return v ? `${v.lagInstructions} instr · ${ms(v.lagUs)}` : '';
    },
    stalls: (s: DashboardStore) => {
      const v = vm(s);
      if (!v) return '';
      if (v.role === 'backup') return `${v.suppressed} outputs suppressed`;
      return `${v.heldCount} held · ${v.stallCount} total · longest ${ms(v.stallMaxUs)}`;
    },
    share: (s: DashboardStore) => pct(vm(s)?.cpuShare ?? 1),
    syncDetail: (s: DashboardStore) => {
      const v = vm(s);
      if (!v) return '';
      const b = v.role === 'backup' ? v : s.vms.find((x) => x.name === v.peer && x.role === 'backup');
      if (b?.divergence) return `at icount ${b.divergence.icount}: ${b.divergence.reason}`;
      return b ? `${b.hashesChecked} hash checks` : '';
    },
  };
}

function Console({ name, role }: { name: string; role: VmView['role'] }) {
  const c = useDashboard(selectConsoles)[name];
  const released = c?.released ?? '';
  const suppressed = c?.suppressed ?? '';
  // A backup's text is suppressed; a VM that went live shows what it suppressed, then what it released.
  return (
    <div className="console" aria-label={`${name}'s console`}>
      <pre title={role === 'backup' ? 'output the backup produced and discarded' : 'console text released by the Output Rule'}>
        <span className="console-text">
          {suppressed && <span className="console-suppressed">{suppressed}</span>}
          {role !== 'backup' && released}
          {!suppressed && !released && ' '}
        </span>
      </pre>
    </div>
  );
}

export const VmCard = memo(function VmCard({ name }: { name: string }) {
  const { role, sync, peer } = useDashboard(useShallow((s: DashboardStore) => {
    const v = s.vms.find((x) => x.name === name);
    return { role: v?.role ?? 'crashed', sync: v?.sync ?? 'stopped', peer: v?.peer ?? null };
  }));
  const sel = useMemo(() => selectorsFor(name), [name]);
  const serving = role === 'primary' || role === 'live';
  return (
    <article className={`vm-card role-${role}`} data-testid="vm-card" data-vm={name} data-role={role} aria-label={`VM ${name}, ${role}`}>
      <header className="vm-head">
        <span className="vm-name">{name}</span>
        <span className={`role-badge role-${role}`}>{ROLE_TEXT[role]}</span>
        <HotText className="vm-state" select={sel.state} />
        {role !== 'crashed' && (
          <button className="vm-kill" title={`kill ${name} (fail-stop: its worker is terminated)`} onClick={() => void session.act({ kind: 'kill', vm: name })}>kill</button>
        )}
      </header>
      <div className="vm-icount">
        <span className="label">instructions</span>
        <HotText className="big-number" testId="icount" select={sel.icount} />
      </div>
      <div className="vm-insn"><HotText className="pc" select={sel.pc} /> <HotText className="insn" select={sel.insn} /></div>
      <dl className="vm-figures">
        <dt title={serving ? 'log entries sent and not yet acknowledged' : 'log entries received and not yet replayed'}>log queue</dt>
        <dd data-testid="log-queue"><HotBar select={sel.queueFill} /><HotText select={sel.queue} /></dd>
        <dt title="how far the backup is behind its primary">lag</dt>
        <dd data-testid="lag"><HotText select={sel.lag} /></dd>
        <dt title="outputs the Output Rule holds until the backup has every log entry up to them">{role === 'backup' ? 'output' : 'output stalls'}</dt>
        <dd data-testid="stalls"><HotText select={sel.stalls} /></dd>
        <dt title="throttling cuts the primary's CPU share when the backup lags">CPU share</dt>
        <dd><HotText select={sel.share} /></dd>
        <dt>sync</dt>
        <dd>
          <span className={`sync-badge sync-${sync}`} data-testid="sync" data-sync={sync} title={SYNC_HELP[sync]}>{sync}</span>{' '}
          <HotText className="sync-detail" select={sel.syncDetail} />
        </dd>
      </dl>
      {peer && <div className="vm-peer">{role === 'backup' ? `replays ${peer}'s log` : role === 'primary' ? `logs to ${peer}` : ''}</div>}
      <Console name={name} role={role} />
    </article>
  );
});
