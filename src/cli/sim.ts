/**
 * `npm run sim -- --guest counter --seed 7 --clients 3 --duration 5s [--trace]`
 *
 * Runs a primary/backup pair in the deterministic simulator and prints a summary (and with
 * --trace, the timeline). Same flags → same output, byte for byte. Bad flags: one line, exit 2.
 */
import { Cluster, CLUSTER_DEFAULTS, type ClusterSummary } from '../sim/cluster';
import { GUEST_NAMES, guestClusterConfig, guestWorkload, isGuestName, type GuestName } from '../sim/guests';
import { readGuestElf } from '../sim/guest-files';
import { checkAll } from '../sim/checkers';
import { formatEvent } from '../sim/trace';
import type { FtSettings } from '../ft/settings';

const USAGE = `usage: npm run sim -- --guest ${GUEST_NAMES.join('|')} [--seed N] [--clients N] [--duration 5s]
  [--trace] [--speed 4M] [--backup-speed 0.5] [--log-buffer-bytes N] [--lag-threshold-ms N]
  [--hash-interval N] [--progress-interval N] [--logging-delay-us N] [--output-rule on|off]`;

class UsageError extends Error {}

interface Options {
  guest: GuestName;
  seed: number;
  clients: number;
  durationUs: number;
  trace: boolean;
  speedIps: number;
  backupSpeedFraction: number;
  loggingDelayUs: number;
  ft: Partial<FtSettings>;
}

/** "5s", "250ms", "1500us", "2" (seconds) → µs. */
function parseDurationUs(v: string): number {
  const m = /^(\d+(?:\.\d+)?)(s|ms|us)?$/.exec(v);
  if (!m) throw new UsageError(`--duration ${v}: expected a number with s, ms or us (e.g. 5s)`);
  const n = Number(m[1]) * ({ s: 1e6, ms: 1e3, us: 1 } as const)[(m[2] ?? 's') as 's' | 'ms' | 'us'];
  if (n <= 0 || n > 3600e6) throw new UsageError(`--duration ${v}: must be between 0 and 1 hour`);
  return Math.round(n);
}

/** "4M", "500k", "2000000" → number. */
function parseCount(flag: string, v: string, min: number): number {
  const m = /^(\d+(?:\.\d+)?)([kKmM]?)$/.exec(v);
  if (!m) throw new UsageError(`${flag} ${v}: expected a number (k and M suffixes allowed)`);
  const n = Number(m[1]) * (m[2] === '' ? 1 : m[2].toLowerCase() === 'k' ? 1e3 : 1e6);
  if (!(n >= min)) throw new UsageError(`${flag} ${v}: must be at least ${min}`);
  return n;
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    guest: 'counter',
    seed: 1,
    clients: 3,
    durationUs: 5e6,
    trace: false,
    speedIps: CLUSTER_DEFAULTS.primarySpeedIps,
    backupSpeedFraction: 1,
    loggingDelayUs: CLUSTER_DEFAULTS.loggingLink.delayUs ?? 50,
    ft: {},
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === '--trace') {
      o.trace = true;
      continue;
    }
    if (flag === '--help' || flag === '-h') throw new UsageError(USAGE);
    const v = argv[++i];
    if (v === undefined) throw new UsageError(`${flag}: missing value`);
    switch (flag) {
      case '--guest':
        if (!isGuestName(v)) throw new UsageError(`--guest ${v}: expected one of ${GUEST_NAMES.join(', ')}`);
        o.guest = v;
        break;
      case '--seed':
        o.seed = parseCount(flag, v, 0) >>> 0;
        break;
      case '--clients':
        o.clients = Math.floor(parseCount(flag, v, 0));
        break;
      case '--duration':
        o.durationUs = parseDurationUs(v);
        break;
      case '--speed':
        o.speedIps = parseCount(flag, v, 1000);
        break;
      case '--backup-speed': {
        const f = Number(v);
        if (!(f > 0 && f <= 10)) throw new UsageError(`--backup-speed ${v}: expected a fraction of the primary's speed in (0, 10]`);
        o.backupSpeedFraction = f;
        break;
      }
      case '--log-buffer-bytes':
        o.ft.logBufferBytesMax = parseCount(flag, v, 64);
        break;
      case '--lag-threshold-ms':
        o.ft.lagThresholdUs = parseCount(flag, v, 0.001) * 1000;
        break;
      case '--hash-interval':
        o.ft.hashIntervalInstructions = parseCount(flag, v, 1);
        break;
      case '--progress-interval':
        o.ft.progressIntervalInstructions = parseCount(flag, v, 1);
        break;
      case '--logging-delay-us':
        o.loggingDelayUs = parseCount(flag, v, 0);
        break;
      case '--output-rule':
        if (v !== 'on' && v !== 'off') throw new UsageError(`--output-rule ${v}: expected on or off`);
        o.ft.outputRuleEnabled = v === 'on';
        break;
      default:
        throw new UsageError(`unknown flag ${flag} (try --help)`);
    }
  }
  return o;
}

