/**
 * A run's verdict, the same for the `sim` command and the fuzzer: finish the run (drain), then every
 * checker's findings — the streaming ones, liveness, and the linearizability of what the clients
 * saw (counter and kv workloads) — each naming its checker.
 */
import type { Cluster, ClusterSummary } from '../sim/cluster';
import { checkLinearizable } from '../sim/linearizability';

export interface Finding {
  checker: string;
  tUs: number;
  what: string;
}

/**
 * Histories longer than this are not checked for linearizability at the end of a run: building
 * them as objects would double a long run's peak memory. The fuzzer's and the tests' runs are far
 * shorter.
 */
export const LIN_OPS_MAX = 300_000;

export interface Verdict {
  summary: ClusterSummary & { drained: boolean };
  findings: Finding[];
  /** One line: the linearizability verdict, or why there is none. */
  linearizability: string;
}

export function verdict(cluster: Cluster): Verdict {
  const summary = cluster.finish();
  const findings = cluster.violations().map((v) => ({ checker: v.checker ?? 'checker', tUs: v.tUs, what: v.what }));
  const model = cluster.cfg.workload;
  let linearizability = 'not checked (no clients)';
  if (model && summary.clientOps > LIN_OPS_MAX) linearizability = `not checked (${summary.clientOps} operations; at most ${LIN_OPS_MAX})`;
  else if (model) {
    const history = cluster.world.history();
    const r = checkLinearizable(history, model);
    if (r.kind === 'ok') linearizability = `ok (${history.length} operations, ${model} model)`;
    else if (r.kind === 'unknown') linearizability = `unknown: ${r.reason}`;
    else {
      linearizability = `VIOLATION: ${r.explanation}`;
      findings.push({ checker: 'linearizability', tUs: Infinity, what: `${r.explanation} (${r.subHistory.length} operations show it)` });
    }
  }
  return { summary, findings, linearizability };
}
