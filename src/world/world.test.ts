import { describe, expect, it } from 'vitest';
import { NIC_MTU_BYTES } from '../machine/memmap';
import { mulberry32 } from './prng';
import { World, type WorldEffect } from './world';
import { CLIENT_ADDR_BASE, MSG_REPLY, OP_COUNTER_INC, SERVICE_ADDR, STATUS_OK, decodeMessage, encodeMessage } from './wire';

/** A stand-in for the replicated counter guest: one counter, shared by whichever VM answers. */
class FakeCounter {
  value = 0;
  reply(request: Uint8Array): Uint8Array {
    const m = decodeMessage(request);
    this.value += 1;
    return encodeMessage({ ...m, dst: m.src, src: SERVICE_ADDR, type: MSG_REPLY, value: this.value, status: STATUS_OK });
  }
}

function ofKind<K extends WorldEffect['kind']>(effects: WorldEffect[], kind: K): Extract<WorldEffect, { kind: K }>[] {
  return effects.filter((e): e is Extract<WorldEffect, { kind: K }> => e.kind === kind);
}

function world(settings = {}): World {
  return new World({ seed: 7, vms: ['A', 'B'], serving: 'A', diskBlocks: 64, settings: { clientCount: 2, retryTimeoutUs: 1000, ...settings } });
}

