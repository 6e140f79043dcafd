/**
 * A DeviceHost for testing a device alone: a settable icount, a scripted nondeterminism source that
 * records every read, a recorded output list and a recorded interrupt-line level per mip bit.
 */
import type { DeviceHost } from '../devices/device';
import type { MachineOutput, NondetKind } from '../types';

export class FakeDeviceHost implements DeviceHost {
  icountNow = 0;
  readonly outputs: MachineOutput[] = [];
  readonly nondetReads: { kind: NondetKind; icount: number }[] = [];
  readonly irq = new Map<number, boolean>();
  /** Values returned by readNondet, by kind, in order. */
  readonly nondetValues: Record<NondetKind, number[]> = { 'time-lo': [], 'time-hi': [], rng: [] };

  icount(): number {
    return this.icountNow;
  }

  readNondet(kind: NondetKind): number {
    this.nondetReads.push({ kind, icount: this.icountNow });
    const v = this.nondetValues[kind].shift();
    if (v === undefined) throw new Error(`test host has no ${kind} value left`);
    return v;
  }

  emit(out: MachineOutput): void {
    this.outputs.push(out);
  }

  setIrq = (bit: number, level: boolean): void => {
    this.irq.set(bit, level);
  };

  level(bit: number): boolean {
    return this.irq.get(bit) ?? false;
  }

  irqLevel(bit: number): boolean {
    return this.level(bit);
  }
}
