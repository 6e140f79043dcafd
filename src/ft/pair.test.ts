/**
 * Two VM hosts (host.ts) on the toy machine over a direct in-test channel (no simulator): replay,
 * the Output Rule, flow control, the lag cap, the reliable logging channel, divergence detection.
 */
import { describe, expect, it } from 'vitest';
import { outbound, VmHost } from './host';
import { ToyMachine } from './testing/toy-machine';
import { XorShift32 } from './testing/xorshift';
import type { FtEffect } from './effects';
import type { FtSettings } from './settings';
import type { ChannelMsg } from './channels';
import type { MachineOutput } from '../machine/types';
import { decodeBatch, encodeBatch } from './log';

interface Flight {
  atUs: number;
  order: number;
  to: 'A' | 'B';
  msg: ChannelMsg;
}

interface PairOptions {
  settings?: Partial<FtSettings>;
  toy?: ConstructorParameters<typeof ToyMachine>[0];
  delayUs?: number;
  backupIps?: number;
  packetEveryUs?: number;
  /** Return true to lose a message on the logging channel. */
  lose?: (from: 'A' | 'B', msg: ChannelMsg, nowUs: number) => boolean;
  /** Rewrites a log batch in flight (tampering tests). */
  tamper?: (bytes: ArrayBuffer) => ArrayBuffer;
}

/** A pair of hosts and a tiny event loop: deliveries and host wakes in time order. */
class Pair {
  readonly a: VmHost;
  readonly b: VmHost;
  readonly released: { out: MachineOutput; atUs: number }[] = [];
  readonly suppressed: MachineOutput[] = [];
  readonly events: { vm: string; e: FtEffect; atUs: number }[] = [];
  nowUs = 0;
  private flights: Flight[] = [];
  private order = 0;
  private wake: Record<'A' | 'B', number | null> = { A: 0, B: 0 };
  private nextPacketUs: number;

  constructor(readonly o: PairOptions = {}) {
    const settings = { speedIps: 1_000_000, ...o.settings };
    const pacing = (ips: number) => ({ sliceInstructions: ips / 1000, nominalIps: ips, sliceUs: (r: number) => (r * 1e6) / ips });
    this.a = new VmHost({ name: 'A', role: 'primary', peer: 'B', machine: new ToyMachine(o.toy), rng: new XorShift32(7), settings, pacing: pacing(1_000_000) });
    this.b = new VmHost({ name: 'B', role: 'backup', peer: 'A', machine: new ToyMachine(o.toy), rng: new XorShift32(7), settings, pacing: pacing(o.backupIps ?? 1_000_000) });
    this.nextPacketUs = o.packetEveryUs ?? Infinity;
  }

  run(untilUs: number): void {
    for (;;) {
      const f = this.flights[0];
      // A host may ask for a time already past ("as soon as possible"): that is now.
      const at = (t: number | null): number => (t === null ? Infinity : Math.max(t, this.nowUs));
      const next = Math.min(f ? f.atUs : Infinity, at(this.wake.A), at(this.wake.B), this.nextPacketUs);
      if (next > untilUs) break;
      this.nowUs = next;
      if (f && f.atUs === next) {
        this.flights.shift();
        const host = f.to === 'A' ? this.a : this.b;
        this.handle(f.to, host.receive(f.msg.channel, f.msg.msg, next));
      } else if (this.nextPacketUs === next) {
        this.nextPacketUs += this.o.packetEveryUs as number;
        this.handle('A', this.a.receive('net', Uint8Array.from([next & 0xff, 1, 2, 3]), next));
      } else if (at(this.wake.A) === next) {
        this.handle('A', this.a.step(next));
      } else {
        this.handle('B', this.b.step(next));
      }
    }
    this.nowUs = untilUs;
  }

  private handle(vm: 'A' | 'B', r: { effects: FtEffect[]; wakeUs: number | null }): void {
    for (const e of r.effects) {
      this.events.push({ vm, e, atUs: this.nowUs });
      if (e.ev === 'output-released') this.released.push({ out: e.out, atUs: this.nowUs });
      if (e.ev === 'output-suppressed') this.suppressed.push(e.out);
      const m = outbound(vm, e);
      if (!m) continue;
      if (m.channel === 'disk' && m.msg.kind === 'disk-write') this.send('A', { channel: 'disk', msg: { kind: 'disk-write-ok', vm: 'A', id: m.msg.id } }, 300);
      if (m.channel !== 'log') continue;
      if (this.o.lose?.(vm, m, this.nowUs)) continue;
      if (this.o.tamper && m.msg.type === 'log') m.msg = { type: 'log', bytes: this.o.tamper(m.msg.bytes) };
      this.send(vm === 'A' ? 'B' : 'A', m, this.o.delayUs ?? 100);
    }
    this.wake[vm] = r.wakeUs;
  }

  private send(to: 'A' | 'B', msg: ChannelMsg, delayUs: number): void {
    const f: Flight = { atUs: this.nowUs + delayUs, order: this.order++, to, msg };
    let i = this.flights.length;
    while (i > 0 && (this.flights[i - 1].atUs > f.atUs || (this.flights[i - 1].atUs === f.atUs && this.flights[i - 1].order > f.order))) i--;
    this.flights.splice(i, 0, f);
  }

