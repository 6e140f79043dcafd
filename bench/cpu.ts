/**
 * `npm run bench:cpu`: CPU speed on public/guests/bench.elf (compute-bound, ~300 M
 * instructions, no I/O), run through Machine.run in 10 M-instruction slices as a host would,
 * with block translation off (the interpreter) and on (translate.ts), interleaved.
 * One shortened warm-up run per mode, then RUNS timed runs each; prints MIPS (median and best). Also times the
 * state hash on the default 16 MiB machine: once cold (every page), then after each further few
 * million instructions (only the pages written since). Appends both figures to bench/results.md
 * with `--record`.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Machine } from '../src/machine/machine';
import { parseElf } from '../src/machine/elf';

const RUNS = 5;
const SLICE = 10_000_000;
const WARMUP_ROUNDS = 100;
const HASH_STEP_INSTRUCTIONS = 3_000_000;
const HASH_SAMPLES = 8;

const elfPath = fileURLToPath(new URL('../public/guests/bench.elf', import.meta.url));
const resultsPath = fileURLToPath(new URL('./results.md', import.meta.url));
const elf = new Uint8Array(readFileSync(elfPath));
const roundsAddr = parseElf(elf).symbols.get('bench_rounds');

function freshMachine(rounds?: number, translate = false): Machine {
  const m = Machine.fromElf(elf, { translate });
  m.setNondetSource({ read: () => { throw new Error('bench guest read a nondeterministic source'); } });
  if (rounds !== undefined && roundsAddr !== undefined) m.mem.write(roundsAddr, new Uint8Array(new Uint32Array([rounds]).buffer));
  return m;
}

/** Runs to exit; returns [instructions, wall seconds, CPU seconds of this process]. */
function timedRun(m: Machine): [number, number, number] {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (;;) {
    const r = m.run(SLICE);
    if (r.reason === 'exit') {
      if (r.tohost !== 1) throw new Error(`bench guest failed: tohost ${r.tohost}`);
      break;
    }
    if (r.reason !== 'budget') throw new Error(`bench guest stopped: ${r.reason} ${r.fault ?? ''}`);
  }
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const c = process.cpuUsage(c0);
  return [m.icount, wall, (c.user + c.system) / 1e6];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function msOf(f: () => void): number {
  const t0 = process.hrtime.bigint();
  f();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

interface Mips { medianMips: number; bestMips: number; instructions: number; medianCpuMips: number }

/** Timed runs with translation off and on, interleaved so both see the same host load. */
function measureMips(): { off: Mips; on: Mips } {
  timedRun(freshMachine(WARMUP_ROUNDS, false));
  timedRun(freshMachine(WARMUP_ROUNDS, true));
  const mips = { off: [] as number[], on: [] as number[] };
  const cpuMips = { off: [] as number[], on: [] as number[] };
  let instructions = 0;
  for (let i = 0; i < RUNS; i++) {
    for (const translate of [false, true]) {
      const [n, s, cpu] = timedRun(freshMachine(undefined, translate));
      instructions = n;
      mips[translate ? 'on' : 'off'].push(n / s / 1e6);
      cpuMips[translate ? 'on' : 'off'].push(n / cpu / 1e6);
      console.log(`run ${i + 1}, translation ${translate ? 'on ' : 'off'}: ${n} instructions in ${s.toFixed(3)} s = ${(n / s / 1e6).toFixed(1)} MIPS (${(n / cpu / 1e6).toFixed(1)} per CPU second)`);
    }
  }
  const sum = (xs: number[], cs: number[]): Mips => ({ medianMips: median(xs), bestMips: Math.max(...xs), instructions, medianCpuMips: median(cs) });
  return { off: sum(mips.off, cpuMips.off), on: sum(mips.on, cpuMips.on) };
}

function measureHash(): { coldMs: number; warmMs: number; pages: number } {
  const m = freshMachine();
  m.run(HASH_STEP_INSTRUCTIONS);
  const coldMs = msOf(() => m.stateHash());
  const warm: number[] = [];
  const pages: number[] = [];
  for (let i = 0; i < HASH_SAMPLES; i++) {
    m.run(HASH_STEP_INSTRUCTIONS);
    warm.push(msOf(() => m.stateHash()));
    pages.push(m.pagesRehashedLast);
  }
  return { coldMs, warmMs: median(warm), pages: median(pages) };
}

function machineLine(): string {
  const model = readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/)?.[1] ?? cpus()[0]?.model ?? 'unknown cpu';
  return `node ${process.version}, ${model.trim()}, ${cpus().length} cores`;
}

const speeds = measureMips();
for (const mode of ['off', 'on'] as const) {
  const { medianMips, bestMips, instructions, medianCpuMips } = speeds[mode];
  console.log(`bench.elf, translation ${mode}: median ${medianMips.toFixed(1)} MIPS, best ${bestMips.toFixed(1)} MIPS, median ${medianCpuMips.toFixed(1)} per CPU second (${RUNS} runs of ${instructions} instructions)`);
}
const hash = measureHash();
console.log(`state hash, 16 MiB RAM: cold ${hash.coldMs.toFixed(2)} ms (all 4096 pages); after each ${HASH_STEP_INSTRUCTIONS / 1e6} M instructions ${hash.warmMs.toFixed(3)} ms median (${hash.pages} dirty pages)`);

if (process.argv.includes('--record')) {
  const date = new Date().toISOString().slice(0, 10);
  const where = machineLine();
  const row = (what: string, x: Mips): string =>
    `| ${what}, bench.elf (${(x.instructions / 1e6).toFixed(0)} M instr.), median / best of ${RUNS} (median per CPU second of this process) | ${x.medianMips.toFixed(1)} / ${x.bestMips.toFixed(1)} MIPS (${x.medianCpuMips.toFixed(1)}) | \`npm run bench:cpu\` | ${date} | ${where} |\n`;
  appendFileSync(resultsPath,
    row('interpreter speed (translation off)', speeds.off) +
    row('CPU speed with block translation on', speeds.on) +
    `| state hash, 16 MiB machine: cold / after ${HASH_STEP_INSTRUCTIONS / 1e6} M instr. of bench.elf (${hash.pages} dirty pages) | ${hash.coldMs.toFixed(1)} ms / ${hash.warmMs.toFixed(3)} ms | \`npm run bench:cpu\` | ${date} | ${where} |\n`);
  console.log(`appended to ${resultsPath}`);
}
