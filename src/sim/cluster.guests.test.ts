/**
 * Small hand-assembled guests under FT in the simulator, for machine behaviour the shipped guests
 * do not exercise: a timer re-armed to a deadline already past (MTIP is a level, privileged spec
 * §3.2.1, so it must interrupt again, every time), and disk requests that the disk server fails
 * (the guest must see the error, on the primary and on the backup alike).
 */
import { describe, expect, it } from 'vitest';
import { Cluster } from './cluster';
import { Machine } from '../machine/machine';
import { guestClusterConfig } from './guests';
import { readGuestElf } from './guest-files';
import { CLINT_BASE, CLINT_MTIMECMP, DISK_BASE, DISK_STATUS_ERROR, RAM_BASE } from '../machine/memmap';
import { addi, bne, csr, csrw, iType, jal, li, lw, MRET, sw, WFI } from '../machine/testing/encode';

const andi = (rd: number, rs1: number, imm: number): number => iType(0x13, 7, rd, rs1, imm);
const RESULT = RAM_BASE + 0x800;

/** A machine whose RAM starts with `words` (32-bit instructions), pc at RAM_BASE. */
function programMachine(words: number[], diskBlocks?: number): Machine {
  const m = new Machine({ ramSize: 64 * 1024, diskBlocks });
  const bytes = new Uint8Array(words.length * 4);
  words.forEach((w, i) => new DataView(bytes.buffer).setUint32(i * 4, w >>> 0, true));
  m.mem.write(RAM_BASE, bytes);
  m.hart.reset(RAM_BASE);
  return m;
}

function word(m: Machine, addr: number): number {
  return new DataView(m.mem.buffer).getUint32(addr - RAM_BASE, true);
}

/** Counts timer interrupts at RESULT; the handler re-arms the same deadline, long past. */
function rearmingTimerProgram(): number[] {
  const handlerAt = 18 * 4;
  const main = [
    ...li(5, RAM_BASE + handlerAt), csrw(0x305, 5), // mtvec = handler
    ...li(5, 0x80), csrw(0x304, 5), // mie.MTIE
    ...li(6, CLINT_BASE + CLINT_MTIMECMP),
    sw(0, 6, 4), // mtimecmph = 0
    ...li(7, 1_000), sw(7, 6, 0), // mtimecmp = 1000 µs
    ...li(28, RESULT),
    csr(6, 0, 0x300, 8), // csrsi mstatus, MIE
    WFI, jal(0, -4), // idle for ever
  ];
  while (main.length < 18) main.push(addi(0, 0, 0));
  const handler = [
    lw(29, 28, 0), addi(29, 29, 1), sw(29, 28, 0), // count++
    sw(7, 6, 0), // mtimecmp = the same 1000 µs: already past, so MTIP is pending again
    MRET,
  ];
  return [...main, ...handler];
}

/** Reads, then writes, a sector the disk server does not have; stores each final STATUS. */
function failingDiskProgram(sector: number): number[] {
  const request = (cmd: number, slot: number): number[] => [
    ...li(8, cmd), sw(8, 5, 0x08), // CMD
    lw(9, 5, 0x18), andi(10, 9, 1), bne(10, 0, -8), // poll while BUSY
    sw(9, 28, slot), // the status the guest saw
    ...li(8, 6), sw(8, 5, 0x18), // clear DONE/ERROR
  ];
  return [
    ...li(5, DISK_BASE), ...li(28, RESULT),
    ...li(6, sector), sw(6, 5, 0x0c), // SECTOR
    ...li(7, RAM_BASE + 0x1000), sw(7, 5, 0x10), // DMA_ADDR
    ...li(8, 1), sw(8, 5, 0x14), // COUNT = 1
    ...request(1, 0), // READ
    ...request(2, 4), // WRITE
    WFI, jal(0, -4),
  ];
}

