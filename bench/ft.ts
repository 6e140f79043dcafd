/**
 * `npm run bench:ft` — what FT costs.
 *  1. Throughput of the bench guest under the primary hypervisor vs the machine alone (same slice
 *     size; acks fed straight back, as from a backup that keeps up). Target ratio ≥ 0.98.
 *  2. Log bytes per client request (counter and kv guests, simulator).
 *  3. Simulated seconds per wall second for the counter guest under client load.
 *  4. The simulator's pace for each lecture guest from a fresh process (`--pace GUEST`, a child):
 *     its first 3 virtual seconds, while V8 warms up, and virtual seconds 3 to 10.
 * Prints one markdown table row per figure (for bench/results.md). `--record` appends them.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { cpus } from 'node:os';
import { Machine } from '../src/machine/machine';
import { PrimaryHypervisor } from '../src/ft/primary';
import { Cluster } from '../src/sim/cluster';
import { guestClusterConfig } from '../src/sim/guests';
import { readGuestElf } from '../src/sim/guest-files';

const SLICE = 200_000;
const TRIAL_INSTRUCTIONS = 40_000_000;
const TRIALS = 15;

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
    if (r.effects.some((e) => e.ev === 'log-sent')) {
      p.onLoggingMsg({ type: 'ack', ackSeq: p.lastSentSeq, appliedSeq: p.lastSentSeq, backupIcount: m.icount, replayIps: 0 }, nowUs);
    }
  }
  return performance.now() - t0;
}

/**
 * The same TRIAL_INSTRUCTIONS of the bench guest, from fresh machines, alone and under the
 * primary, in alternating order; the figure is the median over TRIALS of the paired ratio
 * (alone time / FT time within one trial), which cancels most of the shared host's load swings.
 * Both machines of a trial are built before either is timed: V8 runs the hart slower once more
 * than one Machine exists, and that must not count against either side.
 */
function throughputRatio(timeOther: (m: Machine) => number = timePrimary): { alone: number; ft: number; ratio: number } {
  const elf = readGuestElf('bench');
  const ratios: number[] = [];
  let aloneMs = 0;
  let ftMs = 0;
  for (let i = 0; i < TRIALS + 1; i++) {
    const a = Machine.fromElf(elf);
    const f = Machine.fromElf(elf);
    const first = i % 2 === 0;
    const ta = first ? timeAlone(a) : 0;
    const tf = timeOther(f);
    const ta2 = first ? ta : timeAlone(a);
    if (i === 0) continue; // warm-up
    ratios.push(ta2 / tf);
    aloneMs += ta2;
    ftMs += tf;
  }
  ratios.sort((x, y) => x - y);
  const alone = ((TRIAL_INSTRUCTIONS * TRIALS) / aloneMs) * 1000;
  const ft = ((TRIAL_INSTRUCTIONS * TRIALS) / ftMs) * 1000;
  return { alone, ft, ratio: ratios[ratios.length >> 1] };
}

/**
 * The hypervisor's own cost per slice, isolated from the guest: 100-instruction slices, each with
 * a progress entry, a batch encode and an ack (the worst case), minus a bare run(100) call. µs.
 */
function perSliceOverheadUs(): number {
  const elf = readGuestElf('bench');
  const a = Machine.fromElf(elf);
  a.setNondetSource({ read: () => 0 });
  const m = Machine.fromElf(elf);
  const p = new PrimaryHypervisor(m, { nextU32: () => 4 }, { speedIps: 2e8, progressIntervalInstructions: 1 });
  const calls = 200_000;
  let best = Infinity;
  for (let k = 0; k < 3; k++) {
    let t0 = performance.now();
    for (let i = 0; i < calls; i++) a.run(100);
    const aloneMs = performance.now() - t0;
    let nowUs = 0;
    t0 = performance.now();
    for (let i = 0; i < calls; i++) {
      p.step(nowUs, 100);
      nowUs += 0.5;
      p.onLoggingMsg({ type: 'ack', ackSeq: p.lastSentSeq, appliedSeq: p.lastSentSeq, backupIcount: m.icount, replayIps: 0 }, nowUs);
    }
    best = Math.min(best, ((performance.now() - t0 - aloneMs) / calls) * 1000);
  }
  return best;
}