describe('World: clients and the network', () => {
  it('sendOne sends one request to the serving VM; its reply completes the operation', () => {
    const w = world();
    const server = new FakeCounter();
    const sent = w.sendOne(1, 100);
    expect(sent.map((e) => e.kind)).toEqual(['client-invoked', 'to-vm']);
    const toVm = ofKind(sent, 'to-vm')[0];
    expect(toVm).toMatchObject({ vm: 'A', client: 1, seq: 1, attempt: 1 });
    expect(w.sendOne(1, 150)).toEqual([]); // closed loop: one outstanding operation
    const done = w.fromVm('A', server.reply(toVm.bytes), 300);
    expect(done).toEqual([{
      kind: 'client-completed', client: 1, seq: 1, op: OP_COUNTER_INC, key: 0, arg: 0, result: 1, status: STATUS_OK,
      invokeUs: 100, returnUs: 300, attempts: 1, fromVm: 'A',
    }]);
    expect(w.history()).toEqual([{ client: 1, seq: 1, op: OP_COUNTER_INC, key: 0, arg: 0, invokeUs: 100, returnUs: 300, result: 1, status: STATUS_OK }]);
    expect(w.sendOne(9, 400)).toEqual([]); // no such client
  });

  it('tick retransmits with the same seq after the retry timeout, to whoever serves by then', () => {
    const w = world();
    const first = ofKind(w.sendOne(1, 0), 'to-vm')[0];
    expect(w.nextDeadlineUs()).toBe(1000);
    expect(w.tick(999)).toEqual([]);
    w.setServing('B');
    const retry = w.tick(1000);
    expect(retry.map((e) => e.kind)).toEqual(['client-retried', 'to-vm']);
    const toVm = ofKind(retry, 'to-vm')[0];
    expect(toVm).toMatchObject({ vm: 'B', seq: 1, attempt: 2 });
    expect(Array.from(toVm.bytes)).toEqual(Array.from(first.bytes));
  });

  it('a reply re-emitted at cut-over is dropped as a duplicate and reported', () => {
    const w = world();
    const server = new FakeCounter();
    const req = ofKind(w.sendOne(2, 0), 'to-vm')[0];
    const reply = server.reply(req.bytes);
    expect(w.fromVm('A', reply, 10)[0].kind).toBe('client-completed');
    const dup = w.fromVm('B', reply, 20);
    expect(dup).toEqual([{
      kind: 'client-dropped-duplicate', client: 2, seq: 1, reason: 'duplicate', value: 1, status: STATUS_OK, sameResult: true, fromVm: 'B', atUs: 20,
    }]);
    expect(w.client(2)!.dropped()).toHaveLength(1);
  });

  it('malformed and misrouted VM frames are reported, never thrown', () => {
    const w = world();
    ofKind(w.sendOne(1, 0), 'to-vm');
    const wrongType = encodeMessage({ dst: CLIENT_ADDR_BASE + 1, src: SERVICE_ADDR, type: 1, op: 1, client: 1, seq: 1, key: 0, value: 0, status: 0 });
    expect(w.fromVm('A', wrongType, 5)).toMatchObject([{ kind: 'client-malformed', client: 1, reason: expect.stringMatching(/not a reply/) }]);
    const short = new Uint8Array([CLIENT_ADDR_BASE + 1, 0, 2]);
    expect(w.fromVm('A', short, 5)).toMatchObject([{ kind: 'client-malformed', reason: expect.stringMatching(/3 bytes/) }]);
    expect(w.fromVm('A', new Uint8Array(NIC_MTU_BYTES + 1), 5)).toMatchObject([{ kind: 'dropped', what: 'vm-frame', reason: 'oversize' }]);
    expect(w.fromVm('A', new Uint8Array(24), 5)).toMatchObject([{ kind: 'dropped', reason: 'unknown-destination' }]);
    expect(w.client(1)!.malformedReplies().count).toBe(2);
  });

  it('a VM cut from the clients loses requests and replies until healed', () => {
    const w = world();
    const server = new FakeCounter();
    w.partition({ kind: 'vm-clients', vm: 'A' });
    expect(w.sendOne(1, 0)[1]).toMatchObject({ kind: 'dropped', what: 'client-frame', reason: 'partitioned' });
    w.heal();
    const retry = ofKind(w.tick(1000), 'to-vm')[0];
    const reply = server.reply(retry.bytes);
    w.partition({ kind: 'vm-clients', vm: 'A' });
    expect(w.fromVm('A', reply, 1100)).toMatchObject([{ kind: 'dropped', what: 'vm-frame', reason: 'partitioned' }]);
    expect(w.vmReachesClients('A')).toBe(false);
    expect(w.network.dropCounts().partitioned).toBe(2);
  });

  it('load: every client invokes, and again think time after each reply; off stops new operations', () => {
    const w = world({ clientCount: 3, thinkTimeUs: 50 });
    const server = new FakeCounter();
    expect(w.nextDeadlineUs()).toBeNull();
    w.setLoad(true, 10);
    expect(w.nextDeadlineUs()).toBe(10);
    const first = ofKind(w.tick(10), 'to-vm');
    expect(first.map((e) => e.client)).toEqual([1, 2, 3]);
    w.fromVm('A', server.reply(first[0].bytes), 20);
    expect(w.nextDeadlineUs()).toBe(70);
    expect(ofKind(w.tick(69), 'to-vm')).toHaveLength(0);
    expect(ofKind(w.tick(70), 'to-vm')).toMatchObject([{ client: 1, seq: 2 }]);
    w.setLoad(false, 80);
    w.fromVm('A', server.reply(first[1].bytes), 90);
    expect(ofKind(w.tick(500), 'client-invoked')).toHaveLength(0);
  });

  it('growing the client count adds clients; shrinking idles them but keeps their history', () => {
    const w = world();
    w.configure({ clientCount: 4 }, 0);
    expect(ofKind(w.sendOne(4, 0), 'to-vm')).toMatchObject([{ client: 4 }]);
    w.configure({ clientCount: 1 }, 1);
    expect(w.sendOne(4, 2)).toEqual([]);
    expect(w.tick(5000).every((e) => e.kind !== 'to-vm' || e.client === 1)).toBe(true);
    expect(w.history().map((e) => e.client)).toEqual([4]);
  });

  it('under load, a client added later starts at once; load off leaves only the retries', () => {
    const w = world({ clientCount: 1, loadOn: true });
    expect(ofKind(w.tick(0), 'client-invoked').map((e) => e.client)).toEqual([1]);
    w.configure({ clientCount: 2 }, 10);
    expect(w.nextDeadlineUs()).toBe(10);
    expect(ofKind(w.tick(10), 'client-invoked').map((e) => e.client)).toEqual([2]);
    w.setLoad(false, 20);
    expect(w.nextDeadlineUs()).toBe(1000); // only retries remain
  });

  it('gives up after the configured attempts and reports it', () => {
    const w = world({ giveUpAfterAttempts: 2 });
    w.sendOne(1, 0);
    w.tick(1000);
    expect(ofKind(w.tick(2000), 'client-gave-up')).toEqual([{ kind: 'client-gave-up', client: 1, seq: 1, attempts: 2, atUs: 2000 }]);
    expect(w.history()[0].returnUs).toBeNull();
  });
});

