/**
 * `npm run vm -- run FILE.elf [--max-instructions N] [--trace]`: run a guest ELF in Node.
 *
 * A plain host, with no FT: time is the real clock (µs since start, from process.hrtime), the RNG
 * is crypto random, the disk is in memory and completes each request at once, the timer fires when
 * the host clock passes the guest's mtimecmp. Console output goes to stdout as it comes; the
 * summary and anything else to stderr.
 *
 * Exit status: 0 the guest passed (tohost 1) or went idle with nothing left to wait for;
 * 1 the guest reported failure (tohost != 1); 2 bad usage or a malformed ELF;
 * 3 the instruction limit was reached; 4 the hart faulted.
 */
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { Machine } from '../machine/machine';
import { MemDisk } from '../machine/testing/test-host';
import type { DiskRequest, MachineOutput, NondetKind, RunResult } from '../machine/types';

const SLICE_INSTRUCTIONS = 1_000_000;
const TRACE_RING = 32;
const TRACE_EVERY = 1_000_000;

interface Options { file: string; maxInstructions: number; trace: boolean }

function usage(msg: string): never {
  process.stderr.write(`vm: ${msg}\nusage: npm run vm -- run FILE.elf [--max-instructions N] [--trace]\n`);
  process.exit(2);
}

function parseArgs(argv: string[]): Options {
  if (argv[0] !== 'run') usage(argv[0] === undefined ? 'missing command' : `unknown command '${argv[0]}'`);
  const opts: Options = { file: '', maxInstructions: Infinity, trace: false };
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--trace') opts.trace = true;
    else if (a === '--max-instructions') {
      const n = Number(argv[++i]);
      if (!Number.isSafeInteger(n) || n <= 0) usage(`--max-instructions needs a positive integer, got '${argv[i]}'`);
      opts.maxInstructions = n;
    } else if (a.startsWith('--')) usage(`unknown option ${a}`);
    else if (opts.file === '') opts.file = a;
    else usage(`unexpected argument ${a}`);
  }
  if (opts.file === '') usage('missing FILE.elf');
  return opts;
}

function load(file: string): Machine {
  try {
    return Machine.fromElf(new Uint8Array(readFileSync(file)));
  } catch (e) {
    process.stderr.write(`vm: ${file}: ${(e as Error).message}\n`);
    process.exit(2);
  }
}

const startNs = process.hrtime.bigint();
const nowUs = (): number => Number((process.hrtime.bigint() - startNs) / 1000n);

function hostNondet(kind: NondetKind): number {
  if (kind === 'rng') return randomBytes(4).readUInt32LE(0);
  const t = nowUs();
  return kind === 'time-lo' ? t % 0x1_0000_0000 : Math.floor(t / 0x1_0000_0000);
}

/** Block the thread (the guest is idle in wfi until its timer). */
function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Math.max(1, Math.min(ms, 1000)));
}

class Tracer {
  private readonly ring: string[] = [];

  constructor(private readonly m: Machine) {}

  /** One instruction at a time, remembering the last TRACE_RING pcs and words. */
  run(budget: number): RunResult {
    let retired = 0;
    for (;;) {
      const pc = this.m.hart.pc;
      const word = this.m.mem.contains(pc, 4) ? this.m.mem.read(pc, 4) : null;
      const r = this.m.run(1);
      retired += r.retired;
      if (r.retired > 0) this.remember(pc, word);
      if (r.reason !== 'budget' || retired >= budget) return { ...r, retired };
    }
  }

  dump(): void {
    process.stderr.write(`trace: last ${this.ring.length} instructions (oldest first)\n${this.ring.join('\n')}\n`);
  }

  private remember(pc: number, word: Uint8Array | null): void {
    const w = word === null ? -1 : new DataView(word.buffer).getUint32(0, true);
    // A compressed instruction is the low halfword (its two low bits are not 11: RVC spec §16.1).
    const hex = w === -1 ? '????????' : (w & 3) === 3 ? w.toString(16).padStart(8, '0') : `    ${(w & 0xffff).toString(16).padStart(4, '0')}`;
    this.ring.push(`  ${(this.m.icount - 1).toString().padStart(12)}  pc ${pc.toString(16).padStart(8, '0')}  ${hex}`);
    if (this.ring.length > TRACE_RING) this.ring.shift();
    if (this.m.icount % TRACE_EVERY === 0) process.stderr.write(`trace: icount ${this.m.icount} pc ${this.m.hart.pc.toString(16)}\n`);
  }
}

/** The in-memory disk answers every request immediately. */
function completeAtOnce(m: Machine, disk: MemDisk, req: DiskRequest): void {
  if (req.op === 'write') {
    disk.write(req.sector, req.data!);
    m.completeDisk(req.id);
  } else {
    m.completeDisk(req.id, disk.read(req.sector, req.count));
  }
}

function main(): void {
  const opts = parseArgs(process.argv.slice(2));
  const m = load(opts.file);
  const disk = new MemDisk();
  const pending: { disk: DiskRequest | null } = { disk: null };
  m.setNondetSource({ read: hostNondet });
  m.setOutputSink({
    output(out: MachineOutput): void {
      if (out.kind === 'console') process.stdout.write(out.bytes);
      else if (out.kind === 'net-tx') process.stderr.write(`[net-tx ${out.bytes.length} bytes at icount ${out.icount}]\n`);
      else pending.disk = out.req;
    },
  });
  const tracer = opts.trace ? new Tracer(m) : null;
  const t0 = process.hrtime.bigint();
  const finish: (code: number, msg: string) => never = (code, msg) => {
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    m.flushConsole();
    tracer?.dump();
    process.stderr.write(`vm: ${msg}\nvm: ${m.icount} instructions in ${s.toFixed(3)} s, ${(m.icount / s / 1e6).toFixed(1)} MIPS\n`);
    process.exit(code);
  };
  for (;;) {
    const left = opts.maxInstructions - m.icount;
    if (left <= 0) finish(3, `instruction limit ${opts.maxInstructions} reached`);
    const budget = Math.min(SLICE_INSTRUCTIONS, left);
    const r = tracer ? tracer.run(budget) : m.run(budget);
    if (r.reason === 'exit') {
      const v = r.tohost ?? 0;
      if (v === 1) finish(0, 'pass (tohost 1)');
      finish(1, `FAIL: tohost ${v}, test ${v >>> 1}`);
    }
    if (r.reason === 'fault') finish(4, `fault: ${r.fault}`);
    let delivered = false;
    const req = pending.disk;
    if (req !== null) {
      pending.disk = null;
      completeAtOnce(m, disk, req);
      delivered = true;
    }
    const deadline = m.timerDeadline();
    if (deadline !== null && nowUs() >= deadline) { m.deliverTimer(); delivered = true; }
    if (r.reason !== 'wfi' || delivered) continue;
    if (deadline === null) finish(0, 'guest idle in wfi with no timer armed and nothing pending');
    sleepMs((deadline - nowUs()) / 1000);
  }
}

main();