function simRun(guest: 'counter' | 'kv', clients: number, durationUs: number): { bytesPerOp: number; ops: number; simPerWall: number } {
  const c = new Cluster(guestClusterConfig(guest, readGuestElf(guest), 7, clients));
  const t0 = performance.now();
  c.run(durationUs);
  const wallS = (performance.now() - t0) / 1000;
  const s = c.summary();
  return { bytesPerOp: s.logBytesSent / Math.max(1, s.clientOps), ops: s.clientOps, simPerWall: durationUs / 1e6 / wallS };
}

/** In a fresh process (this file with `--pace GUEST`): virtual s per wall s over 0–3 s and 3–10 s. */
function paceInChild(guest: 'counter' | 'kv' | 'ticker'): { cold: number; warm: number } {
  const r = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--pace', guest], { encoding: 'utf8' });
  const m = /pace (\S+) (\S+)/.exec(r.stdout);
  if (r.status !== 0 || !m) throw new Error(`pace child for ${guest} failed: ${r.stderr || r.stdout}`);
  return { cold: Number(m[1]), warm: Number(m[2]) };
}

function paceChild(guest: 'counter' | 'kv' | 'ticker'): void {
  const c = new Cluster(guestClusterConfig(guest, readGuestElf(guest), 5, guest === 'ticker' ? 0 : 3));
  const t0 = performance.now();
  c.run(3_000_000);
  const t1 = performance.now();
  c.run(10_000_000);
  const t2 = performance.now();
  console.log(`pace ${(3 / ((t1 - t0) / 1000)).toFixed(2)} ${(7 / ((t2 - t1) / 1000)).toFixed(2)}`);
}

function main(): void {
  const paceAt = process.argv.indexOf('--pace');
  if (paceAt >= 0) return paceChild(process.argv[paceAt + 1] as 'counter' | 'kv' | 'ticker');
  const date = new Date().toISOString().slice(0, 10);
  const machine = `${cpus()[0]?.model.trim() ?? 'unknown CPU'} ×${cpus().length}, Node ${process.version}`;
  const rows: string[] = [];
  const row = (what: string, figure: string, cmd = 'npm run bench:ft'): void => {
    rows.push(`| ${what} | ${figure} | \`${cmd}\` | ${date} | ${machine} |`);
  };
  const t = throughputRatio();
  row('bench guest under the FT primary vs machine alone (throughput ratio, median of 15 paired trials × 40M instructions; 200k-instruction slices, default FT settings)', `${t.ratio.toFixed(3)} (${(t.ft / 1e6).toFixed(1)} vs ${(t.alone / 1e6).toFixed(1)} M instr/s)`);
  const aa = throughputRatio(timeAlone);
  row('A/A control for the row above: machine alone vs machine alone, same method (the noise floor on this shared host)', `${aa.ratio.toFixed(3)}`);
  const o = perSliceOverheadUs();
  row('FT hypervisor cost per slice (step + progress entry + batch encode + ack, minus a bare run() call)', `${o.toFixed(2)} µs (${((o / 1000) * 100).toFixed(2)} % of a 1 ms slice)`);
  for (const guest of ['counter', 'kv'] as const) {
    const r = simRun(guest, 3, 5_000_000);
    row(`log bytes per client request, ${guest} guest (3 clients, 5 s simulated)`, `${r.bytesPerOp.toFixed(0)} B/op over ${r.ops} ops`);
    if (guest === 'counter') row('simulated seconds per wall second, counter guest under load (3 clients, both VMs at 4M instr/s)', `${r.simPerWall.toFixed(1)}`);
  }
  const busy = simRun('counter', 16, 5_000_000);
  row('simulated seconds per wall second, counter guest, 16 clients', `${busy.simPerWall.toFixed(1)} (${busy.ops} ops)`);
  for (const guest of ['counter', 'kv', 'ticker'] as const) {
    const p = paceInChild(guest);
    row(`simulator pace, ${guest} guest${guest === 'ticker' ? '' : ' (3 clients)'}, a fresh process: first 3 virtual s / virtual s 3 to 10 (virtual s per wall s, one thread)`, `${p.cold.toFixed(2)} / ${p.warm.toFixed(2)}`);
  }
  console.log(rows.join('\n'));
  if (process.argv.includes('--record')) appendFileSync(new URL('./results.md', import.meta.url), rows.join('\n') + '\n');
}

main();
