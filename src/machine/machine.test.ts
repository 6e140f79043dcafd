import { describe, expect, it } from 'vitest';
import { LoadError, Machine, NondetUnsetError, SnapshotError } from './machine';
import { ElfError } from './elf';
import { RAM_BASE, UART_BASE } from './memmap';
import { guestElf } from './testing/guest-elf';

function patched(bytes: Uint8Array, edit: (v: DataView) => void): Uint8Array {
  const copy = bytes.slice();
  edit(new DataView(copy.buffer));
  return copy;
}

describe('Machine.fromElf', () => {
  const counter = guestElf('counter');

  it('loads the segments, sets the entry point and finds tohost', () => {
    const m = Machine.fromElf(counter);
    expect(m.hart.pc).toBe(new DataView(counter.buffer, counter.byteOffset).getUint32(24, true));
    expect(m.icount).toBe(0);
    expect(m.hart.tohostAddr).toBeGreaterThan(RAM_BASE);
    const text = counter.subarray(0x1000, 0x1010);
    expect(m.mem.read(RAM_BASE, 16)).toEqual(text);
    expect(m.snapshot().config.tohostAddr).toBe(m.hart.tohostAddr);
  });

  it('rejects truncated, 64-bit and non-RISC-V files with an ElfError', () => {
    expect(() => Machine.fromElf(counter.subarray(0, 30))).toThrow(ElfError);
    expect(() => Machine.fromElf(counter.subarray(0, 100))).toThrow(ElfError);
    expect(() => Machine.fromElf(patched(counter, (v) => v.setUint8(4, 2)))).toThrow(/64-bit/);
    expect(() => Machine.fromElf(patched(counter, (v) => v.setUint16(18, 62, true)))).toThrow(/not RISC-V/);
    expect(() => Machine.fromElf(new TextEncoder().encode('#!/bin/sh\n'))).toThrow(ElfError);
  });

  it('rejects a segment outside RAM, or a RAM too small for it, with a LoadError', () => {
    const phoff = new DataView(counter.buffer, counter.byteOffset).getUint32(28, true);
    expect(() => Machine.fromElf(patched(counter, (v) => v.setUint32(phoff + 8, 0x1000, true)))).toThrow(LoadError);
    expect(() => Machine.fromElf(counter, { ramSize: 16 * 1024 })).toThrow(/does not fit RAM/);
    expect(() => Machine.fromElf(patched(counter, (v) => v.setUint32(24, 0x100, true)))).toThrow(/entry point/);
  });
});

describe('Machine', () => {
  it('stops with a clear error when the guest reads time and no nondeterminism source is set', () => {
    const m = Machine.fromElf(guestElf('ticker'));
    expect(() => m.run(1_000_000)).toThrow(NondetUnsetError);
  });

  it('routes MMIO to devices by address and reports unmapped addresses', () => {
    const m = new Machine({ ramSize: 64 * 1024 });
    const sent: string[] = [];
    m.setOutputSink({ output: (o) => { if (o.kind === 'console') sent.push(new TextDecoder().decode(o.bytes)); } });
    // li a0, UART_BASE; li a1, 'A'; sb a1, 0(a0); wfi
    const prog = [0x10000537, 0x04100593, 0x00b50023, 0x10500073];
    m.mem.write(RAM_BASE, new Uint8Array(new Int32Array(prog).buffer));
    expect(m.run(10).reason).toBe('wfi');
    // The UART hands text out at a newline (a point in the guest's instruction stream, so primary
    // and backup cut it alike), not at the end of a run; a host's final stop flushes the rest.
    expect(sent).toEqual([]);
    m.flushConsole();
    expect(sent).toEqual(['A']);
    expect(UART_BASE).toBe(0x1000_0000);
  });

  it('restore validates before changing anything', () => {
    const m = Machine.fromElf(guestElf('counter'));
    const snap = m.snapshot();
    const before = m.stateHash();
    const other = new Machine({ ramSize: 1024 * 1024 });
    expect(() => other.restore(snap)).toThrow(SnapshotError);
    expect(() => m.restore({ ...snap, devices: { ...snap.devices, nic: undefined } })).toThrow(/nic/);
    expect(() => m.restore({ ...snap, cpu: new ArrayBuffer(8) })).toThrow(SnapshotError);
    expect(() => m.restore({ ...snap, devices: { ...snap.devices, disk: { ...(snap.devices.disk as object), count: -1 } } })).toThrow(/count/);
    expect(() => m.restore({ ...snap, icount: 5 })).toThrow(/icount/);
    expect(m.stateHash()).toBe(before);
  });

  it('changes its state hash when RAM, a register or a device register changes', () => {
    const a = Machine.fromElf(guestElf('counter'));
    const h0 = a.stateHash();
    a.mem.write(RAM_BASE + 0x20000, new Uint8Array([1]));
    const h1 = a.stateHash();
    expect(h1).not.toBe(h0);
    a.hart.regs[5] = 1;
    const h2 = a.stateHash();
    expect(h2).not.toBe(h1);
    a.deliverUart(new Uint8Array([1]));
    expect(a.stateHash()).not.toBe(h2);
  });
});
