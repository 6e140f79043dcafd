/**
 * Hart microbenchmark: runs public/guests/isa/bench-loop.elf (compiled C, -O2, compressed
 * instructions: integer math, memory, branches) repeatedly in slices, as a host would, and prints
 * million instructions per second. Usage: npx tsx bench/hart-micro.ts [seconds] [sliceInstructions]
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseElf } from '../src/machine/elf';
import { rigWithElf } from '../src/machine/testing/harness';

const seconds = Number(process.argv[2] ?? 5);
const slice = Number(process.argv[3] ?? 1_000_000);
const path = fileURLToPath(new URL('../public/guests/isa/bench-loop.elf', import.meta.url));
const image = parseElf(new Uint8Array(readFileSync(path)));
const rig = rigWithElf(image, 1 << 20);

function runOnce(): number {
  rig.hart.reset(image.entry);
  let retired = 0;
  for (;;) {
    const r = rig.hart.run(slice);
    retired += r.retired;
    if (r.reason === 'exit') {
      if (r.tohost !== 1) throw new Error(`bench-loop failed: tohost ${r.tohost}`);
      return retired;
    }
    if (r.reason !== 'budget') throw new Error(`bench-loop stopped: ${r.reason} ${r.fault ?? ''}`);
  }
}

runOnce(); // warm-up: let V8 optimize run()
// Other processes share the machine, so report the best and median round as well as the mean.
let total = 0;
const rates: number[] = [];
const t0 = performance.now();
while (performance.now() - t0 < seconds * 1000) {
  const r0 = performance.now();
  const n = runOnce();
  rates.push(n / (performance.now() - r0) / 1000);
  total += n;
}
const ms = performance.now() - t0;
rates.sort((a, b) => a - b);
console.log(`hart-micro: ${rates.length} rounds of ${(total / rates.length / 1e6).toFixed(1)} M instructions, ` +
  `mean ${(total / ms / 1000).toFixed(1)} MIPS, median ${rates[rates.length >> 1].toFixed(1)}, best ${rates[rates.length - 1].toFixed(1)} (slice ${slice})`);
