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

  it('first hashes only the pages its ELF loaded, and a restore carries the page-hash cache', () => {
    const a = Machine.fromElf(guestElf('bench'));
    const first = a.stateHash();
    const ramPages = a.mem.size / 4096;
    expect(a.pagesRehashedLast).toBeGreaterThan(0);
    expect(a.pagesRehashedLast).toBeLessThan(ramPages / 100); // the loaded image, not 16 MiB of zeros
    expect(a.stateHash({ full: true })).toBe(first); // reading every page agrees
    a.setNondetSource({ read: () => 0 });
    a.run(2_000_000);
    a.stateHash();
    a.run(10_000); // a few pages dirty since the last hash
    const snap = a.snapshot();
    const b = Machine.fromElf(guestElf('bench'));
    b.restore(snap);
    expect(b.stateHash()).toBe(a.stateHash());
    expect(b.pagesRehashedLast).toBeLessThan(ramPages / 100);
    expect(b.stateHash({ full: true })).toBe(a.stateHash({ full: true }));
    // A cache of the wrong size is not taken: the restore rereads everything, and still agrees.
    const c = Machine.fromElf(guestElf('bench'));
    c.restore({ ...snap, hashCache: { pages: new Uint32Array(8), dirty: new Uint8Array(4) } });
    expect(c.stateHash()).toBe(a.stateHash());
    expect(c.pagesRehashedLast).toBe(ramPages);
  });

  it('a pre-copied snapshot has the RAM of a plain one, whatever ran and was hashed during the copy', () => {
    const a = Machine.fromElf(guestElf('bench'));
    a.setNondetSource({ read: () => 0 });
    a.run(500_000);
    const pages = a.ramPages;
    const step = Math.ceil(pages / 8);
    for (let first = 0; first < pages; first += step) {
      a.precopySnapshot(first, step);
      a.run(300_000); // stores into pages already copied and not yet
      // A DMA-style write into a page just copied, then a hash that clears its dirty mark: the copy
      // must still know the page changed.
      a.mem.write(RAM_BASE + (first + 1) * 4096 + 8, new Uint8Array([first & 0xff, 7]));
      a.stateHash();
    }
    const plain = new Uint8Array(a.snapshot().ram);
    const moved = a.snapshot({ precopied: true });
    expect(Buffer.from(new Uint8Array(moved.ram)).equals(Buffer.from(plain))).toBe(true);
    // The copy is handed over with the snapshot: the next one is a plain copy again.
    expect(a.snapshot({ precopied: true }).ram).not.toBe(moved.ram);
  });

  it('a sparse snapshot holds the pages that are not zeros, and restores the same machine', () => {
    const a = Machine.fromElf(guestElf('bench'));
    a.setNondetSource({ read: () => 0 });
    a.run(300_000);
    a.stateHash(); // dirty marks cleared: the pages written must still be found
    const half = a.snapshot().config.ramSize / 2;
    a.injectRamWrite(RAM_BASE + half - 4, new Uint8Array([9])); // a page of zeros before
    const sparse = a.snapshot({ sparse: true });
    const dense = a.snapshot();
    if (sparse.ram instanceof ArrayBuffer) throw new Error('expected sparse RAM');
    expect(sparse.ram.pages.length).toBeGreaterThan(0);
    expect(sparse.ram.bytes.byteLength).toBeLessThan(dense.ram.byteLength / 8);
    const d = new Uint8Array(dense.ram);
    let nonZero = 0;
    for (let p = 0; p < d.length / 4096; p++) if (d.subarray(p * 4096, (p + 1) * 4096).some((x) => x !== 0)) nonZero++;
    expect(sparse.ram.pages.length, 'every page that is not zeros, and no other').toBe(nonZero);
    // Into a machine that ran elsewhere (pages to clear) and into a fresh one.
    for (const b of [Machine.fromElf(guestElf('bench')), Machine.fromElf(guestElf('bench'))]) {
      b.setNondetSource({ read: () => 7 });
      b.run(450_000);
      b.injectRamWrite(RAM_BASE + half + 4096, new Uint8Array([1, 2, 3]));
      b.restore(structuredClone(sparse));
      expect(Buffer.from(new Uint8Array(b.snapshot().ram)).equals(Buffer.from(d))).toBe(true);
      expect(b.stateHash({ full: true })).toBe(a.stateHash({ full: true }));
      expect(b.stateHash()).toBe(a.stateHash());
      a.run(10_000);
      b.run(10_000);
      expect(b.stateHash()).toBe(a.stateHash());
      a.restore(structuredClone(sparse));
    }
  });

  it('a malformed sparse snapshot is refused and changes nothing', () => {
    const a = Machine.fromElf(guestElf('bench'));
    a.setNondetSource({ read: () => 0 });
    a.run(100_000);
    const good = a.snapshot({ sparse: true });
    if (good.ram instanceof ArrayBuffer) throw new Error('expected sparse RAM');
    expect(good.ram.pages.length).toBeGreaterThan(1);
    const before = a.stateHash({ full: true });
    const bad = [
      { ...good.ram, pages: Uint32Array.from([...good.ram.pages].reverse()) },
      { ...good.ram, pages: Uint32Array.from([...good.ram.pages.slice(1), 1 << 20]) },
      { ...good.ram, bytes: new ArrayBuffer(4096) },
      { ...good.ram, size: 4096 },
      null,
    ];
    for (const ram of bad) {
      expect(() => a.restore({ ...good, ram: ram as never })).toThrow(SnapshotError);
      expect(a.stateHash({ full: true })).toBe(before);
    }
  });

  it('a copy begun before a restore counts the pages it never saw as written', () => {
    const a = Machine.fromElf(guestElf('bench'));
    a.setNondetSource({ read: () => 0 });
    a.run(200_000);
    const snap = a.snapshot();
    const b = Machine.fromElf(guestElf('bench'));
    b.precopySnapshot(0, 64);
    b.restore(snap); // drops the copy
    b.precopySnapshot(128, 64); // resumes mid-way, as a host restored mid-copy does
    b.setNondetSource({ read: () => 0 });
    b.run(100_000);
    expect(Buffer.from(new Uint8Array(b.snapshot({ precopied: true }).ram)).equals(Buffer.from(new Uint8Array(b.snapshot().ram)))).toBe(true);
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
