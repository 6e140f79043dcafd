/**
 * The guest computer: one RV32IMAC hart, RAM, and the devices of memmap.ts on a bus. It implements
 * GuestMachine (types.ts), the whole contract the FT hypervisor relies on: run exactly N
 * instructions, take asynchronous input between runs, report nondeterministic reads and outputs
 * through injected interfaces, snapshot/restore, and hash its state.
 */
import { Hart } from './hart';
import { parseElf, type ElfImage } from './elf';
import { Memory, PAGE_BYTES, PAGE_SHIFT, checkSparse } from './memory';
import { RAM_BASE, RAM_SIZE_DEFAULT } from './memmap';
import type { Mmio, MmioDevice } from './bus';
import type {
  DenseMachineSnapshot, GuestMachine, MachineOutput, MachineSnapshot, NondetKind, NondetSource, OutputSink, PacketDelivery,
  RunResult, DiskRequest,
} from './types';
import type { DeviceHost } from './devices/device';
import { Clint } from './devices/clint';
import { Uart } from './devices/uart';
import { Nic } from './devices/nic';
import { Disk, DISK_BLOCKS_DEFAULT } from './devices/disk';
import { Rng } from './devices/rng';
import { StateHasher } from './hash';

/** The ELF does not fit this machine (a segment or the entry point outside RAM). */
export class LoadError extends Error {
  override name = 'LoadError';
}

/** A snapshot that does not fit this machine. */
export class SnapshotError extends Error {
  override name = 'SnapshotError';
}

/** The guest read time or the RNG but nobody told the machine where such values come from. */
export class NondetUnsetError extends Error {
  override name = 'NondetUnsetError';
}

export interface MachineOptions {
  ramSize?: number;
  diskBlocks?: number;
  /** Translate hot blocks to JS (translate.ts); default `Hart.translateByDefault`. */
  translate?: boolean;
}

const NONDET_UNSET: NondetSource = {
  read(kind: NondetKind, icount: number): number {
    throw new NondetUnsetError(`the guest read ${kind} at icount ${icount}, but no nondeterminism source is set (call setNondetSource)`);
  },
};

const SINK_DROP: OutputSink = { output(): void {} };

/** Routes hart MMIO accesses to the device whose window holds the whole access. */
class DeviceBus implements Mmio {
  constructor(private readonly devices: readonly MmioDevice[]) {}

  load(addr: number, size: 1 | 2 | 4): number | null {
    const d = this.find(addr >>> 0, size);
    return d === null ? null : d.load((addr >>> 0) - d.base, size);
  }

  store(addr: number, size: 1 | 2 | 4, value: number): boolean {
    const d = this.find(addr >>> 0, size);
    return d === null ? false : d.store((addr >>> 0) - d.base, size, value);
  }

  private find(addr: number, size: number): MmioDevice | null {
    for (const d of this.devices) {
      if (addr >= d.base && addr + size <= d.base + d.size) return d;
    }
    return null;
  }
}

export class Machine implements GuestMachine {
  readonly mem: Memory;
  readonly hart: Hart;
  readonly clint: Clint;
  readonly uart: Uart;
  readonly nic: Nic;
  readonly disk: Disk;
  readonly rng: Rng;
  private readonly devices: readonly MmioDevice[];
  private readonly hasher: StateHasher;
  /** RAM copied ahead for the next snapshot (precopySnapshot), up to page `next`. */
  private copy: { ram: Uint8Array<ArrayBuffer>; next: number } | null = null;
  private nondet: NondetSource = NONDET_UNSET;
  private sink: OutputSink = SINK_DROP;

