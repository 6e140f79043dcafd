/**
 * The `sim` command's options: parsing (node:util parseArgs) and the cluster they describe. Shared
 * with the fuzzer, so a printed reproduce command builds exactly the run that failed.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Cluster, CLUSTER_DEFAULTS, type ClusterConfig } from '../sim/cluster';
import { elfClusterConfig, GUEST_NAMES, guestClusterConfig, isGuestName, type GuestName } from '../sim/guests';
import { readGuestElf } from '../sim/guest-files';
import { parseScript, parseTimeUs, ScriptError, SCRIPT_ACTIONS_HELP } from '../sim/script';
import { FtSettingsError, LOG_BUFFER_BYTES_MIN, resolveFtSettings, type FtSettings } from '../ft/settings';
import { Machine } from '../machine/machine';
import type { WorkloadKind } from '../world/client';

/** The "break it" switches: each turns one mechanism off, and some checker must then fail. */
export const BREAK_SWITCHES: Record<string, Partial<FtSettings>> = {
  'output-rule': { outputRule: false },
  'test-and-set': { testAndSet: false },
  'timer-log': { logTimer: false },
  'bounce-buffer': { bounceBuffer: false },
  'nondet-log': { logNondet: false },
};

export const USAGE = `usage: npm run sim -- [options]
  --guest ${GUEST_NAMES.join('|')}   a shipped guest (default counter)
  --elf FILE                any RV32 ELF instead (no clients unless --workload counter|kv)
  --workload counter|kv     the client workload talking to --elf
  --seed N                  0 … 4294967295 (default 1)
  --clients N               0 … ${1000} (default 3)
  --duration T              virtual time, e.g. 5s, 250ms (default 5s, at most 1h)
  --script "ACTION at T; …" faults at virtual times, e.g. "kill primary at 1s; vmotion at 2s"
                            actions: ${SCRIPT_ACTIONS_HELP}
  --trace                   print the timeline as it runs
  --console                 print the console text the primary released
  --speed N                 primary instructions per second, e.g. 4M (default 4M)
  --backup-speed F          backup speed as a fraction of the primary's (default 1)
  --log-buffer-bytes N      flow control: log bytes not yet replayed (min ${LOG_BUFFER_BYTES_MIN})
  --lag-threshold-ms N      throttling starts above this backup lag
  --lag-cap-ms N            the primary stops when the backup lags this much
  --hash-interval N         instructions between hash entries
  --progress-interval N     instructions between progress entries when nothing else is logged
  --logging-delay-us N      one-way delay of the logging channel
  --log-loss P              probability a log batch is lost (primary → backup)
  --ack-loss P              probability an ack, resend request or heartbeat is lost (backup → primary)
  --log-reorder             the logging channel may reorder messages
  --output-rule on|off      the Output Rule ("off" breaks it, for lectures)
  --break SWITCH            break one mechanism: ${Object.keys(BREAK_SWITCHES).join(', ')}
  --heartbeat-ms N          heartbeat interval on the logging channel (default 50)
  --failure-timeout-ms N    silence that suspects the peer (default 300)
  --export-trace FILE       write the run's events before --duration as JSON lines: the format of
                            the browser runtime's trace export, to compare a lockstep run with
  --report-memory           end with the process's peak memory (not deterministic)
  --help                    this text`;

export class UsageError extends Error {}

export interface Options {
  guest: GuestName | null;
  elfPath: string | null;
  workload: WorkloadKind | null;
  seed: number;
  clients: number;
  durationUs: number;
  trace: boolean;
  console: boolean;
  speedIps: number;
  backupSpeedFraction: number;
  logging: { delayUs: number; logLoss: number; ackLoss: number; reorder: boolean };
  script: string;
  reportMemory: boolean;
  exportTrace: string | null;
  ft: Partial<FtSettings>;
}