  count(ev: FtEffect['ev']): number {
    return this.events.filter((x) => x.e.ev === ev).length;
  }
}

describe('a primary/backup pair of hosts on the toy machine', () => {
  it('stays in sync through timers, packets, disk completions and nondet reads', () => {
    const p = new Pair({ settings: { hashIntervalInstructions: 50_000 }, packetEveryUs: 7_300 });
    p.run(400_000);
    expect(p.b.backupHypervisor?.divergence).toBeNull();
    expect(p.b.backupHypervisor?.hashesChecked).toBeGreaterThanOrEqual(7);
    expect(p.released.length).toBeGreaterThan(50);
    // The backup is behind by at most a few outputs; what it has suppressed matches, in order.
    expect(p.suppressed.length).toBeGreaterThan(p.released.length - 5);
    expect(p.suppressed.slice(0, p.released.length)).toEqual(p.released.slice(0, p.suppressed.length).map((r) => r.out));
  });

  it('holds each output until an ack covers an entry past its icount', () => {
    const p = new Pair({ packetEveryUs: 5_000, delayUs: 2_000 });
    p.run(100_000);
    const held = p.events.filter((x) => x.e.ev === 'output-released' && x.e.held);
    expect(held.length).toBeGreaterThan(10);
    // With 2 ms each way, nothing is released in under one round trip.
    for (const h of held) expect((h.e as Extract<FtEffect, { ev: 'output-released' }>).heldUs).toBeGreaterThanOrEqual(4_000 - 1_000);
    expect(p.a.primaryHypervisor?.stats().stalls.medianUs).toBeGreaterThanOrEqual(3_500);
  });

  it('releases at once with the Output Rule switched off (the break-it switch)', () => {
    const p = new Pair({ settings: { outputRule: false }, packetEveryUs: 5_000, delayUs: 2_000 });
    p.run(50_000);
    expect(p.released.length).toBeGreaterThan(5);
    expect(p.count('output-held')).toBe(0);
    expect(p.a.primaryHypervisor?.stats().stalls.count).toBe(0);
  });

  it('stops on a full log buffer and resumes when acks drain it', () => {
    const p = new Pair({ settings: { logBufferBytesMax: 200, progressIntervalInstructions: 500 }, delayUs: 2_500 });
    p.run(60_000);
    const st = p.a.primaryHypervisor!.stats();
    expect(st.blockedStalls.count).toBeGreaterThan(3);
    expect(st.blockedStalls.maxUs).toBeGreaterThanOrEqual(4_000);
    expect(p.a.machine.icount).toBeLessThan(40_000);
    expect(p.b.backupHypervisor?.divergence).toBeNull();
  });

  it('the smallest legal buffer never wedges: a trailing read is always followed by an entry past it', () => {
    const p = new Pair({ settings: { logBufferBytesMax: 64, progressIntervalInstructions: 1_000_000 }, toy: { readEvery: 97 } });
    p.run(200_000);
    const a = p.a.primaryHypervisor!;
    expect(p.a.machine.icount).toBeGreaterThan(20_000);
    expect(p.b.backupHypervisor?.appliedSeq).toBeGreaterThan(a.lastSentSeq - 20);
    expect(p.b.backupHypervisor?.divergence).toBeNull();
  });

  it('caps the lag of a 1%-speed backup: the primary stops at the cap instead of running away', () => {
    const lagCapUs = 500_000;
    const p = new Pair({ settings: { lagCapUs, lagThresholdUs: 20_000 }, backupIps: 10_000 });
    let worst = 0;
    for (let t = 10_000; t <= 2_000_000; t += 10_000) {
      p.run(t);
      worst = Math.max(worst, ((p.a.machine.icount - p.b.machine.icount) * 1e6) / 10_000);
    }
    expect(worst).toBeLessThanOrEqual(lagCapUs * 1.05);
    expect(worst).toBeGreaterThan(lagCapUs * 0.5);
    expect(p.a.primaryHypervisor!.stats().blockedStalls.count).toBeGreaterThan(0);
    expect(p.b.backupHypervisor?.divergence).toBeNull();
  });
});