  /** An empty machine (zeroed RAM, pc at RAM_BASE). Most callers want `fromElf`. */
  constructor(opts: MachineOptions = {}) {
    const ramSize = opts.ramSize ?? RAM_SIZE_DEFAULT;
    this.mem = new Memory(RAM_BASE, ramSize);
    const host: DeviceHost = {
      icount: () => this.hart.icount,
      readNondet: (kind) => this.nondet.read(kind, this.hart.icount),
      emit: (out: MachineOutput) => this.sink.output(out),
      setIrq: (bit, level) => this.hart.setIrq(bit, level),
      irqLevel: (bit) => (this.hart.csr.mip & (1 << bit)) !== 0,
    };
    this.clint = new Clint(host);
    this.uart = new Uart(host);
    this.nic = new Nic(this.mem, host);
    this.disk = new Disk(this.mem, host, opts.diskBlocks ?? DISK_BLOCKS_DEFAULT);
    this.rng = new Rng(host);
    this.devices = [this.uart, this.nic, this.disk, this.rng, this.clint];
    this.hart = new Hart(this.mem, new DeviceBus(this.devices), { translate: opts.translate });
    this.hart.nondet = { read: (kind, icount) => this.nondet.read(kind, icount) };
    this.mem.onExternalWrite = (offset, length) => this.hart.invalidate(offset, length);
    this.hasher = new StateHasher(this.mem);
    this.hart.reset(RAM_BASE);
  }

  /** Parse, check that everything fits, then build and load: on any error, no machine exists. */
  static fromElf(bytes: Uint8Array, opts: MachineOptions = {}): Machine {
    const image = parseElf(bytes);
    checkFits(image, opts.ramSize ?? RAM_SIZE_DEFAULT);
    const m = new Machine(opts);
    for (const seg of image.segments) m.mem.write(seg.vaddr, seg.data); // the rest is already zero
    m.hart.reset(image.entry);
    const tohost = image.symbols.get('tohost');
    m.hart.tohostAddr = tohost === undefined ? -1 : tohost >>> 0;
    return m;
  }

  get icount(): number {
    return this.hart.icount;
  }

  get pc(): number {
    return this.hart.pc >>> 0;
  }

  run(budget: number): RunResult {
    return this.hart.run(budget);
  }

  /** RAM pages (4 KiB). */
  get ramPages(): number {
    return this.mem.size >>> PAGE_SHIFT;
  }

  /** Block translation on or off (see translate.ts); the machine's state is the same either way. */
  get translate(): boolean {
    return this.hart.translate;
  }
  set translate(on: boolean) {
    this.hart.translate = on;
  }

  /** A host that stops for good hands out the console's last unterminated line. */
  flushConsole(): void {
    this.uart.flush();
  }

  deliverTimer(): void {
    this.clint.deliverTimer();
  }

  timerDeadline(): number | null {
    return this.clint.timerDeadline();
  }

  deliverPacket(bytes: Uint8Array): PacketDelivery {
    return this.nic.deliverPacket(bytes);
  }

  completeDisk(id: number, data?: Uint8Array, failed = false): void {
    this.disk.completeDisk(id, data, failed);
  }

  /** The disk request in flight (the disk takes one at a time), for a backup going live to re-issue. */
  pendingDiskRequests(): DiskRequest[] {
    const r = this.disk.pendingRequest();
    return r === null ? [] : [r];
  }

  dmaPacketAhead(bytes: Uint8Array, ahead: number): boolean {
    return this.nic.dmaAhead(bytes, ahead);
  }

  dmaDiskAhead(id: number, data: Uint8Array): boolean {
    return this.disk.dmaAhead(id, data);
  }

  deliverUart(bytes: Uint8Array): void {
    this.uart.deliverUart(bytes);
  }

  setNondetSource(src: NondetSource): void {
    this.nondet = src;
  }

  setOutputSink(sink: OutputSink): void {
    this.sink = sink;
  }

  stateHash(opts: { full?: boolean } = {}): string {
    return this.hasher.hash(this.hart.stateWords(), this.deviceStates(), opts.full === true);
  }