const OPTIONS = {
  guest: { type: 'string' },
  elf: { type: 'string' },
  workload: { type: 'string' },
  seed: { type: 'string' },
  clients: { type: 'string' },
  duration: { type: 'string' },
  script: { type: 'string' },
  trace: { type: 'boolean' },
  console: { type: 'boolean' },
  speed: { type: 'string' },
  'backup-speed': { type: 'string' },
  'log-buffer-bytes': { type: 'string' },
  'lag-threshold-ms': { type: 'string' },
  'lag-cap-ms': { type: 'string' },
  'hash-interval': { type: 'string' },
  'progress-interval': { type: 'string' },
  'logging-delay-us': { type: 'string' },
  'log-loss': { type: 'string' },
  'ack-loss': { type: 'string' },
  'log-reorder': { type: 'boolean' },
  'output-rule': { type: 'string' },
  break: { type: 'string' },
  'heartbeat-ms': { type: 'string' },
  'failure-timeout-ms': { type: 'string' },
  'report-memory': { type: 'boolean' },
  'export-trace': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** "4M", "500k", "2000000" → number, within [min, max]. */
function count(flag: string, v: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const m = /^(\d+(?:\.\d+)?)([kKmM]?)$/.exec(v);
  if (!m) throw new UsageError(`--${flag} ${v}: expected a number (k and M suffixes allowed)`);
  const n = Number(m[1]) * (m[2] === '' ? 1 : m[2].toLowerCase() === 'k' ? 1e3 : 1e6);
  if (!(n >= min && n <= max)) throw new UsageError(`--${flag} ${v}: must be between ${min} and ${max}`);
  return n;
}

function integer(flag: string, v: string, min: number, max: number): number {
  if (!/^\d+$/.test(v)) throw new UsageError(`--${flag} ${v}: expected a whole number`);
  const n = Number(v);
  if (!(n >= min && n <= max)) throw new UsageError(`--${flag} ${v}: must be between ${min} and ${max}`);
  return n;
}

function probability(flag: string, v: string): number {
  const p = Number(v);
  if (v.trim() === '' || !(p >= 0 && p <= 1)) throw new UsageError(`--${flag} ${v}: expected a probability between 0 and 1`);
  return p;
}

export function parseOptions(argv: string[]): Options | 'help' {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args: argv, options: OPTIONS, allowPositionals: false, strict: true }).values;
  } catch (err) {
    throw new UsageError(`${(err as Error).message.split('\n')[0]} (try --help)`);
  }
  if (values.help) return 'help';
  const str = (k: string): string | undefined => values[k] as string | undefined;
  const o: Options = {
    guest: null, elfPath: null, workload: null, seed: 1, clients: 3, durationUs: 5e6, trace: values.trace === true,
    console: values.console === true, speedIps: CLUSTER_DEFAULTS.primarySpeedIps, backupSpeedFraction: 1,
    logging: { delayUs: CLUSTER_DEFAULTS.loggingLink.delayUs ?? 50, logLoss: 0, ackLoss: 0, reorder: values['log-reorder'] === true },
    script: str('script') ?? '', reportMemory: values['report-memory'] === true, exportTrace: str('export-trace') ?? null, ft: {},
  };
  const guest = str('guest');
  o.elfPath = str('elf') ?? null;
  if (guest !== undefined && o.elfPath !== null) throw new UsageError('--guest and --elf: give one of them');
  if (o.elfPath === null) {
    const g = guest ?? 'counter';
    if (!isGuestName(g)) throw new UsageError(`--guest ${g}: expected one of ${GUEST_NAMES.join(', ')}`);
    o.guest = g;
  }
  const wl = str('workload');
  if (wl !== undefined) {
    if (wl !== 'counter' && wl !== 'kv') throw new UsageError(`--workload ${wl}: expected counter or kv`);
    if (o.elfPath === null) throw new UsageError('--workload goes with --elf (a shipped guest has its own workload)');
    o.workload = wl;
  }
  const v = (k: string, f: (s: string) => void): void => {
    const s = str(k);
    if (s !== undefined) f(s);
  };
  v('seed', (s) => (o.seed = integer('seed', s, 0, 0xffff_ffff)));
  v('clients', (s) => (o.clients = integer('clients', s, 0, 1000)));
  v('duration', (s) => (o.durationUs = duration(s)));
  v('speed', (s) => (o.speedIps = count('speed', s, 1000, 1e10)));
  v('backup-speed', (s) => {
    const f = Number(s);
    if (!(f > 0 && f <= 10)) throw new UsageError(`--backup-speed ${s}: expected a fraction of the primary's speed in (0, 10]`);
    o.backupSpeedFraction = f;
  });
  v('log-buffer-bytes', (s) => (o.ft.logBufferBytesMax = count('log-buffer-bytes', s, LOG_BUFFER_BYTES_MIN)));
  v('lag-threshold-ms', (s) => (o.ft.lagThresholdUs = count('lag-threshold-ms', s, 0.001) * 1000));
  v('lag-cap-ms', (s) => (o.ft.lagCapUs = count('lag-cap-ms', s, 0.001) * 1000));
  v('hash-interval', (s) => (o.ft.hashIntervalInstructions = count('hash-interval', s, 1)));
  v('progress-interval', (s) => (o.ft.progressIntervalInstructions = count('progress-interval', s, 1)));
  v('logging-delay-us', (s) => (o.logging.delayUs = count('logging-delay-us', s, 0, 10e6)));
  v('log-loss', (s) => (o.logging.logLoss = probability('log-loss', s)));
  v('ack-loss', (s) => (o.logging.ackLoss = probability('ack-loss', s)));
  v('break', (s) => {
    const sw = BREAK_SWITCHES[s];
    if (!sw) throw new UsageError(`--break ${s}: expected one of ${Object.keys(BREAK_SWITCHES).join(', ')}`);
    Object.assign(o.ft, sw);
  });
  v('heartbeat-ms', (s) => (o.ft.heartbeatIntervalUs = count('heartbeat-ms', s, 0.1, 10_000) * 1000));
  v('failure-timeout-ms', (s) => (o.ft.failureTimeoutUs = count('failure-timeout-ms', s, 0.2, 60_000) * 1000));
  v('output-rule', (s) => {
    if (s !== 'on' && s !== 'off') throw new UsageError(`--output-rule ${s}: expected on or off`);
    o.ft.outputRule = s === 'on';
  });
  return o;
}

