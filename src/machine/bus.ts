/**
 * Memory-mapped I/O as the hart sees it. RAM accesses never come here (the hart reads Memory's
 * views directly); everything else does. A device returns null / false for an address it does not
 * decode, and the hart raises the access-fault trap (privileged spec §3.7: load/store access fault).
 *
 * During any call into the bus, `hart.icount` is exact, so a device that needs the instruction count
 * (the CLINT's nondeterministic mtime read, an output's timestamp) reads it from the hart.
 */
export interface Mmio {
  load(addr: number, size: 1 | 2 | 4): number | null;
  store(addr: number, size: 1 | 2 | 4, value: number): boolean;
}

/** One device on the bus: a window [base, base+size) and its register handlers (offsets). */
export interface MmioDevice {
  readonly name: string;
  readonly base: number;
  readonly size: number;
  load(offset: number, size: 1 | 2 | 4): number | null;
  store(offset: number, size: 1 | 2 | 4, value: number): boolean;
  snapshot(): Record<string, unknown>;
  restore(state: Record<string, unknown>): void;
}

/** Interrupt line from a device to the hart: sets or clears one mip bit (see memmap.ts IRQ_*). */
export type IrqLine = (bit: number, level: boolean) => void;
