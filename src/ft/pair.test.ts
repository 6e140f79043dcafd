/**
 * Primary + backup over a direct in-test channel (no simulator), on the toy machine: replay,
 * the Output Rule, flow control and divergence detection.
 */
import { describe, expect, it } from 'vitest';
import { PrimaryHypervisor } from './primary';
import { BackupHypervisor } from './backup';
import { ToyMachine } from './testing/toy-machine';
import { XorShift32 } from './testing/xorshift';
import type { FtEffect } from './effects';
import type { FtSettings } from './settings';
import type { MachineOutput } from '../machine/types';
import { encodeBatch, decodeBatch, LogFormatError } from './log';

interface Harness {
  primary: PrimaryHypervisor;
  backup: BackupHypervisor;
  released: { out: MachineOutput; atUs: number; ackedSeq: number }[];
  run(untilUs: number, opts?: { packetEveryUs?: number; ackDelayUs?: number; backupIps?: number }): void;
}

/** Slices of 1 ms; log and acks delivered after `ackDelayUs`; disk writes complete after 300 µs. */
function harness(seed: number, settings: Partial<FtSettings> = {}, toy: ConstructorParameters<typeof ToyMachine>[0] = {}): Harness {
  const primary = new PrimaryHypervisor(new ToyMachine(toy), new XorShift32(seed), { speedIps: 1_000_000, ...settings });
  const backup = new BackupHypervisor(new ToyMachine(toy));
  const released: Harness['released'] = [];
  const queue: { atUs: number; fn: () => void }[] = [];
  let nowUs = 0;
  const h: Harness = {
    primary,
    backup,
    released,
    run(untilUs, opts = {}) {
      const ackDelayUs = opts.ackDelayUs ?? 100;
      const backupIps = opts.backupIps ?? 1_000_000;
      let nextPacketUs = opts.packetEveryUs ?? Infinity;
      const handle = (fx: FtEffect[]): void => {
        for (const e of fx) {
          if (e.kind === 'send-log') queue.push({ atUs: nowUs + ackDelayUs, fn: () => handle(backup.onLog(e.bytes)) });
          if (e.kind === 'send-ack') queue.push({ atUs: nowUs + ackDelayUs, fn: () => handle(primary.onAck(e.ack, nowUs)) });
          if (e.kind === 'release-output') {
            released.push({ out: e.out, atUs: nowUs, ackedSeq: primary.ackedSeq });
            if (e.out.kind === 'disk') {
              const id = e.out.req.id;
              queue.push({ atUs: nowUs + 300, fn: () => primary.onDiskDone(id) });
            }
          }
        }
      };
      for (; nowUs < untilUs; nowUs += 1000) {
        for (let i = 0; i < queue.length; ) {
          if (queue[i].atUs <= nowUs) queue.splice(i, 1)[0].fn();
          else i++;
        }
        if (nowUs >= nextPacketUs) {
          primary.onPacket(Uint8Array.from([nowUs & 0xff, 1, 2, 3]));
          nextPacketUs += opts.packetEveryUs as number;
        }
        handle(primary.step(nowUs, 1000).effects);
        handle(backup.step(Math.floor(backupIps / 1000)).effects);
      }
    },
  };
  return h;
}

