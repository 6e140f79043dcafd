/**
 * `npm run sim -- --guest counter --seed 7 --clients 3 --duration 5s [--trace] [--script "…"]`
 *
 * Runs a primary/backup pair in the deterministic simulator, checks every invariant while it runs,
 * and prints a summary (with --trace, the timeline as it goes; with --console, the console text the
 * primary released). Same flags → same output, byte for byte. Exit 0 when every checker (liveness
 * included) holds, 1 when one fails (naming it), 2 on a usage error or an unreadable ELF.
 */
import { writeFileSync } from 'node:fs';
import { formatEvent, type TraceEvent } from '../sim/trace';
import type { Cluster, ClusterSummary } from '../sim/cluster';
import { describeFailover } from '../sim/report';
import { buildCluster, ms, parseOptions, UsageError, USAGE, type Options } from './sim-options';
import { verdict } from './verdict';

function summaryLines(o: Options, s: ClusterSummary & { drained: boolean }, clients: number, violations: string[]): string[] {
  const name = o.guest ?? o.elfPath;
  return [
    `guest ${name}, seed ${s.seed}, ${clients} clients, ${(o.durationUs / 1e6).toFixed(3)} s virtual (drained to ${(s.virtualUs / 1e6).toFixed(3)} s)`,
    `speeds: primary ${o.speedIps} ips, backup ${o.speedIps * o.backupSpeedFraction} ips`,
    `instructions: primary ${s.icounts.primary}, backup ${s.icounts.backup}` + (s.vms.length > 2 || s.failovers.length > 0 ? ` (${s.vms.map((v) => `${v.name} ${v.icount}`).join(', ')})` : ''),
    `log: ${s.entriesSent} entries, ${s.logBytesSent} bytes sent, ${s.resends} batches resent, ${s.messagesLost} messages lost on links`,
    `client ops completed: ${s.clientOps}` + (s.clientOps > 0 ? ` (${(s.logBytesSent / s.clientOps).toFixed(0)} log bytes per op)` : ''),
    `output stalls: ${s.outputStalls.count}, median hold ${ms(s.outputStalls.medianUs)}, max ${ms(s.outputStalls.maxUs)}`,
    `primary stopped (log full or lag cap): ${s.blockedStalls.count} times, median ${ms(s.blockedStalls.medianUs)}, max ${ms(s.blockedStalls.maxUs)}`,
    `max lag: ${ms(s.maxLagUs)} (as the primary measured it: ${ms(s.maxLagMeasuredUs)})`,
    `failover catch-up: up to ${ms(s.maxCatchUpUs)} of replay (received log not yet replayed)`,
    `primary CPU share: mean ${(s.cpuShareMean * 100).toFixed(1)}%, min ${(s.cpuShareMin * 100).toFixed(0)}%, final ${(s.cpuShareFinal * 100).toFixed(0)}%`,
    `outputs: ${s.released} released by the primary, ${s.suppressed} suppressed by the backup`,
    `sync: ${s.sync} (${s.hashesChecked} hashes checked)` + (s.divergence ? ` — ${s.divergence}` : ''),
    `roles: ${s.vms.map((v) => `${v.name} ${v.role}`).join(', ')}`,
    `failovers: ${s.failovers.length}` + s.failovers.map((f) => `\n  ${describeFailover(f)}`).join(''),
    `test-and-set: ${s.tasCalls} call${s.tasCalls === 1 ? '' : 's'}` + (s.tasWinners.length ? `, won by ${s.tasWinners.join(', ')}` : ''),
    `disk requests re-issued: ${s.reissued}; duplicate replies dropped by clients: ${s.duplicatesDropped}`,
    `checkers: ${violations.length === 0 ? 'all hold' : `${violations.length} violation(s)`}`,
    ...violations.slice(0, 10).map((v) => `  ${v}`),
  ];
}

function main(): number {
  let o: Options | 'help';
  let cluster: Cluster;
  try {
    o = parseOptions(process.argv.slice(2));
    if (o === 'help') {
      console.log(USAGE);
      return 0;
    }
    cluster = buildCluster(o);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(err.message);
      return 2;
    }
    throw err;
  }
  const out: string[] = [];
  const flush = (): void => {
    if (out.length > 0) process.stdout.write(out.join(''));
    out.length = 0;
  };
  const opts = o;
  const exported: string[] = [];
  cluster.listeners.push((e: TraceEvent) => {
    if (opts.exportTrace && e.tUs < opts.durationUs) exported.push(JSON.stringify(e));
    if (opts.trace && e.ev !== 'summary') out.push(formatEvent(e) + '\n');
    else if (opts.console && e.ev === 'output-released' && e.vm === 'A' && e.out === 'console') out.push(e.digest);
    if (out.length >= 4096) flush();
  });
  cluster.run(o.durationUs);
  // The run's events before --duration, as `serializeTrace` writes them (the drain after is not in it).
  if (o.exportTrace) writeFileSync(o.exportTrace, exported.join('\n'));
  const { summary, findings, linearizability } = verdict(cluster);
  flush();
  const violations = findings.map((v) => `${Number.isFinite(v.tUs) ? ms(v.tUs) : 'end'}: ${v.checker}: ${v.what}`);
  const clients = cluster.cfg.workload ? cluster.cfg.clients : 0;
  const lines = summaryLines(o, summary, clients, violations);
  lines.splice(lines.findIndex((l) => l.startsWith('checkers:')), 0, `linearizability: ${linearizability}`);
  console.log(lines.join('\n'));
  if (o.reportMemory) console.log(`peak memory: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
  return violations.length === 0 ? 0 : 1;
}

process.exitCode = main();
