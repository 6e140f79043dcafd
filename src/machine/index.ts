/** The guest machine's public surface: what src/ft, src/sim, src/runtime and the cli use. */
export { Machine, LoadError, SnapshotError, NondetUnsetError, type MachineOptions } from './machine';
export { ElfError, parseElf, type ElfImage, type ElfSegment } from './elf';
export { MemoryError } from './memory';
export { DiskCompletionError, DISK_BLOCKS_DEFAULT } from './devices/disk';
export { DeviceStateError } from './devices/device';
export { CONSOLE_BATCH_BYTES } from './devices/uart';
export { StateHasher, WordHasher } from './hash';
export type {
  DiskRequest, GuestMachine, MachineOutput, MachineSnapshot, NondetKind, NondetSource, OutputSink,
  PacketDelivery, RunResult, StopReason,
} from './types';
export * as memmap from './memmap';
