/**
 * `npm run bench:cpu [-- --record] [-- --no-browser]`: CPU speed, block translation off (the
 * interpreter) and on (translate.ts), on two guests of our own, each run whole, from reset to its exit:
 *
 *   bench.elf   ~300 M instructions: quicksort, FNV-1a, modular exponentiation, division, fib
 *   mark.elf    ~280 M instructions, CoreMark-like: linked list find/reverse/merge sort, 16-bit
 *               matrix arithmetic, a token-scanning state machine, CRC-16
 *
 * In Node, run through Machine.run in 10 M-instruction slices as a host would:
 *   - cold: the first run in a fresh Node process (a child), so translation, V8's compilation and
 *     its warm-up are all in the figure;
 *   - warm: RUNS timed runs each after that one, modes interleaved so both see the same host load;
 *     median and best, and the median per CPU second of the whole process (every thread: V8's
 *     compiler and GC threads count).
 * In Chromium (headless, the built app's lab page): the same guests in a fresh vm worker, the first
 * run (cold) and the median of the next RUNS_BROWSER.
 * Also times the state hash on the default 16 MiB machine: once cold (every page), then after each
 * further few million instructions (only the pages written since).
 * `--record` appends the figures to bench/results.md.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Machine } from '../src/machine/machine';

const RUNS = 5;
const RUNS_BROWSER = 3;
const SLICE = 10_000_000;
const HASH_STEP_INSTRUCTIONS = 3_000_000;
const HASH_SAMPLES = 8;
const GUESTS = ['bench', 'mark'] as const;
type Guest = (typeof GUESTS)[number];
type Mode = 'off' | 'on';
const PORT = 4192;

const resultsPath = fileURLToPath(new URL('./results.md', import.meta.url));
const elfs = new Map<Guest, Uint8Array>(GUESTS.map((g) => [g, new Uint8Array(readFileSync(fileURLToPath(new URL(`../public/guests/${g}.elf`, import.meta.url))))]));

function freshMachine(guest: Guest, translate: boolean): Machine {
  const m = Machine.fromElf(elfs.get(guest) as Uint8Array, { translate });
  m.setNondetSource({ read: () => { throw new Error(`${guest} guest read a nondeterministic source`); } });
  return m;
}

/** Runs to exit; returns [instructions, wall seconds, CPU seconds of this process]. */
function timedRun(m: Machine): [number, number, number] {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (;;) {
    const r = m.run(SLICE);
    if (r.reason === 'exit') {
      if (r.tohost !== 1) throw new Error(`guest failed: tohost ${r.tohost}`);
      break;
    }
    if (r.reason !== 'budget') throw new Error(`guest stopped: ${r.reason} ${r.fault ?? ''}`);
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

interface Mips { cold: number; medianMips: number; bestMips: number; instructions: number; medianCpuMips: number }

// A child process for the cold figure: `--cold GUEST MODE` prints one run's MIPS and exits.
const coldAt = process.argv.indexOf('--cold');
if (coldAt >= 0) {
  const [n, s] = timedRun(freshMachine(process.argv[coldAt + 1] as Guest, process.argv[coldAt + 2] === 'on'));
  console.log(`cold-mips ${n / s / 1e6}`);
  process.exit(0);
}

function coldRun(guest: Guest, mode: Mode): number {
  const self = fileURLToPath(import.meta.url);
  const r = spawnSync(process.execPath, [...process.execArgv, self, '--cold', guest, mode], { encoding: 'utf8' });
  const m = /cold-mips ([\d.]+)/.exec(r.stdout);
  if (m === null) throw new Error(`cold run of ${guest} (translation ${mode}) failed: ${r.stderr}`);
  return Number(m[1]);
}

function measureMips(guest: Guest): Record<Mode, Mips> {
  const cold = { off: coldRun(guest, 'off'), on: coldRun(guest, 'on') };
  timedRun(freshMachine(guest, false));
  timedRun(freshMachine(guest, true));
  const mips = { off: [] as number[], on: [] as number[] };
  const cpuMips = { off: [] as number[], on: [] as number[] };
  let instructions = 0;
  for (let i = 0; i < RUNS; i++) {
    for (const translate of [false, true]) {
      const [n, s, cpu] = timedRun(freshMachine(guest, translate));
      instructions = n;
      mips[translate ? 'on' : 'off'].push(n / s / 1e6);
      cpuMips[translate ? 'on' : 'off'].push(n / cpu / 1e6);
      console.log(`${guest} run ${i + 1}, translation ${translate ? 'on ' : 'off'}: ${n} instructions in ${s.toFixed(3)} s = ${(n / s / 1e6).toFixed(1)} MIPS (${(n / cpu / 1e6).toFixed(1)} per CPU second)`);
    }
  }
  const sum = (mode: Mode): Mips => ({ cold: cold[mode], medianMips: median(mips[mode]), bestMips: Math.max(...mips[mode]), instructions, medianCpuMips: median(cpuMips[mode]) });
  return { off: sum('off'), on: sum('on') };
}

function measureHash(): { coldMs: number; warmMs: number; pages: number } {
  const m = freshMachine('bench', true);
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

interface BrowserMips { cold: number; median: number; instructions: number }

/** The guests in a fresh Chromium vm worker each, translation off and on. */
async function measureBrowser(): Promise<{ figures: Map<string, BrowserMips>; version: string }> {
  const { serveApp } = await import('./serve');
  const served = await serveApp(PORT, '/lab.html');
  const out = new Map<string, BrowserMips>();
  const version = served.browser.version();
  try {
    const page = await served.browser.newPage();
    page.on('pageerror', (e) => console.error('page error:', e.message));
    await page.goto(`${served.base}/lab.html`);
    await page.waitForFunction('window.ftLab !== undefined');
    for (const guest of GUESTS) {
      for (const mode of ['off', 'on'] as const) {
        const runs = await page.evaluate(`window.ftLab.cpu(${JSON.stringify(guest)}, ${mode === 'on'}, ${1 + RUNS_BROWSER})`) as { mips: number; retired: number; tohost: number }[];
        if (runs.some((r) => r.tohost !== 1)) throw new Error(`${guest} failed in the browser: ${JSON.stringify(runs)}`);
        const x = { cold: runs[0].mips, median: median(runs.slice(1).map((r) => r.mips)), instructions: runs[0].retired };
        out.set(`${guest} ${mode}`, x);
        console.log(`${guest}.elf in a Chromium worker, translation ${mode}: cold ${x.cold.toFixed(1)} MIPS, then median ${x.median.toFixed(1)} MIPS (${RUNS_BROWSER} runs)`);
      }
    }
  } finally {
    await served.close();
  }
  return { figures: out, version };
}

function machineLine(): string {
  const model = readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/)?.[1] ?? cpus()[0]?.model ?? 'unknown cpu';
  return `node ${process.version}, ${model.trim()}, ${cpus().length} cores`;
}

async function main(): Promise<void> {
  const speeds = new Map<Guest, Record<Mode, Mips>>();
  for (const guest of GUESTS) {
    const s = measureMips(guest);
    speeds.set(guest, s);
    for (const mode of ['off', 'on'] as const) {
      const { cold, medianMips, bestMips, instructions, medianCpuMips } = s[mode];
      console.log(`${guest}.elf, translation ${mode}: cold ${cold.toFixed(1)} MIPS; warm median ${medianMips.toFixed(1)} MIPS, best ${bestMips.toFixed(1)} MIPS, median ${medianCpuMips.toFixed(1)} per CPU second (${RUNS} runs of ${instructions} instructions)`);
    }
  }
  const hash = measureHash();
  console.log(`state hash, 16 MiB RAM: cold ${hash.coldMs.toFixed(2)} ms (all 4096 pages); after each ${HASH_STEP_INSTRUCTIONS / 1e6} M instructions ${hash.warmMs.toFixed(3)} ms median (${hash.pages} dirty pages)`);
  const browser = process.argv.includes('--no-browser') ? null : await measureBrowser();

  if (process.argv.includes('--record')) {
    const date = new Date().toISOString().slice(0, 10);
    const where = machineLine();
    let rows = '';
    for (const [guest, s] of speeds) {
      for (const mode of ['off', 'on'] as const) {
        const x = s[mode];
        rows += `| CPU, ${guest}.elf (${(x.instructions / 1e6).toFixed(0)} M instr.), translation ${mode}, Node: cold (first run of a fresh process) / warm median / best of ${RUNS} (warm median per CPU second of the process) | ${x.cold.toFixed(1)} / ${x.medianMips.toFixed(1)} / ${x.bestMips.toFixed(1)} MIPS (${x.medianCpuMips.toFixed(1)}) | \`npm run bench:cpu\` | ${date} | ${where} |\n`;
      }
    }
    for (const [key, x] of browser?.figures ?? []) {
      const [guest, mode] = key.split(' ');
      rows += `| CPU, ${guest}.elf (${(x.instructions / 1e6).toFixed(0)} M instr.), translation ${mode}, a Chromium vm worker: cold (first run of a fresh worker) / median of the next ${RUNS_BROWSER} | ${x.cold.toFixed(1)} / ${x.median.toFixed(1)} MIPS | \`npm run bench:cpu\` | ${date} | ${where.replace(/^node [^,]*, /, '')}, Chromium ${browser?.version} (headless) |\n`;
    }
    rows += `| state hash, 16 MiB machine: cold / after ${HASH_STEP_INSTRUCTIONS / 1e6} M instr. of bench.elf (${hash.pages} dirty pages) | ${hash.coldMs.toFixed(1)} ms / ${hash.warmMs.toFixed(3)} ms | \`npm run bench:cpu\` | ${date} | ${where} |\n`;
    appendFileSync(resultsPath, rows);
    console.log(`appended to ${resultsPath}`);
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