describe('World: disk server', () => {
  it('answers disk requests in order and drops those of a VM cut from the disk server', () => {
    const w = world();
    const data = new Uint8Array(512).fill(5);
    expect(w.diskRequest('A', { id: 1, op: 'write', sector: 2, count: 1, data }, 0)).toEqual([{ kind: 'disk-reply', vm: 'A', reply: { kind: 'disk-write-ok', vm: 'A', id: 1 } }]);
    const [r] = w.diskRequest('B', { id: 1, op: 'read', sector: 2, count: 1 }, 1);
    expect(r.kind === 'disk-reply' && r.reply.kind === 'disk-read-ok' && r.reply.data[0]).toBe(5);
    w.partition({ kind: 'vm-disk', vm: 'A' });
    expect(w.diskRequest('A', { id: 2, op: 'read', sector: 2, count: 1 }, 2)).toMatchObject([{ kind: 'dropped', what: 'disk-request', reason: 'partitioned' }]);
    expect(w.vmReachesDisk('A')).toBe(false);
    expect(w.disk.counters().reads).toBe(1);
  });

  it('test-and-set: a VM cut from the disk gets no answer; the other wins; resetFlag allows a new winner', () => {
    const w = world();
    w.partition({ kind: 'vm-disk', vm: 'A' });
    expect(w.testAndSet('A', 0, 10)).toMatchObject([{ kind: 'dropped', reason: 'partitioned' }]);
    expect(w.testAndSet('B', 0, 11)).toMatchObject([{ kind: 'disk-reply', vm: 'B', reply: { kind: 'tas-reply', won: true } }]);
    w.heal();
    expect(w.testAndSet('A', 0, 12)).toMatchObject([{ reply: { won: false, holder: 'B' } }]);
    w.addVm('C');
    const epoch = w.resetFlag(20);
    expect(w.testAndSet('C', epoch, 21)).toMatchObject([{ reply: { won: true, holder: 'C' } }]);
    expect(w.disk.flagEvents().map((e) => e.kind === 'tas' ? `${e.vm}:${e.won}` : 'reset')).toEqual(['B:true', 'A:false', 'reset', 'C:true']);
  });

  it('diskMessage validates what crossed a thread and refuses a message claiming another VM', () => {
    const w = world();
    expect(w.diskMessage('A', { kind: 'disk-read', vm: 'A', id: 1, sector: 999, count: 1 }, 0)).toMatchObject([{ reply: { kind: 'disk-error', error: 'out-of-range' } }]);
    expect(w.diskMessage('A', { kind: 'disk-read', vm: 'A', id: -1 }, 0)).toMatchObject([{ kind: 'dropped', reason: 'invalid', detail: expect.stringMatching(/id is number -1/) }]);
    expect(w.diskMessage('A', { kind: 'tas-request', vm: 'B', epoch: 0 }, 0)).toMatchObject([{ kind: 'dropped', reason: 'invalid', detail: expect.stringMatching(/names VM B on VM A/) }]);
    expect(w.disk.flag().holder).toBeNull();
  });
});

/**
 * A small seeded run: load on, replies delayed by a seeded amount, the serving VM flipped and
 * links cut and healed at random; both "VMs" answer from one counter, and at each flip the old
 * server re-emits its last reply (the cut-over duplicate).
 */
