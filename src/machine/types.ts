/**
 * The contract between the guest machine and whoever drives it (the FT hypervisor in src/ft, the
 * `vm` command, tests). The machine never reads a clock, never schedules itself and never does I/O:
 * the host calls `run(budget)`, delivers asynchronous input between runs, and sees the machine's
 * effects only through the two injected interfaces below.
 */

/** Where a nondeterministic read came from. Each read yields one unsigned 32-bit value. */
export type NondetKind = 'time-lo' | 'time-hi' | 'rng';

/**
 * Consulted at the exact instruction that reads `time`/`timeh` (CSR or CLINT mtime) or the RNG.
 * `icount` is the number of instructions retired before the reading instruction. The primary's
 * hypervisor answers from its (injected) clock and logs the value; the backup answers from the log.
 */
export interface NondetSource {
  read(kind: NondetKind, icount: number): number;
}

/** What a disk request looks like when it leaves the machine. */
export interface DiskRequest {
  id: number; // per-machine request id, increasing from 1
  op: 'read' | 'write';
  sector: number;
  count: number; // blocks
  data?: Uint8Array; // write: count*512 bytes copied out of guest memory at issue (bounce buffer)
}

/** Every way the guest affects the outside world. Each carries the icount at which it happened. */
export type MachineOutput =
  | { kind: 'console'; icount: number; bytes: Uint8Array }
  | { kind: 'net-tx'; icount: number; bytes: Uint8Array }
  | { kind: 'disk'; icount: number; req: DiskRequest };

/**
 * Receives outputs synchronously, mid-run, at the instruction that produced them. The primary's
 * hypervisor holds them under the Output Rule; the backup's counts and discards them.
 */
export interface OutputSink {
  output(out: MachineOutput): void;
}

export type StopReason = 'budget' | 'wfi' | 'exit' | 'fault';

export interface RunResult {
  retired: number; // instructions retired by this call (≤ budget)
  reason: StopReason;
  /** reason 'exit': the HTIF tohost value (1 = pass; else test number << 1 | 1). */
  tohost?: number;
  /** reason 'fault': what went wrong, e.g. a trap with no usable trap vector. */
  fault?: string;
}

/** Result of offering a received packet to the NIC. */
export type PacketDelivery = 'delivered' | 'dropped-no-descriptor' | 'dropped-oversize' | 'dropped-rx-off';

/**
 * RAM as the pages of it that are not all zeros: their numbers, ascending, and their bytes, page
 * after page. The lecture guests write 7 pages of their 16 MiB, so a sparse snapshot's RAM is
 * 28 KiB, where a dense one is 16 MiB to allocate, fill, clone and fault in again.
 */
export interface SparseRam {
  size: number;
  pages: Uint32Array;
  bytes: ArrayBuffer;
}

/** A snapshot with all of its RAM in one buffer. */
export type DenseMachineSnapshot = MachineSnapshot & { ram: ArrayBuffer };

/** A whole-machine snapshot: transferable buffers plus plain data. */
export interface MachineSnapshot {
  icount: number;
  /** All of RAM (FT VMotion sends it so), or its pages that are not zeros (`sparse`: time travel). */
  ram: ArrayBuffer | SparseRam;
  cpu: ArrayBuffer; // registers, pc, CSRs
  devices: Record<string, unknown>; // each device's plain-data state
  config: { ramSize: number; tohostAddr: number | null };
  /**
   * The state hash's per-page cache as it stood (two lanes per page) and the pages written since it
   * was last brought up to date: a restore takes them, so its first hash rereads only those pages.
   * Without it a restore rereads all of RAM at the next hash.
   */
  hashCache?: { pages: Uint32Array; dirty: Uint8Array };
}

/** What the FT layer needs from a guest machine. Implemented by src/machine/machine.ts `Machine`. */
export interface GuestMachine {
  /** Instructions retired since reset: exact, deterministic, safe past 2^32 (a JS number). */
  readonly icount: number;
  /** The address of the next instruction (what the UI disassembles). */
  readonly pc: number;
  /**
   * Fault injection (optional): flip one bit of a RAM byte as a fault would — no instruction
   * retires, nothing is logged (a lecture's "not fail-stop" failure). Throws outside RAM.
   */
  flipRamBit?(addr: number, bit: number): void;
  /** Retire exactly `budget` instructions unless the guest stops earlier (wfi, exit, fault). */
  run(budget: number): RunResult;

  /** Raise the machine timer interrupt (MTIP) now; the guest clears it by writing mtimecmp. */
  deliverTimer(): void;
  /**
   * The guest's mtimecmp in µs when there is a timer interrupt to deliver, else null: not armed
   * (all ones / never written), or MTIP is still raised from the last delivery. Level semantics
   * (privileged spec §3.2.1): every guest write to mtimecmp clears MTIP, so re-writing a deadline
   * already past makes this return it again and the host delivers again. The host needs no memory
   * of what it delivered: deliver whenever this is non-null and due.
   */
  timerDeadline(): number | null;
  /** DMA a received packet into the next free RX descriptor now and raise the RX interrupt. */
  deliverPacket(bytes: Uint8Array): PacketDelivery;
  /**
   * Complete disk request `id` now and raise the interrupt: for a read, DMA `data` into guest
   * memory. With `failed` (the host's disk reported an error) nothing is DMA'd, `data` must be
   * absent, and the guest sees STATUS.ERROR instead of DONE.
   */
  completeDisk(id: number, data?: Uint8Array, failed?: boolean): void;
  /**
   * Disk requests the guest has issued that have not completed, oldest first. A backup that goes
   * live re-issues them: their completions were never logged (docs/design.md §4.9).
   */
  pendingDiskRequests(): DiskRequest[];
  /**
   * "Break it" (FT without a bounce buffer): DMA a packet's bytes now into the buffer of the free
   * RX descriptor `ahead` places past the next, completing nothing — deliverPacket still completes
   * it later. False when there is no such descriptor or it cannot take the bytes.
   */
  dmaPacketAhead(bytes: Uint8Array, ahead: number): boolean;
  /** The same for the disk: a read's data into guest memory now, while request `id` is in flight. */
  dmaDiskAhead(id: number, data: Uint8Array): boolean;
  /** Bytes arriving on the UART receive line. */
  deliverUart(bytes: Uint8Array): void;

  setNondetSource(src: NondetSource): void;
  setOutputSink(sink: OutputSink): void;

  /**
   * A hash over registers, CSRs, RAM and device state; equal states give equal hashes. RAM pages
   * may come from a per-page cache kept fresh by dirty tracking; `full` rereads every page, so a
   * write that bypassed dirty tracking cannot hide from it (and refreshes the cache).
   */
  stateHash(opts?: { full?: boolean }): string;
  /**
   * `precopied`: RAM from what precopySnapshot copied ahead, brought up to date (FT VMotion's
   * short pause); otherwise RAM is copied now. `sparse`: RAM as its pages that are not zeros.
   */
  snapshot(opts?: { precopied?: boolean; sparse?: false }): DenseMachineSnapshot;
  snapshot(opts: { precopied?: boolean; sparse: boolean }): MachineSnapshot;
  /**
   * FT VMotion's pre-copy (optional): copy RAM pages [first, first + count) for the next
   * `snapshot({ precopied: true })` while the guest runs on.
   */
  precopySnapshot?(first: number, count: number): void;
  /** RAM pages (4 KiB): what precopySnapshot walks through. */
  readonly ramPages?: number;
  restore(snap: MachineSnapshot): void;
}
