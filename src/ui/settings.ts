/**
 * What the lecturer sets before a run: the guest, the seed, the FT settings the paper talks about
 * (heartbeat, failure timeout, log buffer, lag cap), the channel delay, the backup's speed, and the
 * "break it" switches. A change takes effect on a fresh pair (the reset button), so every run is
 * one seed and one set of settings from its start — the same run `npm run sim` replays.
 */
import type { FtSettings } from '../ft/settings';
import type { GuestName } from '../sim/guests';
import type { StartOptions } from '../runtime/protocol';
import { parseScript } from '../sim/script';

export type UiGuest = GuestName | 'custom';

export type SwitchName = 'outputRule' | 'testAndSet' | 'logTimer' | 'bounceBuffer' | 'logNondet';

export interface UiSettings {
  guest: UiGuest;
  seed: number;
  clients: number;
  heartbeatIntervalMs: number;
  failureTimeoutMs: number;
  logBufferKiB: number;
  lagCapMs: number;
  /** One-way delay of the logging channel. */
  channelDelayUs: number;
  /** The backup's speed as a share of the primary's (100: the same machine). */
  backupSpeedPct: number;
  /** Between a reply and a client's next request under steady load. */
  thinkTimeMs: number;
  switches: Record<SwitchName, boolean>;
  /** Faults and actions at virtual times from the start, as `npm run sim -- --script` takes them. */
  script: string;
}

export const DEFAULT_SETTINGS: UiSettings = {
  guest: 'counter',
  seed: 1,
  clients: 3,
  heartbeatIntervalMs: 50,
  failureTimeoutMs: 300,
  logBufferKiB: 256,
  lagCapMs: 500,
  channelDelayUs: 50,
  backupSpeedPct: 100,
  thinkTimeMs: 5,
  switches: { outputRule: true, testAndSet: true, logTimer: true, bounceBuffer: true, logNondet: true },
  script: '',
};

/** Each switch with what turning it off breaks, in a line a lecturer can read out. */
export const SWITCHES: { name: SwitchName; label: string; breaks: string }[] = [
  { name: 'outputRule', label: 'Output Rule', breaks: 'Replies leave before the backup has the log: a failover can lose an acknowledged increment.' },
  { name: 'testAndSet', label: 'Test-and-set', breaks: 'A partitioned pair both go live: two servers answer (split brain).' },
  { name: 'logTimer', label: 'Log timer interrupts', breaks: 'The backup takes interrupts at its own instructions: its state diverges.' },
  { name: 'bounceBuffer', label: 'Bounce buffer', breaks: 'DMA lands in the backup at arrival, not at the logged instruction: a race, then divergence.' },
  { name: 'logNondet', label: 'Log time and RNG reads', breaks: 'The backup reads its own clock and RNG: the hash check catches the divergence.' },
];

/** The pace ladder, virtual seconds per wall second; the last is as fast as the workers go. */
export const PACES: readonly number[] = [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10, Infinity];
export const DEFAULT_PACE_INDEX = PACES.indexOf(1);

export function describePace(pace: number): string {
  if (pace === Infinity) return 'max';
  return pace >= 1 ? `${pace}×` : `1/${Math.round(1 / pace)}×`;
}

/** The nominal speed of each host's model (instructions per second): the runtime's default. */
export const PRIMARY_SPEED_IPS = 4_000_000;

/** The runtime's start options for these settings, with the guest's ELF bytes. */
export function startOptions(s: UiSettings, elf: Uint8Array, load: boolean): StartOptions {
  const ft: Partial<FtSettings> = {
    heartbeatIntervalUs: s.heartbeatIntervalMs * 1000,
    failureTimeoutUs: s.failureTimeoutMs * 1000,
    logBufferBytesMax: s.logBufferKiB * 1024,
    lagCapUs: s.lagCapMs * 1000,
    ...s.switches,
  };
  return {
    guest: s.guest, elf, seed: s.seed, clients: s.clients, ft, load,
    workload: s.guest === 'custom' ? null : undefined,
    speedIps: PRIMARY_SPEED_IPS,
    backupSpeedIps: Math.max(1, Math.round((PRIMARY_SPEED_IPS * s.backupSpeedPct) / 100)),
    // The simulator's jitter (20 µs), so a run here is the run `npm run sim -- --logging-delay-us` makes.
    loggingLink: { delayUs: s.channelDelayUs, jitterUs: Math.min(20, s.channelDelayUs) },
    script: s.script,
    thinkTimeUs: s.thinkTimeMs * 1000,
    keepTrace: false,
  };
}

export class SettingsError extends Error {
  override name = 'SettingsError';
}

const RANGES: { key: keyof UiSettings; min: number; max: number; what: string }[] = [
  { key: 'seed', min: 0, max: 2 ** 32 - 1, what: 'seed' },
  { key: 'clients', min: 0, max: 16, what: 'clients' },
  { key: 'heartbeatIntervalMs', min: 1, max: 10_000, what: 'heartbeat interval (ms)' },
  { key: 'failureTimeoutMs', min: 2, max: 60_000, what: 'failure timeout (ms)' },
  { key: 'logBufferKiB', min: 1, max: 65_536, what: 'log buffer (KiB)' },
  { key: 'lagCapMs', min: 1, max: 60_000, what: 'lag cap (ms)' },
  { key: 'channelDelayUs', min: 1, max: 1_000_000, what: 'channel delay (µs)' },
  { key: 'backupSpeedPct', min: 5, max: 400, what: 'backup speed (%)' },
  { key: 'thinkTimeMs', min: 0, max: 10_000, what: 'client think time (ms)' },
];

/** Checks every number; throws SettingsError naming the first one out of range. */
export function validateSettings(s: UiSettings): UiSettings {
  for (const r of RANGES) {
    const v = s[r.key] as number;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < r.min || v > r.max) {
      throw new SettingsError(`${r.what} must be a number from ${r.min} to ${r.max}, got ${String(v)}`);
    }
  }
  try {
    parseScript(s.script);
  } catch (err) {
    throw new SettingsError(`script: ${(err as Error).message}`);
  }
  if (s.heartbeatIntervalMs >= s.failureTimeoutMs) throw new SettingsError('the heartbeat interval must be shorter than the failure timeout');
  return s;
}
