import { useMemo, useRef } from 'react';
import { useDashboard, selectRunState, selectCuts, type DashboardStore } from './store';
import { VmCard } from './components/VmCard';
import { ChannelView } from './components/ChannelView';
import { Controls } from './components/Controls';
import { ClientsPanel } from './components/ClientsPanel';
import { DiskPanel } from './components/DiskPanel';
import { SettingsPanel } from './components/SettingsPanel';
import { Timeline } from './components/Timeline';
import { Charts } from './components/Charts';
import { Moments } from './components/Moments';
import { ScenarioBar } from './components/ScenarioBar';

interface Slot { name: string; role: string; peer: string | null }

/** The cards' names, roles and peers as one string: it changes only when a card must change. */
const selectSlotKey = (s: DashboardStore): string => s.vms.map((v) => `${v.name} ${v.role} ${v.peer ?? '-'}`).join(',');
const parseSlots = (key: string): Slot[] => (key === '' ? [] : key.split(',').map((x) => {
  const [name, role, peer] = x.split(' ');
  return { name, role, peer: peer === '-' ? null : peer };
}));

/**
 * The logging channel a VM receives on, drawn before its card: a backup's from its primary (live
 * while both run); a VM whose pair is over keeps its old channel, drawn idle.
 */
function channelInto(v: Slot, all: Slot[]): { from: string; active: boolean } | null {
  const p = v.peer === null ? undefined : all.find((x) => x.name === v.peer);
  if (!p) return null;
  const receiver = v.role === 'backup' || (v.role !== 'primary' && p.role !== 'backup' && v.name > p.name);
  if (!receiver) return null;
  return { from: p.name, active: v.role === 'backup' && (p.role === 'primary' || p.role === 'live') };
}

/** The dashboard: the VM cards with their logging channels, controls, clients, disk, charts and timeline. */
export function Dashboard() {
  const slotKey = useDashboard(selectSlotKey);
  const slots = useMemo(() => parseSlots(slotKey), [slotKey]);
  const cuts = useDashboard(selectCuts);
  const runState = useDashboard(selectRunState);
  // The channel last drawn: after a partition ends the pair (one VM halts, the other serves alone)
  // it stays on screen, cut, until heal — the lecture's point is that nothing gets through it.
  const last = useRef<{ from: string; to: string } | null>(null);
  const channels = slots.map((v) => channelInto(v, slots));
  channels.forEach((ch, i) => {
    if (ch) last.current = { from: ch.from, to: slots[i].name };
  });
  slots.forEach((v, i) => {
    const l = last.current;
    if (!channels.some((c) => c !== null) && cuts.logging && l && l.to === v.name && slots.some((x) => x.name === l.from)) channels[i] = { from: l.from, active: false };
  });
  return (
    <main className="dashboard" data-testid="dashboard" data-run-state={runState}>
      <ScenarioBar />
      <Controls />
      <Moments />
      <div className="vm-row" style={{ ['--vms' as string]: String(Math.max(2, slots.length)) }}>
        {slots.length === 0 && <p className="empty">starting the pair…</p>}
        {slots.map((v, i) => {
          const ch = channels[i];
          return (
            <div className="vm-slot" key={v.name}>
              {ch && <ChannelView from={ch.from} to={v.name} cut={cuts.logging && !cuts.wholeTo.includes(v.name) && !cuts.wholeTo.includes(ch.from)} active={ch.active} />}
              <VmCard name={v.name} />
            </div>
          );
        })}
      </div>
      <Timeline />
      <div className="lower">
        <ClientsPanel />
        <DiskPanel />
        <SettingsPanel />
      </div>
      <Charts />
    </main>
  );
}
