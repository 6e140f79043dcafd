import { describe, expect, it } from 'vitest';
import { Rng } from './rng';
import { FakeDeviceHost } from '../testing/fake-host';
import { RNG_DATA, RNG_STATUS } from '../memmap';

describe('Rng', () => {
  it('returns each DATA read from the nondeterminism source at the reading icount', () => {
    const host = new FakeDeviceHost();
    const rng = new Rng(host);
    host.nondetValues.rng.push(0xdead_beef, 7);
    host.icountNow = 10;
    expect(rng.load(RNG_DATA, 4)).toBe(0xdead_beef);
    host.icountNow = 11;
    expect(rng.load(RNG_DATA, 4)).toBe(7);
    expect(host.nondetReads).toEqual([{ kind: 'rng', icount: 10 }, { kind: 'rng', icount: 11 }]);
    expect(rng.load(RNG_STATUS, 4)).toBe(1);
    expect(rng.store()).toBe(false);
    expect(rng.load(0x8, 4)).toBeNull();
  });
});