function duration(s: string): number {
  const withUnit = /^\d+(\.\d+)?$/.test(s) ? `${s}s` : s;
  let us: number;
  try {
    us = parseTimeUs(withUnit);
  } catch {
    throw new UsageError(`--duration ${s}: expected a number with s, ms or us (e.g. 5s)`);
  }
  if (us <= 0 || us > 3600e6) throw new UsageError(`--duration ${s}: must be more than 0 and at most 1 hour`);
  return us;
}

export function ms(us: number): string {
  return `${(us / 1000).toFixed(2)} ms`;
}

/** The cluster the options describe; throws UsageError for a bad ELF, script or setting. */
export function buildCluster(o: Options): Cluster {
  let base: Partial<ClusterConfig> & Pick<ClusterConfig, 'seed' | 'makeMachine'>;
  if (o.guest) {
    base = guestClusterConfig(o.guest, readGuestElf(o.guest), o.seed, o.clients);
  } else {
    const path = o.elfPath as string;
    let elf: Uint8Array;
    try {
      elf = new Uint8Array(readFileSync(path));
      Machine.fromElf(elf); // reject a malformed ELF here, with its own message
    } catch (err) {
      throw new UsageError(`--elf ${path}: ${(err as Error).message}`);
    }
    base = elfClusterConfig(elf, o.seed, o.workload, o.clients);
  }
  let script;
  try {
    script = parseScript(o.script);
  } catch (err) {
    if (err instanceof ScriptError) throw new UsageError(`--script: ${err.message}`);
    throw err;
  }
  const ft = { ...base.ft, ...o.ft };
  try {
    resolveFtSettings({ speedIps: o.speedIps, ...ft });
  } catch (err) {
    if (err instanceof FtSettingsError) throw new UsageError(err.message);
    throw err;
  }
  return new Cluster({
    ...base,
    primarySpeedIps: o.speedIps,
    backupSpeedIps: o.speedIps * o.backupSpeedFraction,
    loggingLink: {
      ...CLUSTER_DEFAULTS.loggingLink,
      delayUs: o.logging.delayUs,
      inOrder: !o.logging.reorder,
      lossRateFrom: { A: o.logging.logLoss, B: o.logging.ackLoss },
    },
    ft,
    keepTrace: false,
    script,
  });
}