  /**
   * Fault injection: write guest RAM as a fault would (a cosmic-ray bit flip a lecture triggers on
   * one VM), not as the guest would — no instruction retires and nothing is logged. Unlike a stray
   * write into `mem.buffer`, it marks the pages dirty, so even the cached state hash sees it, and
   * drops decoded instructions it overwrites, so flipped code runs as flipped. MemoryError outside RAM.
   */
  injectRamWrite(addr: number, bytes: Uint8Array): void {
    this.mem.write(addr, bytes);
  }

  /** Fault injection: flip bit `bit` (0–7) of the RAM byte at `addr` (injectRamWrite's rules). */
  flipRamBit(addr: number, bit: number): void {
    if (!(bit >= 0 && bit <= 7)) throw new RangeError(`bit ${bit}: expected 0 to 7`);
    const [b] = this.mem.read(addr, 1);
    this.injectRamWrite(addr, Uint8Array.of(b ^ (1 << bit)));
  }

  /** Pages the last stateHash() had to reread (the rest came from the per-page cache). */
  get pagesRehashedLast(): number {
    return this.hasher.lastPagesRehashed;
  }

  /**
   * FT VMotion's pre-copy (docs/design.md §3.6): copies RAM pages [first, first + count) into the
   * next snapshot's RAM buffer while the guest runs on, so the pause of `snapshot({ precopied: true })`
   * is only the pages written since they were copied. Pages before `first` that this copy never saw
   * (a copy that began before a restore) count as written.
   */
  precopySnapshot(first: number, count: number): void {
    const pages = this.ramPages;
    if (!this.copy) {
      this.copy = { ram: new Uint8Array(this.mem.size), next: 0 };
      this.mem.writtenSinceCopy = new Uint8Array(pages);
    }
    const c = this.copy;
    const written = this.mem.writtenSinceCopy as Uint8Array;
    const from = Math.max(0, Math.min(pages, first));
    const to = Math.max(from, Math.min(pages, first + count));
    if (from > c.next) written.fill(1, c.next, from);
    c.ram.set(this.mem.u8.subarray(from * PAGE_BYTES, to * PAGE_BYTES), from * PAGE_BYTES);
    c.next = Math.max(c.next, to);
  }

  /** The copy of precopySnapshot is dropped (a restore replaced RAM; the snapshot was taken). */
  private endCopy(): void {
    this.copy = null;
    this.mem.writtenSinceCopy = null;
  }

  /** RAM for a snapshot: the pre-copied buffer brought up to date (and handed over), or a plain copy. */
  private ramForSnapshot(precopied: boolean): ArrayBuffer {
    const c = this.copy;
    if (!precopied || !c) return this.mem.buffer.slice(0);
    const written = this.mem.writtenSinceCopy as Uint8Array;
    const dirty = this.mem.dirty;
    const u8 = this.mem.u8;
    const copiedBytes = c.next * PAGE_BYTES;
    for (let p = 0; p < c.next; p++) {
      if (written[p] === 0 && dirty[p] === 0) continue;
      c.ram.set(u8.subarray(p * PAGE_BYTES, (p + 1) * PAGE_BYTES), p * PAGE_BYTES);
    }
    if (copiedBytes < this.mem.size) c.ram.set(u8.subarray(copiedBytes), copiedBytes);
    this.endCopy();
    return c.ram.buffer;
  }

  /**
   * The whole machine state. `precopied`: RAM comes from precopySnapshot's buffer, brought up to
   * date, which the snapshot then owns (FT VMotion); otherwise, and when nothing was pre-copied,
   * RAM is copied now.
   */
  snapshot(opts?: { precopied?: boolean; sparse?: false }): DenseMachineSnapshot;
  snapshot(opts: { precopied?: boolean; sparse: boolean }): MachineSnapshot;
  snapshot(opts: { precopied?: boolean; sparse?: boolean } = {}): MachineSnapshot {
    return {
      icount: this.hart.icount,
      ram: opts.sparse === true && opts.precopied !== true ? this.mem.sparse() : this.ramForSnapshot(opts.precopied === true),
      cpu: this.hart.snapshot(),
      devices: this.deviceStates(),
      config: { ramSize: this.mem.size, tohostAddr: this.hart.tohostAddr === -1 ? null : this.hart.tohostAddr },
      hashCache: this.hasher.cache(),
    };
  }