describe('hand-assembled guests under FT', () => {
  it('a guest re-arming a past timer deadline gets every interrupt, on both VMs', () => {
    const c = new Cluster({ seed: 3, makeMachine: () => programMachine(rearmingTimerProgram()), ft: { hashIntervalInstructions: 5_000 } });
    c.run(40_000);
    const s = c.finish();
    expect(s.drained).toBe(true);
    expect(c.violations()).toEqual([]);
    const [a, b] = c.hosts;
    const count = word(a.machine as Machine, RESULT);
    // One interrupt per host slice boundary once the deadline has passed: far more than one.
    expect(count).toBeGreaterThan(100);
    expect(word(b.machine as Machine, RESULT)).toBe(count);
    const timers = c.trace.filter((e) => e.ev === 'entry-applied' && e.vm === 'B' && e.kind === 'timer').length;
    expect(timers).toBe(count);
  });

  it('a disk request the disk server fails is seen as an error by the guest on both VMs', () => {
    // The machine's disk claims 4096 blocks; the disk server has 2048: sector 3000 fails there.
    const c = new Cluster({ seed: 4, makeMachine: () => programMachine(failingDiskProgram(3000), 4096), ft: { hashIntervalInstructions: 2_000 } });
    c.run(50_000);
    const s = c.finish();
    expect(s.drained).toBe(true);
    expect(c.violations()).toEqual([]);
    for (const h of c.hosts) {
      const m = h.machine as Machine;
      expect(word(m, RESULT) & DISK_STATUS_ERROR, `${h.name} read status`).toBe(DISK_STATUS_ERROR);
      expect(word(m, RESULT + 4) & DISK_STATUS_ERROR, `${h.name} write status`).toBe(DISK_STATUS_ERROR);
    }
    const failed = c.trace.filter((e) => e.ev === 'entry-applied' && e.vm === 'B' && e.kind === 'disk-done');
    expect(failed.length).toBe(2);
  });
});

describe('a guest that exits', () => {
  /** A guest that counts down `loops` times, then writes 1 to tohost (a clean exit). */
  const exiting = (loops: number) => (): Machine => {
    const TOHOST = RAM_BASE + 0x900;
    const m = programMachine([...li(5, loops), addi(5, 5, -1), bne(5, 0, -4), ...li(6, TOHOST), ...li(7, 1), sw(7, 6, 0), jal(0, 0)]);
    m.hart.tohostAddr = TOHOST;
    return m;
  };

  it('stops on both VMs at the same icount, and the backup does not call it a divergence', () => {
    const c = new Cluster({ seed: 5, makeMachine: exiting(20_000), ft: { hashIntervalInstructions: 7_000 } });
    c.run(100_000);
    const stopped = c.trace.filter((e) => e.ev === 'guest-stopped');
    expect(stopped.map((e) => e.vm).sort()).toEqual(['A', 'B']);
    expect(stopped.every((e) => e.ev === 'guest-stopped' && e.reason === 'exit')).toBe(true);
    expect(c.trace.filter((e) => e.ev === 'divergence')).toEqual([]);
    const [a, b] = c.hosts.map((h) => (h.machine as Machine).icount);
    expect(a).toBe(b);
    expect(a).toBeGreaterThan(40_000);
  });

  it('leaves both hosts alive: they go on heartbeating, and nobody goes live on a stopped guest', () => {
    const c = new Cluster({ seed: 6, makeMachine: exiting(5_000) });
    c.run(2_000_000); // many failure timeouts past the stop
    const stoppedAt = Math.max(...c.trace.filter((e) => e.ev === 'guest-stopped').map((e) => e.tUs));
    expect(c.trace.filter((e) => e.ev === 'heartbeat-sent' && e.tUs > stoppedAt + 1_000_000).map((e) => e.vm).sort()).toContain('B');
    expect(c.trace.filter((e) => ['failure-suspected', 'went-live', 'halted'].includes(e.ev))).toEqual([]);
    expect(c.hosts.map((h) => h.role)).toEqual(['primary', 'backup']);
  });
});

describe('hash checks cannot be fooled', () => {
  const counter = (seed: number): Cluster => {
    const elf = readGuestElf('counter');
    return new Cluster({ ...guestClusterConfig('counter', elf, seed, 2) });
  };

  it('a fault injected into the primary\'s RAM is caught at the next hash entry', () => {
    const c = counter(5);
    c.run(200_000);
    (c.hosts[0].machine as Machine).injectRamWrite(RAM_BASE + 0xf0_0000, Uint8Array.of(0xde, 0xad));
    c.run(400_000);
    c.finish();
    const v = c.violations().map((x) => x.what);
    expect(v.some((w) => /diverged .*state hash/.test(w))).toBe(true);
  });

  it('a write that bypasses dirty tracking is caught by the full-state hash that ends the run', () => {
    const c = counter(6);
    c.run(200_000);
    const m = c.hosts[0].machine as Machine;
    new Uint8Array(m.mem.buffer)[0xf0_0000] ^= 0xff; // behind the per-page cache's back
    c.run(400_000);
    expect(c.trace.some((e) => e.ev === 'divergence')).toBe(false); // the cached hashes miss it…
    c.finish();
    const d = c.trace.find((e) => e.ev === 'divergence');
    expect(d && d.ev === 'divergence' && d.reason).toMatch(/state hash/); // …the full one does not
    expect(c.violations().length).toBeGreaterThan(0);
  });
});
