/**
 * Settings and the "break it" switches. Numbers are edited as a draft and take effect on a fresh
 * pair (apply); a switch starts a fresh pair at once, so "turn the Output Rule off, then kill the
 * primary" is two clicks. `elf-upload` loads the user's own RISC-V ELF into a fresh pair; a file
 * that is not one is refused with the loader's message and the current run goes on.
 */
import { useRef } from 'react';
import { session } from '../session';
import { useDashboard, selectEditDraft, selectDraft, selectGuestLabel, selectSettings } from '../store';
import { SWITCHES, type SwitchName, type UiGuest, type UiSettings } from '../settings';
import { GUEST_NAMES } from '../../sim/guests';

type NumberKey = { [K in keyof UiSettings]: UiSettings[K] extends number ? K : never }[keyof UiSettings];

const FIELDS: { key: NumberKey; label: string; unit: string; help: string }[] = [
  { key: 'seed', label: 'seed', unit: '', help: 'every random choice of the run comes from it: the same seed gives the same run' },
  { key: 'clients', label: 'clients', unit: '', help: 'clients sending requests to the service address' },
  { key: 'thinkTimeMs', label: 'client think time', unit: 'ms', help: 'under steady load, a client waits this long after a reply' },
  { key: 'heartbeatIntervalMs', label: 'heartbeat interval', unit: 'ms', help: 'each side sends a heartbeat this often on the logging channel' },
  { key: 'failureTimeoutMs', label: 'failure timeout', unit: 'ms', help: 'silence this long and the peer is suspected to have failed' },
  { key: 'logBufferKiB', label: 'log buffer', unit: 'KiB', help: 'log sent but not replayed: when full, the primary stops' },
  { key: 'lagCapMs', label: 'lag cap', unit: 'ms', help: 'the backup may lag at most this much, so failover stays bounded' },
  { key: 'channelDelayUs', label: 'channel delay', unit: 'µs', help: 'one-way delay of the logging channel' },
  { key: 'backupSpeedPct', label: 'backup speed', unit: '%', help: 'the backup host’s speed against the primary’s: a slow backup lags' },
];

export function SettingsPanel() {
  const draft = useDashboard(selectDraft);
  const running = useDashboard(selectSettings);
  const label = useDashboard(selectGuestLabel);
  const edit = useDashboard(selectEditDraft);
  const file = useRef<HTMLInputElement>(null);
  const dirty = JSON.stringify(draft) !== JSON.stringify(running);
  const flip = (name: SwitchName, on: boolean): void => {
    edit({ switches: { ...draft.switches, [name]: on } });
    void session.start({ ...useDashboard.getState().draft });
  };
  return (
    <section className="panel panel-settings" aria-label="Settings">
      <h2>Settings</h2>
      <div className="settings-grid">
        <label title="the program both VMs run">
          <span>guest</span>
          <select data-testid="guest" value={draft.guest} onChange={(e) => edit({ guest: e.target.value as UiGuest })}>
            {GUEST_NAMES.map((g) => <option key={g} value={g}>{g}</option>)}
            {draft.guest === 'custom' && <option value="custom">{label}</option>}
          </select>
        </label>
        {FIELDS.map((f) => (
          <label key={f.key} title={f.help}>
            <span>{f.label}{f.unit && <em> {f.unit}</em>}</span>
            <input type="number" data-testid={`setting-${f.key}`} value={draft[f.key]} onChange={(e) => edit({ [f.key]: Number(e.target.value) } as Partial<UiSettings>)} />
          </label>
        ))}
        <label className="script-field" title="faults and actions at virtual times from the start, e.g. kill primary at 1s; vmotion at 2s">
          <span>fault script</span>
          <input type="text" data-testid="setting-script" value={draft.script} placeholder="kill primary at 1s; vmotion at 2s" onChange={(e) => edit({ script: e.target.value })} />
        </label>
      </div>
      <div className="settings-actions">
        <button data-testid="settings-apply" className={dirty ? 'on' : ''} onClick={() => void session.start()} title="start a fresh pair with these settings">
          {dirty ? 'apply: start a fresh pair' : 'settings in force'}
        </button>
        <button data-testid="share" onClick={() => void session.share()} title="a link to this run: the same seed, settings and actions replay it exactly">share this run</button>
        <button data-testid="export-run" onClick={() => void session.exportRun()} title="save this run (seed, settings, every action at its virtual time) as a JSON file">export run</button>
        <label className="upload" title="a run file saved by export: the same run again, to the moment it was saved">
          <span>import a run</span>
          <input type="file" data-testid="import-run" accept=".json,application/json" onChange={(e) => {
            const f = e.target.files?.[0];
            const input = e.target;
            if (f) void session.importRun(f).finally(() => { input.value = ''; });
          }} />
        </label>
        <label className="upload" title="a statically linked RV32IMAC ELF, as riscv64-unknown-elf-gcc -march=rv32imac -mabi=ilp32 makes">
          <span>load your own ELF</span>
          <input
            ref={file}
            type="file"
            data-testid="elf-upload"
            accept=".elf,application/x-elf,application/octet-stream"
            onChange={(e) => {
              const f = e.target.files?.[0];
              if (f) void session.upload(f).finally(() => { if (file.current) file.current.value = ''; });
            }}
          />
        </label>
      </div>
      <h3>Break it</h3>
      <ul className="switches">
        {SWITCHES.map((sw) => (
          <li key={sw.name} className={draft.switches[sw.name] ? '' : 'broken'}>
            <label>
              <input type="checkbox" data-testid={`switch-${sw.name}`} checked={draft.switches[sw.name]} onChange={(e) => flip(sw.name, e.target.checked)} />
              <strong>{sw.label}</strong> {draft.switches[sw.name] ? 'on' : 'OFF'}
            </label>
            <span className="switch-warning">off: {sw.breaks}</span>
          </li>
        ))}
      </ul>
    </section>
  );
}
