/**
 * Settings from the page's URL, so a run can be shared: `?guest=kv&seed=7&outputRule=0&load=0`,
 * and `script=kill primary at 1s; …` — with the same seed and settings, the run `npm run sim` makes.
 * A parameter that is not a setting, or a value out of range, is reported and the default kept.
 */
import { GUEST_NAMES } from '../sim/guests';
import { DEFAULT_SETTINGS, SWITCHES, validateSettings, type UiSettings } from './settings';

const NUMBERS: (keyof UiSettings)[] = ['seed', 'clients', 'heartbeatIntervalMs', 'failureTimeoutMs', 'logBufferKiB', 'lagCapMs', 'channelDelayUs', 'backupSpeedPct', 'thinkTimeMs'];

export function settingsFromUrl(search: string, base: UiSettings): { settings: UiSettings; load: boolean; error: string | null } {
  const q = new URLSearchParams(search);
  const s: UiSettings = { ...base, switches: { ...base.switches } };
  const errors: string[] = [];
  let load = true;
  for (const [k, v] of q) {
    if (k === 'guest') {
      if ((GUEST_NAMES as readonly string[]).includes(v)) s.guest = v as UiSettings['guest'];
      else errors.push(`guest ${JSON.stringify(v)}: expected one of ${GUEST_NAMES.join(', ')}`);
    } else if (k === 'script') {
      s.script = v;
    } else if (k === 'load') {
      load = v !== '0' && v !== 'off' && v !== 'false';
    } else if ((NUMBERS as string[]).includes(k)) {
      (s as unknown as Record<string, number>)[k] = Number(v);
    } else if (SWITCHES.some((w) => w.name === k)) {
      s.switches[k as keyof UiSettings['switches']] = v !== '0' && v !== 'off' && v !== 'false';
    } else if (k !== 'scenario' && k !== 'scenarios') {
      errors.push(`unknown parameter ${JSON.stringify(k)}`);
    }
  }
  try {
    validateSettings(s);
  } catch (err) {
    return { settings: base, load, error: `URL: ${(err as Error).message}; the defaults are used` };
  }
  return { settings: s, load, error: errors.length ? `URL: ${errors.join('; ')}` : null };
}

/** The URL of a run: every setting that differs from the defaults, and the script. */
export function runUrl(base: string, s: UiSettings, script: string, load: boolean): string {
  const q = new URLSearchParams();
  if (s.guest !== DEFAULT_SETTINGS.guest) q.set('guest', s.guest);
  for (const k of NUMBERS) if (s[k] !== DEFAULT_SETTINGS[k]) q.set(k, String(s[k]));
  for (const w of SWITCHES) if (!s.switches[w.name]) q.set(w.name, '0');
  if (!load) q.set('load', '0');
  if (script) q.set('script', script);
  const qs = q.toString();
  return qs ? `${base}?${qs}` : base;
}