describe('the logging channel over a lossy link', () => {
  it('a lost batch is resent (the backup asks when the next one shows the gap)', () => {
    let dropped = 0;
    const p = new Pair({
      packetEveryUs: 3_000,
      lose: (from, m) => from === 'A' && m.channel === 'log' && m.msg.type === 'log' && dropped++ === 3,
    });
    p.run(100_000);
    expect(p.count('log-gap')).toBeGreaterThan(0);
    expect(p.count('resend-requested')).toBeGreaterThan(0);
    expect(p.b.backupHypervisor?.divergence).toBeNull();
    expect(p.b.backupHypervisor?.appliedSeq).toBeGreaterThan(10);
    expect(p.released.length).toBeGreaterThan(20);
  });

  it('a lost ack while the buffer is full is repaired by the resend timeout or the repeated ack', () => {
    let acks = 0;
    const p = new Pair({
      settings: { logBufferBytesMax: 200, progressIntervalInstructions: 500 },
      lose: (from, m) => from === 'B' && m.channel === 'log' && m.msg.type === 'ack' && acks++ === 5,
    });
    p.run(200_000);
    expect(acks).toBeGreaterThan(6);
    expect(p.a.machine.icount).toBeGreaterThan(100_000);
    expect(p.b.backupHypervisor?.divergence).toBeNull();
  });

  it('100% loss both ways for 50 ms loses nothing once it ends', () => {
    const p = new Pair({ packetEveryUs: 2_000, lose: (_f, _m, t) => t >= 20_000 && t < 70_000 });
    p.run(300_000);
    const primary = p.a.primaryHypervisor!;
    expect(primary.stats().resends).toBeGreaterThan(0);
    expect(primary.ackedSeq).toBeGreaterThan(primary.lastSentSeq - 50);
    expect(p.b.backupHypervisor?.divergence).toBeNull();
    expect(p.released.filter((r) => r.atUs > 100_000).length).toBeGreaterThan(20);
  });

  it('a malformed batch is rejected whole, changes nothing, and the resend repairs it', () => {
    let n = 0;
    const p = new Pair({ tamper: (bytes) => (n++ === 2 ? bytes.slice(0, bytes.byteLength - 4) : bytes), packetEveryUs: 3_000 });
    p.run(60_000);
    expect(p.count('log-rejected')).toBe(1);
    expect(p.b.backupHypervisor?.divergence).toBeNull();
    expect(p.b.backupHypervisor?.appliedSeq).toBeGreaterThan(10);
  });

  it('a message of the wrong shape on any channel is rejected with a clear error', () => {
    const p = new Pair();
    const r1 = p.b.receive('log', { type: 'ack', ackSeq: -1 }, 0);
    const r2 = p.a.receive('net', new Uint8Array(100_000), 0);
    const r3 = p.a.receive('log', 'hello', 0);
    for (const r of [r1, r2, r3]) expect(r.effects[0]).toMatchObject({ ev: 'message-rejected' });
    expect(JSON.stringify(r2.effects[0])).toMatch(/oversize/);
  });
});

describe('divergence detection', () => {
  it('a tampered nondet value shows up as a hash mismatch at the next hash entry', () => {
    const p = new Pair({
      settings: { hashIntervalInstructions: 5_000 },
      tamper: (bytes) => encodeBatch(decodeBatch(bytes).map((x) => (x.kind === 'nondet' && x.source === 'rng' ? { ...x, value: x.value ^ 1 } : x))),
    });
    p.run(30_000);
    const d = p.b.backupHypervisor?.divergence;
    expect(d?.reason).toMatch(/state hash/);
    expect(d?.icount).toBe(5_000);
  });

  it('a nondet entry out of step is a divergence at the reading instruction', () => {
    let tampered = -1;
    const p = new Pair({
      tamper: (bytes) =>
        encodeBatch(
          decodeBatch(bytes).map((x) => {
            if (tampered < 0 && x.kind === 'nondet' && x.source === 'rng') {
              tampered = x.icount;
              return { ...x, source: 'time-hi' as const };
            }
            return x;
          }),
        ),
    });
    p.run(20_000);
    expect(tampered).toBeGreaterThan(0);
    expect(p.b.backupHypervisor?.divergence?.icount).toBe(tampered);
    expect(p.b.backupHypervisor?.divergence?.reason).toMatch(/read rng/);
  });

  it('a backup whose guest sleeps at a wfi the primary ran past diverges there', () => {
    // The toy idles every 3000 instructions; a log that runs on past that with no event is wrong.
    const backup = new VmHost({ name: 'B', role: 'backup', peer: 'A', machine: new ToyMachine({ wfiEvery: 3_000, readEvery: 1e9 }), rng: new XorShift32(1), pacing: { sliceInstructions: 10_000, nominalIps: 1e6, sliceUs: (r) => r } });
    backup.receive('log', { type: 'log', bytes: encodeBatch([{ seq: 1, icount: 5_000, kind: 'progress' }]) }, 0);
    backup.step(0);
    const d = backup.backupHypervisor?.divergence;
    expect(d?.icount).toBe(3_000);
    expect(d?.reason).toMatch(/wfi/);
  });

  it('the backup never delivers its own timer and never runs ahead of the log', () => {
    const m = new ToyMachine();
    const backup = new VmHost({ name: 'B', role: 'backup', peer: 'A', machine: m, rng: new XorShift32(1), pacing: { sliceInstructions: 10_000, nominalIps: 1e6, sliceUs: (r) => r } });
    expect(m.timerDeadline()).toBe(0); // armed and due
    backup.step(0);
    expect(m.icount).toBe(0);
    expect(m.timerDeadline()).toBe(0); // not delivered (delivery disarms it)
    backup.receive('log', { type: 'log', bytes: encodeBatch([{ seq: 1, icount: 500, kind: 'progress' }]) }, 0);
    backup.step(0);
    expect(m.icount).toBe(500);
    expect(backup.state).toBe('waiting');
  });
});
