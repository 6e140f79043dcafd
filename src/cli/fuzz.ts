/**
 * `npm run fuzz -- --runs N [--seed-from S] [--guest counter|kv|any] [--break SWITCH] [--duration 2s]
 *   [--quiet] [--stop] [--until CHECKER]`
 *
 * Swarm fuzzing in the manner of TigerBeetle's VOPR: every run draws all its settings and a fault
 * script from its seed, runs in the simulator with every checker, and a failing run prints the seed,
 * what it drew, the checker that failed and `reproduce with: npm run sim -- …` — the same options
 * through the same parser, so that command fails the same way on its own. `--stop` ends the sweep at
 * the first failing run, `--until CHECKER` at the first run that CHECKER fails (a "break it" switch
 * trips its direct checker first; the client-visible anomaly, say `linearizability`, takes a fault at
 * the right moment). Exit 0 when every run holds, 1 when any fails, 2 on a usage error.
 */
import { parseArgs } from 'node:util';
import { Prng } from '../sim/prng';
import { BREAK_SWITCHES, buildCluster, parseOptions, UsageError, type Options } from './sim-options';
import { verdict } from './verdict';

const USAGE = `usage: npm run fuzz -- --runs N [--seed-from S] [--guest counter|kv|any] [--break ${Object.keys(BREAK_SWITCHES).join('|')}] [--duration 2s] [--quiet] [--stop] [--until CHECKER]`;

interface FuzzOptions {
  runs: number;
  seedFrom: number;
  guest: 'counter' | 'kv' | 'any';
  brk: string | null;
  duration: string;
  quiet: boolean;
  /** Stop at the first failing run. */
  stop: boolean;
  /** Stop at the first run this checker fails (e.g. `linearizability`, `hashes`, `one server`). */
  until: string | null;
}

function fuzzOptions(argv: string[]): FuzzOptions | 'help' {
  let v: Record<string, string | boolean | undefined>;
  try {
    v = parseArgs({ args: argv, allowPositionals: false, strict: true, options: {
      runs: { type: 'string' }, 'seed-from': { type: 'string' }, guest: { type: 'string' }, break: { type: 'string' },
      duration: { type: 'string' }, quiet: { type: 'boolean' }, stop: { type: 'boolean' }, until: { type: 'string' }, help: { type: 'boolean', short: 'h' },
    } }).values;
  } catch (err) {
    throw new UsageError(`${(err as Error).message.split('\n')[0]} (try --help)`);
  }
  if (v.help) return 'help';
  const int = (k: string, d: number, max: number): number => {
    const s = v[k] as string | undefined;
    if (s === undefined) return d;
    if (!/^\d+$/.test(s) || Number(s) > max) throw new UsageError(`--${k} ${s}: expected a whole number up to ${max}`);
    return Number(s);
  };
  const guest = (v.guest as string | undefined) ?? 'any';
  if (guest !== 'counter' && guest !== 'kv' && guest !== 'any') throw new UsageError(`--guest ${guest}: expected counter, kv or any`);
  const brk = (v.break as string | undefined) ?? null;
  if (brk !== null && !BREAK_SWITCHES[brk]) throw new UsageError(`--break ${brk}: expected one of ${Object.keys(BREAK_SWITCHES).join(', ')}`);
  return { runs: int('runs', 100, 1_000_000), seedFrom: int('seed-from', 1, 0xffff_ffff), guest, brk, duration: (v.duration as string | undefined) ?? '2s', quiet: v.quiet === true, stop: v.stop === true, until: (v.until as string | undefined) ?? null };
}

