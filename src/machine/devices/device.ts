/**
 * What a device may ask of the machine it sits in, and small checkers for restoring device state.
 *
 * Devices never hold the hart: they see the retired-instruction count, the nondeterminism source,
 * the output sink and their interrupt line only through `DeviceHost`, so each device can be tested
 * alone with a fake host (devices/testing.ts) and cannot tell whether the hypervisor is a primary,
 * a backup or a test.
 */
import type { MachineOutput, NondetKind } from '../types';
import type { IrqLine } from '../bus';

export interface DeviceHost {
  /** Instructions retired before the current access: exact during any MMIO call. */
  icount(): number;
  /** One nondeterministic 32-bit value, consulted at the current instruction. */
  readNondet(kind: NondetKind): number;
  /** Hand an output to the sink now. */
  emit(out: MachineOutput): void;
  setIrq: IrqLine;
  /** The current level of mip bit `bit` (a line the device drives; the hart keeps it in mip). */
  irqLevel(bit: number): boolean;
}

/** A device snapshot that does not fit the device: the host handed us someone else's state. */
export class DeviceStateError extends Error {
  override name = 'DeviceStateError';
}

/** Reads field `key` of a snapshot as an unsigned 32-bit integer, or throws DeviceStateError. */
export function u32Field(device: string, state: Record<string, unknown>, key: string): number {
  const v = state[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffff_ffff) {
    throw new DeviceStateError(`${device} state: ${key} must be a u32, got ${String(v)}`);
  }
  return v;
}

/** Reads a non-negative safe integer (counters that may pass 2^32). */
export function countField(device: string, state: Record<string, unknown>, key: string): number {
  const v = state[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw new DeviceStateError(`${device} state: ${key} must be a non-negative integer, got ${String(v)}`);
  }
  return v;
}

export function boolField(device: string, state: Record<string, unknown>, key: string): boolean {
  const v = state[key];
  if (typeof v !== 'boolean') throw new DeviceStateError(`${device} state: ${key} must be a boolean`);
  return v;
}

export function bytesField(device: string, state: Record<string, unknown>, key: string): Uint8Array {
  const v = state[key];
  if (!(v instanceof Uint8Array)) throw new DeviceStateError(`${device} state: ${key} must be a Uint8Array`);
  return v;
}