function ms(us: number): string {
  return `${(us / 1000).toFixed(2)} ms`;
}

function printSummary(o: Options, s: ClusterSummary, violations: string[]): void {
  const clients = guestWorkload(o.guest) ? o.clients : 0;
  const lines = [
    `guest ${o.guest}, seed ${s.seed}, ${clients} clients, ${(o.durationUs / 1e6).toFixed(3)} s virtual (drained to ${(s.virtualUs / 1e6).toFixed(3)} s)`,
    `speeds: primary ${o.speedIps} ips, backup ${o.speedIps * o.backupSpeedFraction} ips`,
    `instructions: primary ${s.icounts.primary}, backup ${s.icounts.backup}`,
    `log: ${s.entriesSent} entries, ${s.logBytesSent} bytes sent`,
    `client ops completed: ${s.clientOps}` + (s.clientOps > 0 ? ` (${(s.logBytesSent / s.clientOps).toFixed(0)} log bytes per op)` : ''),
    `output stalls: ${s.outputStalls.count}, median hold ${ms(s.outputStalls.medianUs)}, max ${ms(s.outputStalls.maxUs)}`,
    `log-full stalls: ${s.logFullStalls.count}, median ${ms(s.logFullStalls.medianUs)}, max ${ms(s.logFullStalls.maxUs)}`,
    `max lag: ${ms(s.maxLagUs)} (as the primary measured it: ${ms(s.maxLagMeasuredUs)})`,
    `primary CPU share: mean ${(s.cpuShareMean * 100).toFixed(1)}%, min ${(s.cpuShareMin * 100).toFixed(0)}%, final ${(s.cpuShareFinal * 100).toFixed(0)}%`,
    `outputs: ${s.released} released by the primary, ${s.suppressed} suppressed by the backup`,
    `sync: ${s.sync} (${s.hashesChecked} hashes checked)` + (s.divergence ? ` — ${s.divergence}` : ''),
    `checkers: ${violations.length === 0 ? 'all hold' : `${violations.length} violation(s)`}`,
    ...violations.slice(0, 10).map((v) => `  ${v}`),
  ];
  console.log(lines.join('\n'));
}

function main(): number {
  let o: Options;
  try {
    o = parseArgs(process.argv.slice(2));
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(err.message);
      return 2;
    }
    throw err;
  }
  const base = guestClusterConfig(o.guest, readGuestElf(o.guest), o.seed, o.clients);
  const cluster = new Cluster({
    ...base,
    primarySpeedIps: o.speedIps,
    backupSpeedIps: o.speedIps * o.backupSpeedFraction,
    loggingLink: { ...CLUSTER_DEFAULTS.loggingLink, delayUs: o.loggingDelayUs },
    ft: { ...base.ft, ...o.ft },
  });
  cluster.run(o.durationUs);
  const summary = cluster.finish();
  if (o.trace) for (const e of cluster.trace) if (e.ev !== 'summary') console.log(formatEvent(e));
  const violations = checkAll(cluster.trace).map((v) => `${Number.isFinite(v.tUs) ? ms(v.tUs) : 'end'}: ${v.what}`);
  if (!summary.drained) violations.push('the run did not drain (outputs still held or the backup still busy after 5 s more)');
  printSummary(o, summary, violations);
  return violations.length === 0 ? 0 : 1;
}

process.exitCode = main();
