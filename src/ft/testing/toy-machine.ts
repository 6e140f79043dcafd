/**
 * A small deterministic GuestMachine for protocol tests: a toy state machine, not a CPU. It keeps
 * the contract of src/machine/types.ts where FT depends on it — `run(budget)` retires exactly
 * `budget` instructions unless it idles (wfi); nondet reads and outputs happen mid-run with the
 * icount of the instruction that does them (instructions retired before it); interrupts are taken
 * at the next instruction — so any FT bug that shifts an event by one instruction changes its hash.
 *
 * Its "program": every instruction mixes the icount into an accumulator. Every `readEvery`
 * instructions it reads rng or time. An armed timer, once delivered, re-arms `timerPeriodUs` after
 * a fresh time read and prints to the console every 4th tick. A received packet produces a disk
 * write and a reply packet; a disk completion (failed or not) is mixed in. With `wfiEvery`, it
 * idles every so many instructions until an interrupt is pending.
 */
import type {
  DenseMachineSnapshot,
  DiskRequest,
  GuestMachine,
  MachineOutput,
  MachineSnapshot,
  NondetKind,
  NondetSource,
  OutputSink,
  PacketDelivery,
  RunResult,
} from '../../machine/types';

export interface ToyConfig {
  readEvery: number;
  timerPeriodUs: number;
  wfiEvery: number; // 0: never idles
}

const DEFAULT_CONFIG: ToyConfig = { readEvery: 997, timerPeriodUs: 2_000, wfiEvery: 0 };

interface ToyState {
  icount: number;
  acc: number;
  timerDeadlineUs: number | null;
  timerPending: boolean;
  ticks: number;
  rx: number[][];
  diskDone: number[];
  nextDiskId: number;
  /** Disk writes issued and not yet completed. */
  diskPending: { id: number; sector: number; data: number[] }[];
  idle: boolean;
}

function mix(acc: number, v: number): number {
  let h = (acc ^ v) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x45d9f3b);
  h = Math.imul(h ^ (h >>> 16), 0x45d9f3b);
  return (h ^ (h >>> 16)) >>> 0;
}

const NO_SOURCE: NondetSource = {
  read: () => {
    throw new Error('toy machine: no nondet source set');
  },
};
const NO_SINK: OutputSink = { output: () => undefined };

export class ToyMachine implements GuestMachine {
  private s: ToyState = {
    icount: 0,
    acc: 1,
    timerDeadlineUs: 0, // armed at boot: the first tick comes at once
    timerPending: false,
    ticks: 0,
    rx: [],
    diskDone: [],
    nextDiskId: 1,
    diskPending: [],
    idle: false,
  };
  private src: NondetSource = NO_SOURCE;
  private sink: OutputSink = NO_SINK;
  readonly config: ToyConfig;

  constructor(config: Partial<ToyConfig> = {}) {
    this.config = { ...DEFAULT_CONFIG, ...config };
  }

  /** The toy has no program counter; its icount stands in. */
  get pc(): number {
    return this.s.icount >>> 0;
  }
  get icount(): number {
    return this.s.icount;
  }

  run(budget: number): RunResult {
    let retired = 0;
    while (retired < budget) {
      if (this.s.idle && !this.interruptPending()) return { retired, reason: 'wfi' };
      this.s.idle = false;
      this.execute();
      this.s.icount++;
      retired++;
      if (this.config.wfiEvery > 0 && this.s.icount % this.config.wfiEvery === 0) this.s.idle = true;
    }
    return { retired, reason: 'budget' };
  }

  private interruptPending(): boolean {
    return this.s.timerPending || this.s.rx.length > 0 || this.s.diskDone.length > 0;
  }

  /** One instruction: take one pending interrupt if any, else compute (and maybe read). */
  private execute(): void {
    const s = this.s;
    const ic = s.icount;
    if (s.timerPending) {
      s.timerPending = false;
      s.ticks++;
      const now = this.readTime(ic);
      s.timerDeadlineUs = now + this.config.timerPeriodUs;
      if (s.ticks % 4 === 0) this.emit({ kind: 'console', icount: ic, bytes: new TextEncoder().encode(`tick ${s.ticks} ${s.acc}\n`) });
    } else if (s.rx.length > 0) {
      const pkt = s.rx.shift() as number[];
      for (const b of pkt) s.acc = mix(s.acc, b);
      const block = new Uint8Array(512);
      new DataView(block.buffer).setUint32(0, s.acc);
      const id = s.nextDiskId++;
      s.diskPending.push({ id, sector: 0, data: [...block] });
      this.emit({ kind: 'disk', icount: ic, req: { id, op: 'write', sector: 0, count: 1, data: block } });
      this.emit({ kind: 'net-tx', icount: ic, bytes: Uint8Array.from([...pkt.slice(0, 4), s.acc & 0xff, (s.acc >>> 8) & 0xff]) });
    } else if (s.diskDone.length > 0) {
      s.acc = mix(s.acc, s.diskDone.shift() as number);
    } else if (ic % this.config.readEvery === this.config.readEvery - 1) {
      const kind: NondetKind = (ic / this.config.readEvery) % 2 < 1 ? 'rng' : 'time-lo';
      s.acc = mix(s.acc, this.src.read(kind, ic));
    }
    s.acc = mix(s.acc, ic);
  }

  private readTime(ic: number): number {
    return this.src.read('time-lo', ic);
  }

  private emit(out: MachineOutput): void {
    this.sink.output(out);
  }

  deliverTimer(): void {
    this.s.timerPending = true;
    this.s.timerDeadlineUs = null;
  }
  timerDeadline(): number | null {
    return this.s.timerDeadlineUs;
  }
  deliverPacket(bytes: Uint8Array): PacketDelivery {
    if (this.s.rx.length >= 8) return 'dropped-no-descriptor';
    this.s.rx.push([...bytes]);
    return 'delivered';
  }
  /** A failed completion mixes in a different value, so a lost failed flag changes the hash. */
  pendingDiskRequests(): DiskRequest[] {
    return this.s.diskPending.map((p) => ({ id: p.id, op: 'write' as const, sector: p.sector, count: 1, data: Uint8Array.from(p.data) }));
  }
  completeDisk(id: number, data?: Uint8Array, failed = false): void {
    this.s.diskPending = this.s.diskPending.filter((p) => p.id !== id);
    this.s.diskDone.push(mix(id, failed ? 0xdead : data ? data[0] : 0));
  }
  /** The toy has no guest memory for DMA to land in early. */
  dmaPacketAhead(): boolean {
    return false;
  }
  dmaDiskAhead(): boolean {
    return false;
  }
  deliverUart(bytes: Uint8Array): void {
    for (const b of bytes) this.s.acc = mix(this.s.acc, b);
  }
  setNondetSource(src: NondetSource): void {
    this.src = src;
  }
  setOutputSink(sink: OutputSink): void {
    this.sink = sink;
  }
  stateHash(): string {
    return mix(mix(this.s.acc, this.s.icount), JSON.stringify(this.s).length).toString(16) + ':' + JSON.stringify(this.s);
  }
  snapshot(): DenseMachineSnapshot {
    return {
      icount: this.s.icount,
      ram: new ArrayBuffer(0),
      cpu: new ArrayBuffer(0),
      devices: { toy: JSON.parse(JSON.stringify(this.s)) },
      config: { ramSize: 0, tohostAddr: null },
    };
  }
  restore(snap: MachineSnapshot): void {
    this.s = JSON.parse(JSON.stringify(snap.devices.toy)) as ToyState;
  }
}
