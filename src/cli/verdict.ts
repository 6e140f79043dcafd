/**
 * A run's verdict, the same for the `sim` command and the fuzzer: finish the run (drain), then every
 * checker's findings — the streaming ones and liveness — each naming its checker.
 */
import type { Cluster, ClusterSummary } from '../sim/cluster';

export interface Finding {
  checker: string;
  tUs: number;
  what: string;
}

export function verdict(cluster: Cluster): { summary: ClusterSummary & { drained: boolean }; findings: Finding[] } {
  const summary = cluster.finish();
  const findings = cluster.violations().map((v) => ({ checker: v.checker ?? 'checker', tUs: v.tUs, what: v.what }));
  return { summary, findings };
}
