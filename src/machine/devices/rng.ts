/**
 * Hardware random number generator.
 *
 *   off   reg     access
 *   0x00  DATA    r   one fresh 32-bit random value per read: a nondeterministic read ('rng')
 *   0x04  STATUS  r   bit0 ready (always 1: the host source never blocks)
 *
 * The value comes from the injected NondetSource at the reading instruction, so the primary's
 * hypervisor logs it and the backup reads the same value back from the log (docs/design.md §4).
 */
import { RNG_BASE, RNG_DATA, RNG_SIZE, RNG_STATUS } from '../memmap';
import type { MmioDevice } from '../bus';
import type { DeviceHost } from './device';

export class Rng implements MmioDevice {
  readonly name = 'rng';
  readonly base = RNG_BASE;
  readonly size = RNG_SIZE;

  constructor(private readonly host: DeviceHost) {}

  load(offset: number, size: 1 | 2 | 4): number | null {
    if (size !== 4) return null;
    if (offset === RNG_DATA) return this.host.readNondet('rng') >>> 0;
    if (offset === RNG_STATUS) return 1;
    return null;
  }

  store(): boolean {
    return false; // read-only device: a store is an access fault
  }

  snapshot(): Record<string, unknown> {
    return {};
  }

  restore(): void {}
}
