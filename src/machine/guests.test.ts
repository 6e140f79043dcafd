/**
 * The guest programs (public/guests/*.elf) running on the Machine under the deterministic test
 * host: each does its job, and the machine is deterministic (equal inputs at equal icounts give
 * equal state hashes; snapshot/restore continues the same run).
 */
import { describe, expect, it } from 'vitest';
import { Machine } from './machine';
import { parseElf } from './elf';
import { MemDisk, TestHost } from './testing/test-host';
import { guestElf } from './testing/guest-elf';
import {
  CLIENT_ADDR_BASE, MSG_REPLY, MSG_REQUEST, OP_COUNTER_GET, OP_COUNTER_INC, OP_KV_GET, OP_KV_PUT,
  SERVICE_ADDR, STATUS_NOT_FOUND, STATUS_OK, decodeMessage, encodeMessage, type ServiceMessage,
} from '../world/wire'; // the guests' service protocol: a test-only edge (eslint.config.js)

function request(client: number, seq: number, op: number, key = 0, value = 0): Uint8Array {
  return encodeMessage({ dst: SERVICE_ADDR, src: CLIENT_ADDR_BASE + client, type: MSG_REQUEST, op, client, seq, key, value, status: 0 });
}

function boot(name: string, disk = new MemDisk(), seed = 1): TestHost {
  const host = new TestHost(Machine.fromElf(guestElf(name)), disk, seed);
  const r = host.settle();
  expect(r.reason).toBe('wfi');
  return host;
}

/** Delivers one request to an idle server, lets it finish, returns the reply it sent. */
function ask(host: TestHost, packet: Uint8Array): ServiceMessage {
  const sentBefore = host.packetsOut.length;
  expect(host.deliverPacket(packet)).toBe('delivered');
  expect(host.settle().reason).toBe('wfi');
  expect(host.packetsOut.length).toBe(sentBefore + 1);
  return decodeMessage(host.packetsOut[sentBefore]);
}

describe('counter guest', () => {
  it('answers three requests with 1, 2, 3 and a retried seq without incrementing', () => {
    const host = boot('counter');
    expect(host.console).toContain('counter: value 0 from disk');
    const values = [1, 2, 3].map((seq) => ask(host, request(1, seq, OP_COUNTER_INC)));
    expect(values.map((m) => m.value)).toEqual([1, 2, 3]);
    expect(values[2]).toMatchObject({ dst: CLIENT_ADDR_BASE + 1, src: SERVICE_ADDR, type: MSG_REPLY, client: 1, seq: 3, status: STATUS_OK });
    expect(ask(host, request(1, 3, OP_COUNTER_INC)).value).toBe(3);
    expect(ask(host, request(2, 1, OP_COUNTER_INC)).value).toBe(4);
    expect(ask(host, request(1, 4, OP_COUNTER_GET)).value).toBe(4);
  });

  it('writes the value to disk block 0 before replying, and a new server continues from the disk', () => {
    const disk = new MemDisk();
    const first = boot('counter', disk);
    ask(first, request(1, 1, OP_COUNTER_INC));
    ask(first, request(1, 2, OP_COUNTER_INC));
    expect(new DataView(disk.blocks.get(0)!.buffer).getUint32(0, true)).toBe(2);
    const second = boot('counter', disk);
    expect(second.console).toContain('value 2 from disk');
    expect(ask(second, request(1, 2, OP_COUNTER_INC)).value).toBe(2); // the retry is remembered on disk too
    expect(ask(second, request(1, 3, OP_COUNTER_INC)).value).toBe(3);
  });
});

describe('kv guest', () => {
  it('round-trips keys through the disk to a fresh machine', () => {
    const disk = new MemDisk();
    const first = boot('kv', disk);
    expect(ask(first, request(1, 1, OP_KV_GET, 7)).status).toBe(STATUS_NOT_FOUND);
    for (let k = 0; k < 40; k++) expect(ask(first, request(1, 2 + k, OP_KV_PUT, k * 1000, k + 5)).status).toBe(STATUS_OK);
    ask(first, request(2, 1, OP_KV_PUT, 3000, 99)); // overwrite
    expect(ask(first, request(1, 41, OP_KV_PUT, 39000, 12345)).value).toBe(44); // retry: answered, not applied
    expect(first.packetsOut.length).toBe(43);
    first.deliverPacket(request(1, 2, OP_KV_PUT, 1000, 12345)); // stale seq: ignored
    first.settle();
    expect(first.packetsOut.length).toBe(43);
    const second = boot('kv', disk);
    expect(second.console).toContain('kv: 40 keys from disk');
    expect(ask(second, request(3, 1, OP_KV_GET, 1000)).value).toBe(6);
    expect(ask(second, request(3, 2, OP_KV_GET, 3000)).value).toBe(99);
    expect(ask(second, request(3, 3, OP_KV_GET, 39000)).value).toBe(44);
    expect(ask(second, request(3, 4, OP_KV_GET, 41000)).status).toBe(STATUS_NOT_FOUND);
  });
});

