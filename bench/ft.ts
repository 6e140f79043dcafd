/**
 * `npm run bench:ft` — what FT costs.
 *  1. Throughput of the bench guest under the primary hypervisor vs the machine alone (same slice
 *     size; acks fed straight back, as from a backup that keeps up). Target ratio ≥ 0.98.
 *  2. Log bytes per client request (counter and kv guests, simulator).
 *  3. Simulated seconds per wall second for the counter guest under client load.
 * Prints one markdown table row per figure (for bench/results.md). `--record` appends them.
 */
import { appendFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { Machine } from '../src/machine/machine';
import { PrimaryHypervisor } from '../src/ft/primary';
import { Cluster } from '../src/sim/cluster';
import { guestClusterConfig } from '../src/sim/guests';
import { readGuestElf } from '../src/sim/guest-files';

const SLICE = 200_000;
const TRIAL_INSTRUCTIONS = 40_000_000;
const TRIALS = 6;

/** Runs the machine alone for TRIAL_INSTRUCTIONS in SLICE calls; returns ms. */
function timeAlone(m: Machine): number {
  m.setNondetSource({ read: () => 0 });
  const t0 = performance.now();
  while (m.icount < TRIAL_INSTRUCTIONS) m.run(Math.min(SLICE, TRIAL_INSTRUCTIONS - m.icount));
  return performance.now() - t0;
}

/** The same instructions under the primary hypervisor, acks fed straight back; returns ms. */
function timePrimary(m: Machine): number {
  const speedIps = 50e6;
  let seed = 1;
  const p = new PrimaryHypervisor(m, { nextU32: () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) }, { speedIps });
  let nowUs = 0;
  const t0 = performance.now();
  while (m.icount < TRIAL_INSTRUCTIONS) {
    const r = p.step(nowUs, Math.min(SLICE, TRIAL_INSTRUCTIONS - m.icount));
    nowUs += (r.retired * 1e6) / speedIps;
    if (r.effects.some((e) => e.kind === 'send-log')) {
      p.onAck({ type: 'ack', ackSeq: p.lastSentSeq, appliedSeq: p.lastSentSeq, backupIcount: m.icount }, nowUs);
    }
  }
  return performance.now() - t0;
}

/**
 * The same TRIAL_INSTRUCTIONS of the bench guest, from a fresh machine, alone and under the
 * primary, in alternating order (the host is shared; both see similar load), best of TRIALS each.
 * Both machines of a trial are built before either is timed: V8 runs the hart slower once more
 * than one Machine exists, and that must not count against either side.
 */
function throughputRatio(): { alone: number; ft: number; ratio: number } {
  const elf = readGuestElf('bench');
  let aloneMs = Infinity;
  let ftMs = Infinity;
  for (let i = 0; i < TRIALS + 1; i++) {
    const a = Machine.fromElf(elf);
    const f = Machine.fromElf(elf);
    const first = i % 2 === 0;
    const ta = first ? timeAlone(a) : 0;
    const tf = timePrimary(f);
    const ta2 = first ? ta : timeAlone(a);
    if (i === 0) continue; // warm-up
    aloneMs = Math.min(aloneMs, ta2);
    ftMs = Math.min(ftMs, tf);
  }
  const alone = (TRIAL_INSTRUCTIONS / aloneMs) * 1000;
  const ft = (TRIAL_INSTRUCTIONS / ftMs) * 1000;
  return { alone, ft, ratio: ft / alone };
}

function simRun(guest: 'counter' | 'kv', clients: number, durationUs: number): { bytesPerOp: number; ops: number; simPerWall: number } {
  const c = new Cluster(guestClusterConfig(guest, readGuestElf(guest), 7, clients));
  const t0 = performance.now();
  c.run(durationUs);
  const wallS = (performance.now() - t0) / 1000;
  const s = c.summary();
  return { bytesPerOp: s.logBytesSent / Math.max(1, s.clientOps), ops: s.clientOps, simPerWall: durationUs / 1e6 / wallS };
}

function main(): void {
  const date = new Date().toISOString().slice(0, 10);
  const machine = `${cpus()[0]?.model.trim() ?? 'unknown CPU'} ×${cpus().length}, Node ${process.version}`;
  const rows: string[] = [];
  const row = (what: string, figure: string, cmd = 'npm run bench:ft'): void => {
    rows.push(`| ${what} | ${figure} | \`${cmd}\` | ${date} | ${machine} |`);
  };
  const t = throughputRatio();
  row('bench guest under the FT primary vs machine alone (throughput ratio, best of 6 × 40M instructions; 200k-instruction slices, default FT settings)', `${t.ratio.toFixed(3)} (${(t.ft / 1e6).toFixed(1)} vs ${(t.alone / 1e6).toFixed(1)} M instr/s)`);
  for (const guest of ['counter', 'kv'] as const) {
    const r = simRun(guest, 3, 5_000_000);
    row(`log bytes per client request, ${guest} guest (3 clients, 5 s simulated)`, `${r.bytesPerOp.toFixed(0)} B/op over ${r.ops} ops`);
    if (guest === 'counter') row('simulated seconds per wall second, counter guest under load (3 clients, both VMs at 4M instr/s)', `${r.simPerWall.toFixed(1)}`);
  }
  const busy = simRun('counter', 16, 5_000_000);
  row('simulated seconds per wall second, counter guest, 16 clients', `${busy.simPerWall.toFixed(1)} (${busy.ops} ops)`);
  console.log(rows.join('\n'));
  if (process.argv.includes('--record')) appendFileSync(new URL('./results.md', import.meta.url), rows.join('\n') + '\n');
}

main();
