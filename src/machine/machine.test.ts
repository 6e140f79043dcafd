import { describe, expect, it } from 'vitest';
import { LoadError, Machine, NondetUnsetError, SnapshotError } from './machine';
import { ElfError } from './elf';
import { CLINT_BASE, CLINT_MTIMECMP, RAM_BASE, UART_BASE } from './memmap';
import { MemoryError } from './memory';
import { guestElf } from './testing/guest-elf';
import * as A from './testing/encode';

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

describe('timer level semantics', () => {
  /**
   * A guest whose timer handler counts in x20 and re-arms mtimecmp with the same deadline, 5 µs —
   * long past for a host whose clock says 1000 µs — then returns to a spin loop.
   */
  function rearmingGuest(): Machine {
    const handler = RAM_BASE + 0x100;
    const prog = [...A.li(1, handler), A.csrw(0x305, 1), ...A.li(1, 0x80), A.csrw(0x304, 1),
      ...A.li(10, CLINT_BASE + CLINT_MTIMECMP), A.sw(0, 10, 4), A.addi(11, 0, 5), A.sw(11, 10, 0),
      A.addi(1, 0, 8), A.csrw(0x300, 1), A.jal(0, 0)];
    const m = new Machine({ ramSize: 64 * 1024 });
    m.mem.write(RAM_BASE, new Uint8Array(new Uint32Array(prog).buffer));
    m.mem.write(handler, new Uint8Array(new Uint32Array([A.addi(20, 20, 1), A.sw(11, 10, 0), A.MRET]).buffer));
    return m;
  }

  it('a guest that re-arms the same past deadline gets the timer every time', () => {
    const m = rearmingGuest();
    const nowUs = 1000;
    let delivered = 0;
    for (let i = 0; i < 20; i++) {
      m.run(50);
      const deadline = m.timerDeadline();
      if (deadline !== null && deadline <= nowUs) {
        expect(deadline).toBe(5);
        m.deliverTimer();
        delivered++;
        expect(m.timerDeadline()).toBeNull(); // raised and not yet handled: nothing to deliver
      }
    }
    expect(delivered).toBe(20);
    m.run(50);
    expect(m.hart.regs[20]).toBe(20);
  });

  it('a raised MTIP travels in the snapshot: the restored machine has nothing to deliver either', () => {
    const m = rearmingGuest();
    m.run(50);
    m.deliverTimer();
    const other = new Machine({ ramSize: 64 * 1024 });
    other.restore(structuredClone(m.snapshot()));
    expect(other.timerDeadline()).toBeNull();
    other.run(50);
    expect(other.timerDeadline()).toBe(5);
    expect(other.hart.regs[20]).toBe(1);
  });
});

describe('state hash against writes that bypass dirty tracking', () => {
  it('a direct write into RAM is missed by the cached hash and caught by the full hash', () => {
    const m = Machine.fromElf(guestElf('counter'));
    const clean = m.stateHash();
    expect(m.stateHash({ full: true })).toBe(clean); // the cache is right when nothing bypassed it
    m.mem.u8[0x2_0000] ^= 0x10; // a flip straight into the buffer: no page marked dirty
    expect(m.stateHash()).toBe(clean);
    const full = m.stateHash({ full: true });
    expect(full).not.toBe(clean);
    expect(m.stateHash()).toBe(full); // the full hash refreshed the cache
    m.mem.u8[0x2_0000] ^= 0x10;
    expect(m.stateHash({ full: true })).toBe(clean);
  });

  it('injectRamWrite is caught by the cached and the full hash, and flipped code runs flipped', () => {
    const m = new Machine({ ramSize: 64 * 1024 });
    m.mem.write(RAM_BASE, new Uint8Array(new Uint32Array([A.addi(5, 5, 1), A.jal(0, -4)]).buffer));
    m.run(4);
    expect(m.hart.regs[5]).toBe(2);
    const clean = m.stateHash();
    m.injectRamWrite(RAM_BASE + 2, new Uint8Array([0x32])); // 0x12 → 0x32 sets imm bit 1: addi x5, x5, 3
    const flipped = m.stateHash();
    expect(flipped).not.toBe(clean);
    expect(m.stateHash({ full: true })).toBe(flipped);
    m.run(2);
    expect(m.hart.regs[5]).toBe(2 + 3);
    expect(() => m.injectRamWrite(RAM_BASE + 64 * 1024 - 1, new Uint8Array(2))).toThrow(MemoryError);
  });
});
