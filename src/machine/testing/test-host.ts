/**
 * A small deterministic host for running a guest in tests: an in-memory disk (which can be told to
 * fail requests), a virtual clock and a seeded RNG for nondeterministic reads, and a loop that
 * delivers packets, disk completions and timer interrupts between runs. No real clock anywhere, so the same script gives the same run.
 *
 * Virtual time: the guest "runs" at VIRTUAL_MIPS, so time is icount / VIRTUAL_MIPS µs plus the time
 * skipped while the guest idled in wfi waiting for its timer.
 */
import { Machine } from '../machine';
import { DISK_BLOCK_BYTES } from '../memmap';
import type { DiskRequest, MachineOutput, NondetKind, PacketDelivery, RunResult } from '../types';

export const VIRTUAL_MIPS = 100;

/** Blocks by number; absent blocks read as zeros. */
export class MemDisk {
  readonly blocks = new Map<number, Uint8Array>();

  read(sector: number, count: number): Uint8Array {
    const out = new Uint8Array(count * DISK_BLOCK_BYTES);
    for (let i = 0; i < count; i++) {
      const b = this.blocks.get(sector + i);
      if (b) out.set(b, i * DISK_BLOCK_BYTES);
    }
    return out;
  }

  write(sector: number, data: Uint8Array): void {
    for (let i = 0; i * DISK_BLOCK_BYTES < data.length; i++) {
      this.blocks.set(sector + i, data.slice(i * DISK_BLOCK_BYTES, (i + 1) * DISK_BLOCK_BYTES));
    }
  }
}

/** xorshift32: the test host's seeded RNG. */
export function xorshift32(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s;
  };
}

export interface StepOptions {
  /** Stop once the machine's icount reaches this (exact). */
  untilIcount: number;
  /** Stop early when this holds after a run slice. */
  until?: () => boolean;
  sliceInstructions?: number;
}

export class TestHost {
  readonly machine: Machine;
  readonly disk: MemDisk;
  readonly outputs: MachineOutput[] = [];
  readonly packetsOut: Uint8Array[] = [];
  console = '';
  lastResult: RunResult | null = null;
  /** Decides per request whether the disk fails it (completeDisk with failed = true). */
  failDisk: (req: DiskRequest) => boolean = () => false;
  private idleUs = 0;
  private pendingDisk: DiskRequest | null = null;
  private readonly rng: () => number;

  constructor(machine: Machine, disk = new MemDisk(), seed = 1) {
    this.machine = machine;
    this.disk = disk;
    this.rng = xorshift32(seed);
    machine.setNondetSource({ read: (kind, icount) => this.nondet(kind, icount) });
    machine.setOutputSink({ output: (out) => this.onOutput(out) });
  }

  nowUs(icount = this.machine.icount): number {
    return this.idleUs + Math.floor(icount / VIRTUAL_MIPS);
  }

  deliverPacket(bytes: Uint8Array): PacketDelivery {
    return this.machine.deliverPacket(bytes);
  }

  /**
   * Runs until `untilIcount`, an exit or fault, `until()`, or an idle machine with nothing left
   * to deliver. Between slices: completes the disk request, fires a due timer; when the guest waits
   * in wfi for its timer, skips virtual time to the deadline.
   */
  step(opts: StepOptions): RunResult {
    const slice = opts.sliceInstructions ?? 100_000;
    for (;;) {
      const left = opts.untilIcount - this.machine.icount;
      if (left <= 0) return this.finish({ retired: 0, reason: 'budget' });
      const r = this.machine.run(Math.min(slice, left));
      if (r.reason === 'exit' || r.reason === 'fault') return this.finish(r);
      const delivered = this.deliverDue();
      if (opts.until?.()) return this.finish(r);
      if (r.reason === 'wfi' && !delivered && !this.skipToTimer()) return this.finish(r);
    }
  }

  /** Runs until the guest is idle in wfi with nothing pending, or `maxInstructions` more. */
  settle(maxInstructions = 50_000_000): RunResult {
    return this.step({ untilIcount: this.machine.icount + maxInstructions });
  }

  private finish(r: RunResult): RunResult {
    this.lastResult = r;
    return r;
  }

  /** Delivers whatever is due now; true if anything was. */
  private deliverDue(): boolean {
    let any = false;
    const req = this.pendingDisk;
    if (req !== null) {
      this.pendingDisk = null;
      if (this.failDisk(req)) {
        this.machine.completeDisk(req.id, undefined, true);
      } else if (req.op === 'write') {
        this.disk.write(req.sector, req.data!);
        this.machine.completeDisk(req.id);
      } else {
        this.machine.completeDisk(req.id, this.disk.read(req.sector, req.count));
      }
      any = true;
    }
    const deadline = this.machine.timerDeadline();
    if (deadline !== null && deadline <= this.nowUs()) {
      this.machine.deliverTimer();
      any = true;
    }
    return any;
  }

  /** Idle with a timer armed: jump virtual time to the deadline and fire it. */
  private skipToTimer(): boolean {
    const deadline = this.machine.timerDeadline();
    if (deadline === null) return false;
    this.idleUs += Math.max(0, deadline - this.nowUs());
    this.machine.deliverTimer();
    return true;
  }

  private nondet(kind: NondetKind, icount: number): number {
    if (kind === 'rng') return this.rng();
    const t = this.nowUs(icount);
    return kind === 'time-lo' ? t % 0x1_0000_0000 : Math.floor(t / 0x1_0000_0000);
  }

  private onOutput(out: MachineOutput): void {
    this.outputs.push(out);
    if (out.kind === 'console') this.console += new TextDecoder().decode(out.bytes);
    else if (out.kind === 'net-tx') this.packetsOut.push(out.bytes);
    else this.pendingDisk = out.req;
  }
}