describe('primary/backup replay on the toy machine', () => {
  it('stays in sync through timers, packets, disk completions and nondet reads', () => {
    const seed = 7;
    const h = harness(seed, { hashIntervalInstructions: 50_000 });
    h.run(400_000, { packetEveryUs: 7_300 });
    expect(h.backup.divergence, `seed ${seed}`).toBeNull();
    expect(h.backup.hashesChecked).toBeGreaterThanOrEqual(7);
    // The backup suppressed exactly the outputs the primary released, in order.
    const rel = h.released.map((r) => r.out);
    const sup = h.backup.suppressedOutputs().slice(0, rel.length);
    expect(rel.length).toBeGreaterThan(50);
    expect(sup).toEqual(rel);
  });

  it('holds each output until the ack covers an entry past its icount', () => {
    const h = harness(3);
    h.run(100_000, { packetEveryUs: 5_000, ackDelayUs: 2_000 });
    const stalls = h.primary.outputStalls();
    expect(stalls.length).toBeGreaterThan(10);
    // With 2 ms each way, nothing is released in under one round trip.
    for (const s of stalls) expect(s.releasedAtUs - s.heldAtUs).toBeGreaterThanOrEqual(2_000);
    expect(h.primary.stats().stalls.medianUs).toBeGreaterThanOrEqual(4_000);
  });

  it('releases at once with the Output Rule switched off (the break-it switch)', () => {
    const h = harness(3, { outputRuleEnabled: false });
    h.run(50_000, { packetEveryUs: 5_000, ackDelayUs: 2_000 });
    expect(h.released.length).toBeGreaterThan(5);
    expect(h.primary.outputStalls().length).toBe(0);
  });

  it('stops on a full log buffer and resumes when acks drain it', () => {
    const h = harness(5, { logBufferBytesMax: 200, progressIntervalInstructions: 500 });
    h.run(60_000, { ackDelayUs: 5_000 });
    const st = h.primary.stats();
    expect(st.logFullStalls.count).toBeGreaterThan(3);
    expect(st.logFullStalls.maxUs).toBeGreaterThanOrEqual(5_000);
    expect(h.primary.machine.icount).toBeLessThan(40_000); // ran well under its 60k budget
    expect(h.backup.divergence).toBeNull();
  });

  it('reports a divergence with its icount when a nondet value is tampered with', () => {
    const primary = new PrimaryHypervisor(new ToyMachine(), new XorShift32(1), { speedIps: 1_000_000, hashIntervalInstructions: 5_000 });
    const backup = new BackupHypervisor(new ToyMachine());
    let diverged = null as null | { icount: number; reason: string };
    for (let t = 0; t < 20_000 && !diverged; t += 1000) {
      for (const e of primary.step(t, 1000).effects) {
        if (e.kind !== 'send-log') continue;
        const entries = decodeBatch(e.bytes).map((x) => (x.kind === 'nondet' && x.source === 'rng' ? { ...x, value: x.value ^ 1 } : x));
        for (const a of backup.onLog(encodeBatch(entries))) if (a.kind === 'send-ack') primary.onAck(a.ack, t);
      }
      for (const e of backup.step(1000).effects) if (e.kind === 'divergence') diverged = e;
    }
    expect(diverged).not.toBeNull();
    expect(diverged?.reason).toMatch(/state hash/);
    expect(diverged?.icount).toBe(5_000);
  });

  it('rejects a malformed or out-of-order batch without applying any of it', () => {
    const primary = new PrimaryHypervisor(new ToyMachine(), new XorShift32(1), { speedIps: 1_000_000 });
    const backup = new BackupHypervisor(new ToyMachine());
    const batches: ArrayBuffer[] = [];
    for (let t = 0; t < 5_000; t += 1000) for (const e of primary.step(t, 1000).effects) if (e.kind === 'send-log') batches.push(e.bytes);
    expect(batches.length).toBeGreaterThan(2);
    expect(() => backup.onLog(batches[1])).toThrow(LogFormatError); // skips batch 0
    expect(backup.receivedSeq).toBe(0);
    backup.onLog(batches[0]);
    expect(backup.receivedSeq).toBeGreaterThan(0);
  });

  it('snapshot/restore of both hypervisors and machines continues identically', () => {
    const a = harness(11);
    a.run(30_000, { packetEveryUs: 4_000 });
    const ps = a.primary.snapshot();
    const bs = a.backup.snapshot();
    expect(ps.nextSeq).toBeGreaterThan(1);
    a.primary.restore(ps);
    a.backup.restore(bs);
    a.run(60_000, { packetEveryUs: 4_000 });
    expect(a.backup.divergence).toBeNull();
  });

  it('a nondet entry out of step is a divergence at the reading instruction', () => {
    const primary = new PrimaryHypervisor(new ToyMachine(), new XorShift32(1), { speedIps: 1_000_000 });
    const backup = new BackupHypervisor(new ToyMachine());
    let tampered = -1;
    let diverged = null as null | { icount: number; reason: string };
    for (let t = 0; t < 10_000 && !diverged; t += 1000) {
      for (const e of primary.step(t, 1000).effects) {
        if (e.kind !== 'send-log') continue;
        const entries = decodeBatch(e.bytes).map((x) => {
          if (tampered < 0 && x.kind === 'nondet' && x.source === 'rng') {
            tampered = x.icount;
            return { ...x, source: 'time-hi' as const };
          }
          return x;
        });
        for (const a of backup.onLog(encodeBatch(entries))) if (a.kind === 'send-ack') primary.onAck(a.ack, t);
      }
      for (const e of backup.step(1000).effects) if (e.kind === 'divergence') diverged = e;
    }
    expect(tampered).toBeGreaterThan(0);
    expect(diverged?.icount).toBe(tampered);
    expect(diverged?.reason).toMatch(/read rng/);
  });

  it('the backup never delivers its own timer and never runs ahead of the log', () => {
    const m = new ToyMachine();
    const backup = new BackupHypervisor(m);
    expect(m.timerDeadline()).toBe(0); // armed and due
    const r = backup.step(10_000);
    expect(r.waiting).toBe(true);
    expect(r.retired).toBe(0);
    expect(m.timerDeadline()).toBe(0); // not delivered (delivery disarms it)
    backup.onLog(encodeBatch([{ seq: 1, icount: 500, kind: 'progress' }]));
    const r2 = backup.step(10_000);
    expect(m.icount).toBe(500);
    expect(r2.waiting).toBe(true);
  });
});

describe('throttling', () => {
  it('cuts the CPU share in small steps while the lag grows, restores it when the lag falls', () => {
    const s = { speedIps: 1_000_000, lagThresholdUs: 5_000, throttleStep: 0.05, throttleIntervalUs: 1_000, progressIntervalInstructions: 100 };
    const p = new PrimaryHypervisor(new ToyMachine(), new XorShift32(1), s);
    const shares: number[] = [];
    let t = 0;
    for (; t < 40_000; t += 1000) {
      p.step(t, 1000);
      p.onAck({ type: 'ack', ackSeq: p.lastSentSeq, appliedSeq: p.lastSentSeq, backupIcount: 0 }, t); // backup stuck
      shares.push(p.cpuShare);
    }
    const low = p.cpuShare;
    expect(low).toBeLessThan(0.8);
    for (let i = 1; i < shares.length; i++) expect(shares[i - 1] - shares[i]).toBeLessThanOrEqual(0.05 + 1e-9);
    for (; t < 60_000; t += 1000) {
      p.step(t, 1000);
      p.onAck({ type: 'ack', ackSeq: p.lastSentSeq, appliedSeq: p.lastSentSeq, backupIcount: p.machine.icount }, t); // caught up
    }
    expect(p.cpuShare).toBeGreaterThan(low);
    expect(p.stats().maxLagUs).toBeGreaterThan(5_000);
  });
});
