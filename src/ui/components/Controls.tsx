/**
 * The lecturer's controls: faults (kill, partition, cuts, heal), FT VMotion, the run (pause, step,
 * pace, free run, reset). Each button has its keyboard key in its title; test ids per
 * docs/design.md §7.2.
 */
import { useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { session } from '../session';
import { useDashboard, selectMode, selectTravellingTo, selectPaceIndex, selectRunState, type DashboardStore } from '../store';
import { describePace, PACES } from '../settings';
import { HotText } from './Hot';
import { seconds } from '../format';

/** A RAM byte no shipped guest uses: the flip changes nothing the guest computes, only the state the hash sees. */
const FLIP_ADDR = 0x80f0_0000;

const selectClock = (s: DashboardStore): string => `t = ${seconds(s.nowUs)}`;
/** The scrubber's end, in whole 10 ms steps: it re-renders 100 times a virtual second at most. */
const selectScrubNow = (s: DashboardStore): number => Math.floor(s.nowUs / 10_000) * 10_000;
const selectRoles = (s: DashboardStore) => ({
  hasPrimary: s.vms.some((v) => v.role === 'primary' || v.role === 'live'),
  hasBackup: s.vms.some((v) => v.role === 'backup'),
  hasLive: s.vms.some((v) => v.role === 'live'),
  names: s.vms.filter((v) => v.role !== 'crashed').map((v) => v.name).join(','),
});

export function Controls() {
  const runState = useDashboard(selectRunState);
  const mode = useDashboard(selectMode);
  const paceIndex = useDashboard(selectPaceIndex);
  const roles = useDashboard(useShallow(selectRoles));
  const running = runState === 'running';
  return (
    <div className="controls" role="toolbar" aria-label="Run and fault controls">
      <div className="control-group" aria-label="Run">
        <button data-testid="pause" className={running ? '' : 'on'} disabled={mode === 'free'} onClick={() => void session.togglePause()} title={mode === 'free' ? 'free run has no pause: each worker runs on its own clock (reset returns to lockstep)' : 'pause or play (space)'}>
          {running ? '❚❚ pause' : '▶ play'}
        </button>
        <button data-testid="step" onClick={() => void session.step()} disabled={mode === 'free'} title="one lockstep window (pauses first) (S)">step</button>
        <button data-testid="step-entry" onClick={() => void session.stepEntry()} disabled={mode === 'free'} title="run to the next log batch the primary sends, so the log can be followed entry by entry (pauses first) (E)">next entry</button>
        <button data-testid="pace-down" onClick={() => void session.setPaceIndex(paceIndex - 1)} disabled={paceIndex === 0} title="slower (−)">−</button>
        <span className="pace" data-testid="pace" title="virtual seconds per wall second">{describePace(PACES[paceIndex])}</span>
        <button data-testid="pace-up" onClick={() => void session.setPaceIndex(paceIndex + 1)} disabled={paceIndex === PACES.length - 1} title="faster (+)">+</button>
        <HotText className="clock" testId="clock" select={selectClock} />
        <Scrubber />
        <button data-testid="free-run" onClick={() => void session.freeRun()} disabled={mode === 'free'} title="every worker on its own real clock, at full speed, as real hosts run: not reproducible (reset returns to lockstep)">
          {mode === 'free' ? 'free run' : 'lockstep → free run'}
        </button>
      </div>
      <div className="control-group" aria-label="Faults">
        <button data-testid="kill-primary" className="danger" disabled={!roles.hasPrimary} onClick={() => void session.act({ kind: 'kill', vm: 'primary' })} title="kill the serving VM: its worker is terminated (K)">kill primary</button>
        <button data-testid="kill-backup" className="danger" disabled={!roles.hasBackup} onClick={() => void session.act({ kind: 'kill', vm: 'backup' })} title="kill the backup (B)">kill backup</button>
        <button data-testid="partition-logging" className="danger" onClick={() => void session.act({ kind: 'partition', what: 'logging' })} title="cut the logging channel both ways (P)">partition logging</button>
        <CutMenu names={roles.names} />
        <button data-testid="flip-bit" className="danger" disabled={!roles.hasPrimary} onClick={() => void session.act({ kind: 'flip', vm: 'primary', addr: FLIP_ADDR })} title="not fail-stop: one bit of the serving VM's RAM flips and it runs on; only the next hash check can tell">flip a bit</button>
        <button data-testid="heal" onClick={() => void session.act({ kind: 'heal' })} title="restore every cut link; a halted VM stays halted (H)">heal</button>
        <button data-testid="new-backup" disabled={!roles.hasLive} onClick={() => void session.act({ kind: 'vmotion' })} title="FT VMotion: the VM serving alone starts a new backup in a new worker (V)">new backup</button>
        <button data-testid="reset" onClick={() => void session.start()} title="tear everything down and start a fresh pair with the settings">reset</button>
      </div>
    </div>
  );
}

function CutMenu({ names }: { names: string }) {
  const vms = names ? names.split(',') : [];
  return (
    <select
      data-testid="cut"
      aria-label="cut a VM from the disk or the clients"
      value=""
      onChange={(e) => {
        const [vm, from] = e.target.value.split(' ');
        if (vm && (from === 'disk' || from === 'clients')) void session.act({ kind: 'cut', vm, from });
      }}
    >
      <option value="">cut a VM from…</option>
      {vms.flatMap((vm) => [
        <option key={`${vm} disk`} value={`${vm} disk`}>{vm} from the disk</option>,
        <option key={`${vm} clients`} value={`${vm} clients`}>{vm} from the clients</option>,
      ])}
    </select>
  );
}

/**
 * Time travel: drag back to any earlier moment of this run; on release the run goes back there (the
 * nearest checkpoint restored, and run on to it) and whatever happens next forks it.
 */
function Scrubber() {
  const nowUs = useDashboard(selectScrubNow);
  const mode = useDashboard(selectMode);
  const travellingTo = useDashboard(selectTravellingTo);
  const [dragUs, setDragUs] = useState<number | null>(null);
  const maxUs = Math.max(1, nowUs);
  const label = dragUs !== null ? `→ ${seconds(dragUs)}` : travellingTo !== null ? `⟲ back to ${seconds(travellingTo)}…` : '⟲';
  return (
    <label className="scrubber" data-travelling={travellingTo !== null} title="time travel: drag back to an earlier moment; the run goes back there and forks from it">
      <span className="muted">{label}</span>
      <input
        type="range"
        data-testid="scrubber"
        min={0}
        max={maxUs}
        step="any"
        disabled={mode === 'free'}
        value={dragUs ?? maxUs}
        onChange={(e) => setDragUs(Number(e.target.value))}
        onPointerUp={() => commit()}
        onKeyUp={() => commit()}
      />
    </label>
  );

  function commit(): void {
    if (dragUs === null) return;
    const to = dragUs;
    setDragUs(null);
    if (to < nowUs) void session.travelTo(to);
  }
}