function drive(w: World, seed: number, fromUs: number, toUs: number, server: FakeCounter): WorldEffect[] {
  let rng = seed >>> 0;
  const draw = (n: number) => { const d = mulberry32(rng); rng = d.state; return d.value % n; };
  const inFlight: { atUs: number; vm: string; bytes: Uint8Array }[] = [];
  const log: WorldEffect[] = [];
  let last: { vm: string; bytes: Uint8Array } | null = null;
  for (let now = fromUs; now < toUs; now += 100) {
    for (const e of w.tick(now)) {
      // a tenth of requests are lost; the rest are answered after a seeded delay
      if (e.kind === 'to-vm' && draw(10) > 0) inFlight.push({ atUs: now + 100 * (1 + draw(20)), vm: e.vm, bytes: server.reply(e.bytes) });
      log.push(e);
    }
    for (const f of inFlight.filter((x) => x.atUs <= now)) {
      inFlight.splice(inFlight.indexOf(f), 1);
      log.push(...w.fromVm(f.vm, f.bytes, now));
      last = f;
    }
    const fault = draw(200);
    if (fault === 0) {
      w.setServing(w.network.servingVm === 'A' ? 'B' : 'A');
      if (last) log.push(...w.fromVm(last.vm, last.bytes, now));
    } else if (fault === 1) w.partition({ kind: 'vm-clients', vm: draw(2) ? 'A' : 'B' });
    else if (fault === 2) w.heal();
  }
  return log;
}

describe('World: seeded runs', () => {
  for (const seed of [1, 2, 3, 42, 0xfeed]) {
    it(`counter results are distinct, duplicates are dropped, and snapshot/restore replays exactly (seed ${seed})`, () => {
      const a = new World({ seed, vms: ['A', 'B'], serving: 'A', settings: { clientCount: 3, retryTimeoutUs: 1500, thinkTimeUs: 200, loadOn: true } });
      const server = new FakeCounter();
      drive(a, seed, 0, 20_000, server);
      const snap = a.snapshot();
      const b = new World({ seed, vms: [], serving: null });
      b.restore(structuredClone(snap)); // plain structured-clone data, as it would cross a thread
      const counterAt = server.value;
      const tailA = drive(a, seed + 1, 20_000, 60_000, server);
      server.value = counterAt;
      const tailB = drive(b, seed + 1, 20_000, 60_000, server);
      expect(tailB, `seed ${seed}`).toEqual(tailA);
      expect(b.snapshot(), `seed ${seed}`).toEqual(a.snapshot());
      const done = a.history().filter((e) => e.returnUs !== null);
      expect(done.length, `seed ${seed}`).toBeGreaterThan(20);
      expect(new Set(done.map((e) => e.result)).size, `seed ${seed}`).toBe(done.length);
      // the run exercised what it claims to: cut-over duplicates and retransmissions
      expect(ofKind(tailA, 'client-dropped-duplicate').length, `seed ${seed}`).toBeGreaterThan(0);
      expect(ofKind(tailA, 'client-retried').length, `seed ${seed}`).toBeGreaterThan(0);
    });
  }

  it('restore refuses a snapshot from another seed before changing anything', () => {
    const a = world();
    a.sendOne(1, 0);
    const other = new World({ seed: 8, vms: ['A'], serving: 'A' });
    expect(() => other.restore(a.snapshot())).toThrow(/seed 7/);
    expect(other.history()).toEqual([]);
  });
});

describe('World: a VM announces the service address', () => {
  it('an announce moves the service address to its VM; a cut VM\'s announce is dropped; junk is refused', () => {
    const w = world({ clientCount: 1 });
    expect(w.network.servingVm).toBe('A');
    expect(w.netMessage('B', { type: 'announce' }, 10)).toEqual([{ kind: 'serving', vm: 'B', atUs: 10 }]);
    expect(w.network.servingVm).toBe('B');
    expect(w.netMessage('B', { type: 'announce' }, 20)).toEqual([]); // already there: nothing changes
    w.partition({ kind: 'vm-clients', vm: 'A' });
    expect(ofKind(w.netMessage('A', { type: 'announce' }, 30), 'dropped')[0]).toMatchObject({ reason: 'partitioned' });
    expect(w.network.servingVm).toBe('B');
    expect(ofKind(w.netMessage('A', { type: 'hello' }, 40), 'dropped')[0]).toMatchObject({ reason: 'invalid' });
    expect(ofKind(w.netMessage('A', null, 40), 'dropped')[0]).toMatchObject({ reason: 'invalid' });
  });
});
