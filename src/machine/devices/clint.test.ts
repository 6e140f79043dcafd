import { describe, expect, it } from 'vitest';
import { Clint } from './clint';
import { FakeDeviceHost } from '../testing/fake-host';
import { CLINT_MSIP, CLINT_MTIME, CLINT_MTIMECMP, IRQ_MSIP, IRQ_MTIP } from '../memmap';
import { DeviceStateError } from './device';

function setup(): { host: FakeDeviceHost; clint: Clint } {
  const host = new FakeDeviceHost();
  return { host, clint: new Clint(host) };
}

describe('Clint', () => {
  it('has no deadline until mtimecmp is written, and none when it is all ones', () => {
    const { clint } = setup();
    expect(clint.timerDeadline()).toBeNull();
    clint.store(CLINT_MTIMECMP + 4, 4, 0xffff_ffff);
    clint.store(CLINT_MTIMECMP, 4, 0xffff_ffff);
    expect(clint.timerDeadline()).toBeNull();
    clint.store(CLINT_MTIMECMP, 4, 1000);
    clint.store(CLINT_MTIMECMP + 4, 4, 2);
    expect(clint.timerDeadline()).toBe(2 * 2 ** 32 + 1000);
    expect(clint.load(CLINT_MTIMECMP, 4)).toBe(1000);
    expect(clint.load(CLINT_MTIMECMP + 4, 4)).toBe(2);
  });

  it('raises MTIP only when the host delivers the timer, and a mtimecmp write clears it', () => {
    const { host, clint } = setup();
    clint.store(CLINT_MTIMECMP, 4, 5); // deadline already in the past: still no interrupt
    expect(host.level(IRQ_MTIP)).toBe(false);
    clint.deliverTimer();
    expect(host.level(IRQ_MTIP)).toBe(true);
    clint.store(CLINT_MTIMECMP + 4, 4, 0xffff_ffff);
    expect(host.level(IRQ_MTIP)).toBe(false);
  });

  it('has no deadline while MTIP is raised; any mtimecmp write, even of the same value, re-arms it', () => {
    const { host, clint } = setup();
    clint.store(CLINT_MTIMECMP + 4, 4, 0);
    clint.store(CLINT_MTIMECMP, 4, 5);
    expect(clint.timerDeadline()).toBe(5);
    clint.deliverTimer();
    expect(clint.timerDeadline()).toBeNull(); // delivered, not yet handled: nothing new to deliver
    clint.store(CLINT_MTIMECMP, 4, 5); // the guest re-arms the same, already past, deadline
    expect(host.level(IRQ_MTIP)).toBe(false);
    expect(clint.timerDeadline()).toBe(5);
    clint.deliverTimer();
    clint.store(CLINT_MTIMECMP + 4, 4, 0); // a write to the high word re-arms too
    expect(clint.timerDeadline()).toBe(5);
  });

  it('reads mtime from the nondeterminism source at the current icount', () => {
    const { host, clint } = setup();
    host.nondetValues['time-lo'].push(0x1234_5678);
    host.nondetValues['time-hi'].push(9);
    host.icountNow = 77;
    expect(clint.load(CLINT_MTIME, 4)).toBe(0x1234_5678);
    host.icountNow = 78;
    expect(clint.load(CLINT_MTIME + 4, 4)).toBe(9);
    expect(host.nondetReads).toEqual([{ kind: 'time-lo', icount: 77 }, { kind: 'time-hi', icount: 78 }]);
  });

  it('drives MSIP from msip bit 0 and rejects unknown offsets and byte access', () => {
    const { host, clint } = setup();
    clint.store(CLINT_MSIP, 4, 3);
    expect(host.level(IRQ_MSIP)).toBe(true);
    expect(clint.load(CLINT_MSIP, 4)).toBe(1);
    expect(clint.load(0x8, 4)).toBeNull();
    expect(clint.load(CLINT_MSIP, 1)).toBeNull();
    expect(clint.store(0x8, 4, 0)).toBe(false);
  });

  it('snapshots and restores its registers, and rejects a malformed state', () => {
    const { clint } = setup();
    clint.store(CLINT_MTIMECMP, 4, 42);
    clint.store(CLINT_MTIMECMP + 4, 4, 0);
    const snap = structuredClone(clint.snapshot());
    const other = setup().clint;
    other.restore(snap);
    expect(other.timerDeadline()).toBe(42);
    expect(() => other.restore({ ...snap, mtimecmpLo: -1 })).toThrow(DeviceStateError);
    expect(other.timerDeadline()).toBe(42);
  });
});