  /** Validates everything first; a snapshot that does not fit throws and changes nothing. */
  restore(snap: MachineSnapshot): void {
    const ram = snap.ram;
    if (ram instanceof ArrayBuffer) {
      if (snap.config.ramSize !== this.mem.size || ram.byteLength !== this.mem.size) {
        throw new SnapshotError(`snapshot RAM is ${ram.byteLength} bytes (config ${snap.config.ramSize}), this machine has ${this.mem.size}`);
      }
    } else {
      if (snap.config.ramSize !== this.mem.size) throw new SnapshotError(`snapshot RAM is ${snap.config.ramSize} bytes, this machine has ${this.mem.size}`);
      try {
        checkSparse(ram, this.mem.size);
      } catch (e) {
        throw new SnapshotError((e as Error).message);
      }
    }
    const states = snap.devices as Record<string, Record<string, unknown> | undefined>;
    const parsed = {
      clint: Clint.parse(deviceState(states, 'clint')),
      uart: Uart.parse(deviceState(states, 'uart')),
      nic: Nic.parse(deviceState(states, 'nic')),
      disk: Disk.parse(deviceState(states, 'disk')),
    };
    if (parsed.disk.blocks !== this.disk.blocks) {
      throw new SnapshotError(`snapshot disk has ${parsed.disk.blocks} blocks, this machine ${this.disk.blocks}`);
    }
    const probe = new Hart(new Memory(RAM_BASE, 4096), { load: () => null, store: () => false }, { translate: false });
    try {
      probe.restore(snap.cpu); // validate the cpu image before touching this machine
    } catch (e) {
      throw new SnapshotError(`snapshot cpu state: ${(e as Error).message}`);
    }
    if (probe.icount !== snap.icount) throw new SnapshotError(`snapshot icount ${snap.icount} disagrees with its cpu state (${probe.icount})`);
    this.hart.restore(snap.cpu);
    this.endCopy();
    if (ram instanceof ArrayBuffer) this.mem.replace(ram);
    else this.mem.replaceSparse(ram);
    if (snap.hashCache) this.hasher.adopt(snap.hashCache);
    for (const d of this.devices) d.restore(deviceState(states, d.name)); // parsed above: cannot throw
  }

  private deviceStates(): Record<string, Record<string, unknown>> {
    const out: Record<string, Record<string, unknown>> = {};
    for (const d of this.devices) out[d.name] = d.snapshot();
    return out;
  }
}

function deviceState(states: Record<string, Record<string, unknown> | undefined>, name: string): Record<string, unknown> {
  const s = states[name];
  if (typeof s !== 'object' || s === null) throw new SnapshotError(`snapshot has no state for device ${name}`);
  return s;
}

/** Every segment and the entry point must lie in RAM. */
function checkFits(image: ElfImage, ramSize: number): void {
  const inRam = (addr: number, len: number): boolean => {
    const off = ((addr >>> 0) - RAM_BASE) >>> 0;
    return off < ramSize && len <= ramSize - off;
  };
  for (const seg of image.segments) {
    if (seg.data.length > seg.memsz) throw new LoadError(`segment at 0x${hex(seg.vaddr)} has ${seg.data.length} file bytes but memsz ${seg.memsz}`);
    if (!inRam(seg.vaddr, seg.memsz)) {
      throw new LoadError(`segment 0x${hex(seg.vaddr)}+${seg.memsz} does not fit RAM 0x${hex(RAM_BASE)}+${ramSize}`);
    }
  }
  if (!inRam(image.entry, 2)) throw new LoadError(`entry point 0x${hex(image.entry)} is outside RAM`);
}

function hex(n: number): string {
  return (n >>> 0).toString(16);
}