/** Everything one run draws from its seed, as `sim` flags. */
export function drawArgs(seed: number, guestChoice: FuzzOptions['guest'], brk: string | null, duration: string, durationUs: number): string[] {
  const r = new Prng(seed).fork('fuzz options');
  const pick = <T>(xs: readonly T[]): T => xs[r.int(xs.length)];
  const guest = guestChoice === 'any' ? pick(['counter', 'kv', 'ticker', 'bench'] as const) : guestChoice;
  const heartbeatMs = 20 + r.int(61);
  const thresholdMs = 20 + r.int(81);
  const args = [
    '--guest', guest, '--seed', String(seed), '--duration', duration,
    '--clients', String(1 + r.int(6)),
    '--backup-speed', String(pick([0.25, 0.5, 1, 1, 1, 2])),
    '--logging-delay-us', String(20 + r.int(1500)),
    '--log-buffer-bytes', String(pick([300, 2_000, 262_144])),
    '--lag-threshold-ms', String(thresholdMs),
    '--lag-cap-ms', String(thresholdMs * (5 + r.int(6))),
    '--hash-interval', String(5_000 + r.int(45_001)),
    '--heartbeat-ms', String(heartbeatMs),
    '--failure-timeout-ms', String(heartbeatMs * (4 + r.int(5))),
  ];
  if (r.nextFloat() < 0.3) args.push('--log-loss', (r.nextFloat() * 0.05).toFixed(3));
  if (r.nextFloat() < 0.3) args.push('--ack-loss', (r.nextFloat() * 0.05).toFixed(3));
  if (r.nextFloat() < 0.25) args.push('--log-reorder');
  const script = drawScript(r, durationUs);
  if (script) args.push('--script', script);
  if (brk) args.push('--break', brk);
  return args;
}

/** 0–3 faults: a failure or a partition of some kind, sometimes a heal, VMotion after a failure, a second failure. */
function drawScript(r: Prng, durationUs: number): string {
  const at = (lo: number, hi: number): string => `${((lo + r.nextFloat() * (hi - lo)) / 1e6).toFixed(3)}s`;
  const span = Math.max(400_000, durationUs - 500_000);
  const steps: string[] = [];
  const n = r.int(4);
  if (n === 0) return '';
  const first = ['kill primary', 'kill backup', 'partition logging', 'cut A disk', 'cut B disk', 'cut A clients', 'cut B clients'];
  steps.push(`${first[r.int(first.length)]} at ${at(100_000, span * 0.3)}`);
  if (n >= 2) steps.push(r.nextFloat() < 0.5 ? `heal at ${at(span * 0.3, span * 0.45)}` : `vmotion at ${at(span * 0.5, span * 0.6)}`);
  if (n >= 3) steps.push(`${['kill primary', 'kill backup'][r.int(2)]} at ${at(span * 0.65, span)}`);
  return steps.join('; ');
}

function quote(a: string): string {
  return /^[\w.:=/-]+$/.test(a) ? a : `"${a}"`;
}

function main(): number {
  let f: FuzzOptions | 'help';
  try {
    f = fuzzOptions(process.argv.slice(2));
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(err.message);
      return 2;
    }
    throw err;
  }
  if (f === 'help') {
    console.log(USAGE);
    return 0;
  }
  const durationUs = (parseOptions(['--duration', f.duration]) as Options).durationUs;
  const t0 = process.hrtime.bigint();
  let failed = 0;
  let ran = 0;
  let found = false;
  for (let i = 0; i < f.runs && !(f.stop && failed > 0) && !found; i++) {
    ran++;
    const seed = (f.seedFrom + i) >>> 0;
    const args = drawArgs(seed, f.guest, f.brk, f.duration, durationUs);
    const o = parseOptions(args) as Options;
    const cluster = buildCluster(o);
    cluster.run(o.durationUs);
    const v = verdict(cluster).findings;
    if (v.length === 0) continue;
    failed++;
    const checkers = [...new Set(v.map((x) => x.checker))];
    found = f.until !== null && checkers.includes(f.until);
    if (!f.quiet || failed <= 3 || found) {
      console.log(`FAIL seed ${seed}: ${v[0].checker}: ${v[0].what}${v.length > 1 ? ` (+${v.length - 1} more)` : ''}`);
      console.log(`  checkers failed: ${checkers.join(', ')}`);
      console.log(`  drew: ${args.map(quote).join(' ')}`);
      console.log(`  reproduce with: npm run sim -- ${args.map(quote).join(' ')}`);
    }
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (f.until !== null) console.log(found ? `until: seed ${f.seedFrom + ran - 1} is the first run that fails ${f.until}` : `until: no run failed ${f.until}`);
  console.log(`${ran} runs (seeds ${f.seedFrom}…${f.seedFrom + ran - 1}${f.brk ? `, --break ${f.brk}` : ''}), ${failed} failed, ${(ran / seconds).toFixed(1)} runs/s`);
  return failed === 0 ? 0 : 1;
}

if (process.argv[1] && /fuzz\.ts$/.test(process.argv[1])) process.exitCode = main();