/** guests/lib/proto.h STATUS_DISK_ERROR; src/world/wire.ts (outside src/machine) does not name it yet. */
const STATUS_DISK_ERROR = 3;

function diskWithCounter(value: number): MemDisk {
  const disk = new MemDisk();
  const block = new Uint8Array(512);
  new DataView(block.buffer).setUint32(0, value, true);
  disk.write(0, block);
  return disk;
}

const counterOnDisk = (disk: MemDisk): number => new DataView(disk.blocks.get(0)!.buffer).getUint32(0, true);

describe('disk errors reach the guest', () => {
  it('counter: a failed read at boot is reported, not taken for an empty disk, and retried per request', () => {
    const disk = diskWithCounter(5);
    const host = new TestHost(Machine.fromElf(guestElf('counter')), disk);
    host.failDisk = (req) => req.op === 'read';
    expect(host.settle().reason).toBe('wfi');
    expect(host.console).toContain('counter: disk read failed');
    expect(host.console).not.toContain('from disk');
    expect(ask(host, request(1, 1, OP_COUNTER_INC))).toMatchObject({ status: STATUS_DISK_ERROR, value: 0 });
    expect(counterOnDisk(disk)).toBe(5); // nothing written while the state is unknown
    host.failDisk = () => false;
    expect(ask(host, request(1, 1, OP_COUNTER_INC))).toMatchObject({ status: STATUS_OK, value: 6 });
    expect(host.console).toContain('counter: value 5 from disk');
  });

  it('counter: a failed write undoes the increment and answers disk-error; the retry then runs', () => {
    const disk = new MemDisk();
    const host = boot('counter', disk);
    expect(ask(host, request(1, 1, OP_COUNTER_INC)).value).toBe(1);
    host.failDisk = (req) => req.op === 'write';
    expect(ask(host, request(1, 2, OP_COUNTER_INC))).toMatchObject({ status: STATUS_DISK_ERROR, value: 0 });
    expect(host.console).toContain('counter: disk write failed, request not applied (value stays 1)');
    expect(counterOnDisk(disk)).toBe(1);
    host.failDisk = () => false;
    expect(ask(host, request(1, 2, OP_COUNTER_INC))).toMatchObject({ status: STATUS_OK, value: 2 });
    expect(ask(host, request(1, 3, OP_COUNTER_GET)).value).toBe(2);
    expect(counterOnDisk(disk)).toBe(2);
  });

  it('kv: a failed put is undone and answered disk-error; a failed boot read answers disk-error until it works', () => {
    const disk = new MemDisk();
    const first = boot('kv', disk);
    expect(ask(first, request(1, 1, OP_KV_PUT, 7, 1)).status).toBe(STATUS_OK);
    first.failDisk = (req) => req.op === 'write';
    expect(ask(first, request(1, 2, OP_KV_PUT, 7, 2)).status).toBe(STATUS_DISK_ERROR);
    expect(first.console).toMatch(/kv: disk write of block \d+ failed, put of key 7 not applied\n/);
    expect(ask(first, request(2, 1, OP_KV_GET, 7)).value).toBe(1);
    first.failDisk = () => false;
    expect(ask(first, request(1, 2, OP_KV_PUT, 7, 2)).status).toBe(STATUS_OK);

    const second = new TestHost(Machine.fromElf(guestElf('kv')), disk);
    second.failDisk = (req) => req.op === 'read';
    expect(second.settle().reason).toBe('wfi');
    expect(second.console).toContain('kv: disk read of blocks 1-8 failed');
    expect(ask(second, request(3, 1, OP_KV_GET, 7)).status).toBe(STATUS_DISK_ERROR);
    second.failDisk = () => false;
    expect(ask(second, request(3, 2, OP_KV_GET, 7))).toMatchObject({ status: STATUS_OK, value: 2 });
    expect(second.console).toContain('kv: 1 keys from disk');
  });
});

describe('ticker guest', () => {
  it('runs both tasks from timer interrupts, printing time and RNG values', () => {
    const host = new TestHost(Machine.fromElf(guestElf('ticker')));
    const r = host.step({ untilIcount: 3_000_000 });
    expect(r.reason).toBe('budget');
    expect(host.console).toMatch(/\[clock\] run 1 tick 2 time \d+ us rng [0-9a-f]{8}\n/);
    expect(host.console).toMatch(/\[dice\] run 1 tick 5 mtime \d+ us dice [1-6]\n/);
    expect(host.console.match(/\[clock\]/g)!.length).toBeGreaterThan(5);
    expect(host.console.match(/\[dice\]/g)!.length).toBeGreaterThan(2);
  });
});

