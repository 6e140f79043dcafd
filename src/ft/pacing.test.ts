/**
 * A host on a real clock (pacing.ts, VmHost.useRealClock): slices last what they really took, are
 * sized from the measured speed, and the guest's time reads are the clock's.
 */
import { describe, expect, it } from 'vitest';
import { RealClockPacing } from './pacing';
import { VmHost } from './host';
import { ToyMachine } from './testing/toy-machine';
import { XorShift32 } from './testing/xorshift';
import { decodeBatch, type LogEntry } from './log';

describe('RealClockPacing', () => {
  it('takes a slice as long as the clock says and sizes the next from the speed measured', () => {
    let t = 0;
    const p = new RealClockPacing(() => t, 1_000, 1_000_000);
    expect(p.sliceInstructions).toBe(1_000); // 1 ms at the nominal speed, until measured
    t = 1_000;
    expect(p.sliceUs(100_000, 0)).toBe(1_000);
    expect(p.sliceInstructions).toBe(1_000); // one slice of 1 ms is not yet a measurement (< 2 ms)
    t = 2_000;
    expect(p.sliceUs(100_000, 1_000)).toBe(1_000);
    expect(p.ips()).toBe(100_000_000);
    expect(p.sliceInstructions).toBe(100_000); // 1 ms at 100 M instructions a second
    // Slower now: the estimate moves toward it, and does not jump there.
    t = 12_000;
    p.sliceUs(100_000, 2_000);
    expect(p.ips()).toBeGreaterThan(10_000_000);
    expect(p.ips()).toBeLessThan(100_000_000);
  });

  it('a host at half the speed of a full one takes twice as long for what it ran (a slow backup stays slow)', () => {
    let t = 0;
    const p = new RealClockPacing(() => t, 1_000, 1_000_000, 0.5);
    t = 2_000;
    expect(p.sliceUs(200_000, 0)).toBe(4_000);
    expect(p.ips()).toBe(50_000_000); // 200 k instructions in 4 ms of its time
    expect(p.sliceInstructions).toBe(50_000);
    expect(() => new RealClockPacing(() => 0, 1_000, 1e6, 1.5)).toThrow(/relative speed/);
  });

  it('on a coarse clock (100 µs ticks), slices that took "no time" add up to the true speed', () => {
    let realUs = 0;
    const clock = (): number => Math.floor(realUs / 100) * 100;
    const p = new RealClockPacing(clock, 1_000, 1_000_000);
    let zero = 0;
    for (let i = 0; i < 150; i++) {
      const start = clock();
      realUs += 20; // 10 000 instructions in 20 µs: 500 M a second
      if (p.sliceUs(10_000, start) === 0) zero++;
    }
    expect(zero).toBeGreaterThan(100);
    expect(p.ips()).toBeGreaterThan(400_000_000);
    expect(p.ips()).toBeLessThan(600_000_000);
  });
});

describe('a VM host on a real clock', () => {
  it("runs slices sized by its speed, and its guest's time reads are the clock", () => {
    const machine = new ToyMachine({ readEvery: 97 });
    // The clock: 100 instructions a µs, whatever the model says (1 M a second).
    let base = 5_000_000;
    const clock = (): number => base + machine.icount / 100;
    const host = new VmHost({
      name: 'A', role: 'primary', peer: 'B', machine, rng: new XorShift32(3), settings: { speedIps: 1_000_000, logBufferBytesMax: 1 << 24, lagCapUs: 1e9 },
      pacing: { sliceInstructions: 1_000, nominalIps: 1_000_000, sliceUs: (r) => r },
    });
    host.useRealClock(clock);
    const entries: LogEntry[] = [];
    const perStep: number[] = [];
    const steps: { from: number; to: number; base: number }[] = [];
    for (let i = 0; i < 1_000; i++) {
      const before = machine.icount;
      const r = host.step(clock());
      perStep.push(machine.icount - before);
      steps.push({ from: before, to: machine.icount, base });
      for (const e of r.effects) if (e.ev === 'log-sent') entries.push(...decodeBatch(e.bytes));
      base += 1; // a little time between steps, as a real host has
    }
    const reads = entries.filter((e): e is Extract<LogEntry, { kind: 'nondet' }> => e.kind === 'nondet' && e.source === 'time-lo');
    expect(reads.length).toBeGreaterThan(20);
    // Each read is the clock at its instruction, to the µs.
    for (const e of reads) {
      const s = steps.find((x) => x.from <= e.icount && e.icount < x.to) as { base: number };
      expect(e.value).toBe(Math.floor(s.base + e.icount / 100));
    }
    // 1 ms slices at 100 instructions a µs: ~100 k instructions a step once measured, not the model's 1 k.
    expect(Math.max(...perStep.slice(-50))).toBeGreaterThan(50_000);
  });

  it('hashes at most every 10 ms of the real clock, where the model would hash at every interval', () => {
    const run = (real: boolean): { hashes: number; instructions: number; spanUs: number } => {
      const machine = new ToyMachine({ readEvery: 97 });
      let base = 0;
      const clock = (): number => base + machine.icount / 100; // 100 instructions a µs
      const host = new VmHost({
        name: 'A', role: 'primary', peer: 'B', machine, rng: new XorShift32(5),
        settings: { speedIps: 1_000_000, logBufferBytesMax: 1 << 24, lagCapUs: 1e9, hashIntervalInstructions: 20_000 },
        pacing: { sliceInstructions: 1_000, nominalIps: 1_000_000, sliceUs: (r) => r },
      });
      if (real) host.useRealClock(clock);
      // By icount: with no backup to ack them, batches are resent and their hashes come again.
      const hashes = new Set<number>();
      let t = 0;
      for (let i = 0; i < 1_000; i++) {
        const r = host.step(real ? clock() : (t += 1_000));
        for (const e of r.effects) if (e.ev === 'log-sent') for (const x of decodeBatch(e.bytes)) if (x.kind === 'hash') hashes.add(x.icount);
        base += 100;
      }
      return { hashes: hashes.size, instructions: machine.icount, spanUs: real ? clock() : t };
    };
    const model = run(false);
    const free = run(true);
    // The model: one hash every 20 k instructions.
    expect(model.hashes).toBeGreaterThanOrEqual(Math.floor(model.instructions / 20_000) - 1);
    // The real clock (6 M instructions in ~165 ms): not one every 20 k instructions (~320), but no
    // more than one every 10 ms of the clock, and still some.
    expect(free.instructions / 20_000).toBeGreaterThan(100);
    expect(free.hashes).toBeGreaterThan(3);
    expect(free.hashes).toBeLessThanOrEqual(Math.floor(free.spanUs / 10_000) + 1);
  });
});