describe('bench guest', () => {
  it('exits through tohost with 1 after its work and prints a checksum', () => {
    const bytes = guestElf('bench');
    const m = Machine.fromElf(bytes);
    const rounds = parseElf(bytes).symbols.get('bench_rounds')!;
    m.mem.write(rounds, new Uint8Array([2, 0, 0, 0])); // 2 rounds instead of hundreds
    const host = new TestHost(m);
    const r = host.settle(20_000_000);
    expect(r).toMatchObject({ reason: 'exit', tohost: 1 });
    expect(host.console).toMatch(/bench: 2 rounds, checksum [0-9a-f]{8}\n/);
  });
});

describe('mark guest', () => {
  it('exits through tohost with 1 after its self-checked work, and the same CRC for the same iterations', () => {
    const bytes = guestElf('mark');
    const crcs: string[] = [];
    for (const n of [3, 3, 4]) {
      const m = Machine.fromElf(bytes);
      m.mem.write(parseElf(bytes).symbols.get('mark_iterations')!, new Uint8Array([n, 0, 0, 0]));
      const host = new TestHost(m);
      expect(host.settle(20_000_000)).toMatchObject({ reason: 'exit', tohost: 1 });
      const line = /^mark: (\d+) iterations, crc ([0-9a-f]{4})\n$/.exec(host.console);
      expect(line?.[1]).toBe(String(n));
      crcs.push(line?.[2] ?? '');
    }
    expect(crcs[1]).toBe(crcs[0]);
    expect(crcs[2]).not.toBe(crcs[0]);
  });
});

describe('determinism', () => {
  /**
   * Boots counter and delivers a packet after each gap of instructions (a gap ends early when the
   * guest goes idle, which is the same in every run). A short gap delivers the next packet while
   * the previous one is still being served. Optionally moves the machine to a new Machine through
   * a snapshot before delivery `snapshotAt`.
   */
  function scripted(gaps: number[], snapshotAt?: number): TestHost {
    let host = new TestHost(Machine.fromElf(guestElf('counter')), new MemDisk(), 9);
    for (const [i, gap] of gaps.entries()) {
      if (snapshotAt !== undefined && i === snapshotAt) host = moved(host);
      host.step({ untilIcount: host.machine.icount + gap });
      expect(host.deliverPacket(request(1, i + 1, OP_COUNTER_INC))).toBe('delivered');
    }
    return host;
  }

  function settledHash(host: TestHost): string {
    expect(host.settle().reason).toBe('wfi');
    return host.machine.stateHash();
  }

  /** Snapshot the machine and continue on a fresh Machine with the same disk. */
  function moved(host: TestHost): TestHost {
    const snap = structuredClone(host.machine.snapshot());
    const m = new Machine();
    m.restore(snap);
    expect(m.stateHash()).toBe(host.machine.stateHash());
    return new TestHost(m, host.disk, 9);
  }

  const gaps = [100_000, 150, 100_000, 40];

  it('gives equal hashes for equal inputs at equal icounts', () => {
    const a = scripted(gaps);
    const b = scripted(gaps);
    expect(settledHash(a)).toBe(settledHash(b));
    expect(a.packetsOut.map((p) => decodeMessage(p).value)).toEqual([1, 2, 3, 4]);
  });

  it('gives a different hash when a packet arrives at a different icount', () => {
    // Packet 2 lands mid-way through serving packet 1 (interrupts on), one instruction apart.
    const a = scripted([100_000, 150]);
    const b = scripted([100_000, 151]);
    const probe = b.machine.icount + 60;
    a.step({ untilIcount: probe });
    b.step({ untilIcount: probe });
    expect(a.machine.icount).toBe(probe);
    expect(b.machine.icount).toBe(probe);
    expect(a.machine.stateHash()).not.toBe(b.machine.stateHash());
  });

  it('continues a snapshot restored into a new Machine to the same hash', () => {
    const whole = settledHash(scripted(gaps));
    expect(settledHash(scripted(gaps, 1))).toBe(whole);
    expect(settledHash(scripted(gaps, 3))).toBe(whole);
  });

  it('reports the same outputs at the same icounts in two identical runs', () => {
    const run = (): string[] => {
      const host = new TestHost(Machine.fromElf(guestElf('ticker')), new MemDisk(), 3);
      host.step({ untilIcount: 1_500_000 });
      return host.outputs.map((o) => `${o.kind}@${o.icount}`);
    };
    const first = run();
    expect(first.length).toBeGreaterThan(5);
    expect(run()).toEqual(first);
  });
});
