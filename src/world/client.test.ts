import { describe, expect, it } from 'vitest';
import { Client, DROPS_KEPT, MALFORMED_KEPT } from './client';
import {
  CLIENT_ADDR_BASE, FRAME_BYTES, MSG_REPLY, MSG_REQUEST, OP_COUNTER_INC, OP_KV_GET, OP_KV_PUT,
  SERVICE_ADDR, STATUS_OK, decodeMessage, encodeMessage,
} from './wire';

/** The reply a correct server would send to `request`, carrying `value`. */
function replyTo(request: Uint8Array, value: number, patch: Partial<Parameters<typeof encodeMessage>[0]> = {}): Uint8Array {
  const m = decodeMessage(request);
  return encodeMessage({ ...m, dst: m.src, src: SERVICE_ADDR, type: MSG_REPLY, value, status: STATUS_OK, ...patch });
}

describe('Client', () => {
  it('sends a request to the service address with its id and seq 1, and refuses a second while waiting', () => {
    const c = new Client(3, 1);
    const frame = c.invoke(1000)!;
    const m = decodeMessage(frame);
    expect(m).toMatchObject({ dst: SERVICE_ADDR, src: CLIENT_ADDR_BASE + 3, type: MSG_REQUEST, op: OP_COUNTER_INC, client: 3, seq: 1 });
    expect(c.busy).toBe(true);
    expect(c.invoke(1001)).toBeNull();
    expect(c.history()).toHaveLength(1);
  });

  it('retransmits the same bytes (same seq) only once the retry timeout has passed', () => {
    const c = new Client(1, 1, { retryTimeoutUs: 500 });
    const first = c.invoke(100)!;
    expect(c.nextDeadlineUs()).toBe(600);
    expect(c.due(599).frames).toHaveLength(0);
    const retry = c.due(600).frames;
    expect(retry).toHaveLength(1);
    expect(Array.from(retry[0])).toEqual(Array.from(first));
    expect(c.nextDeadlineUs()).toBe(1100);
    expect(c.due(1100).frames).toHaveLength(1);
    expect(c.operation(1)!.attempts).toBe(3);
    expect(c.history()[0].seq).toBe(1);
  });

  it('completes on the matching reply and records invoke/return times, result and attempts', () => {
    const c = new Client(1, 1, { retryTimeoutUs: 500 });
    const req = c.invoke(100)!;
    c.due(600);
    const out = c.onReply(replyTo(req, 42), 700);
    expect(out.kind).toBe('completed');
    expect(c.busy).toBe(false);
    expect(c.nextDeadlineUs()).toBeNull();
    expect(c.history()).toEqual([{ client: 1, seq: 1, op: OP_COUNTER_INC, key: 0, arg: 0, invokeUs: 100, returnUs: 700, result: 42, status: STATUS_OK }]);
    expect(c.operation(1)!.attempts).toBe(2);
    const next = decodeMessage(c.invoke(800)!);
    expect(next.seq).toBe(2);
  });

  it('drops and records a duplicate reply for a completed seq, noting whether its result matches', () => {
    const c = new Client(1, 1);
    const req = c.invoke(0)!;
    c.onReply(replyTo(req, 7), 10);
    c.invoke(20);
    const same = c.onReply(replyTo(req, 7), 30);
    const differs = c.onReply(replyTo(req, 8), 40);
    expect(same.kind).toBe('duplicate');
    expect(differs.kind).toBe('duplicate');
    expect(c.dropped()).toEqual([
      { seq: 1, atUs: 30, reason: 'duplicate', value: 7, status: STATUS_OK, sameResult: true },
      { seq: 1, atUs: 40, reason: 'duplicate', value: 8, status: STATUS_OK, sameResult: false },
    ]);
    expect(c.history()[0].result).toBe(7);
    expect(c.busy).toBe(true); // seq 2 is still outstanding: a duplicate of seq 1 must not complete it
  });

  it('gives up after the configured attempts and then drops a late reply for that seq as stale', () => {
    const c = new Client(1, 1, { retryTimeoutUs: 100, giveUpAfterAttempts: 2 });
    const req = c.invoke(0)!;
    expect(c.due(100).frames).toHaveLength(1);
    const due = c.due(200);
    expect(due.frames).toHaveLength(0);
    expect(due.gaveUp).toMatchObject({ seq: 1, attempts: 2, gaveUp: true });
    expect(c.busy).toBe(false);
    c.invoke(250);
    const out = c.onReply(replyTo(req, 5), 300);
    expect(out.kind).toBe('stale');
    expect(c.history()[0]).toMatchObject({ seq: 1, returnUs: null, result: null });
    expect(c.dropped()[0]).toMatchObject({ seq: 1, reason: 'stale', sameResult: null });
    expect(c.busy).toBe(true);
  });

  it('counts malformed replies with a reason and never throws', () => {
    const c = new Client(2, 1);
    const req = c.invoke(0)!;
    const bad: [Uint8Array, RegExp][] = [
      [new Uint8Array(10), /10 bytes/],
      [new Uint8Array(FRAME_BYTES + 1), /25 bytes/],
      [req, /not a reply/], // a request echoed back
      [(() => { const b = replyTo(req, 1); b[4] = 9; return b; })(), /unknown message type 9/],
      [replyTo(req, 1, { client: 5 }), /names client 5/],
      [replyTo(req, 1, { dst: CLIENT_ADDR_BASE + 9 }), /addressed to 109/],
      [replyTo(req, 1, { seq: 77 }), /seq 77, never issued/],
      [replyTo(req, 1, { seq: 0 }), /seq 0, never issued/],
      [replyTo(req, 1, { op: OP_KV_GET }), /has op 3/],
    ];
    for (const [bytes, reason] of bad) {
      const out = c.onReply(bytes, 5);
      expect(out.kind).toBe('malformed');
      if (out.kind === 'malformed') expect(out.reason).toMatch(reason);
    }
    expect(c.malformedReplies().count).toBe(bad.length);
    expect(c.busy).toBe(true);
    expect(c.onReply(replyTo(req, 1), 6).kind).toBe('completed');
  });

  it('keeps only the most recent malformed reasons but counts them all', () => {
    const c = new Client(1, 1);
    for (let i = 0; i < 100; i++) c.onReply(new Uint8Array(i % 24), i);
    const m = c.malformedReplies();
    expect(m.count).toBe(100);
    expect(m.recent.length).toBeLessThan(100);
    expect(m.recent[m.recent.length - 1].atUs).toBe(99);
  });

  it('counts every dropped reply by reason but keeps only the most recent DROPS_KEPT records', () => {
    const c = new Client(1, 1, { retryTimeoutUs: 100, giveUpAfterAttempts: 1 });
    const done = c.invoke(0)!;
    c.onReply(replyTo(done, 7), 1);
    const abandoned = c.invoke(2)!;
    c.due(102); // gives up on seq 2
    const drops = 2 * DROPS_KEPT + 11; // the last one (i % 3 === 0) is stale
    for (let i = 0; i < drops; i++) {
      const reply = i % 3 === 0 ? replyTo(abandoned, 1) : replyTo(done, i % 3 === 1 ? 7 : 8);
      c.onReply(reply, 200 + i);
    }
    const third = Math.ceil(drops / 3);
    expect(c.dropCounts()).toEqual({ duplicate: drops - third, stale: third, duplicateDiffering: Math.floor(drops / 3) });
    const recent = c.dropped();
    expect(recent).toHaveLength(DROPS_KEPT);
    expect(recent[0].atUs).toBe(200 + drops - DROPS_KEPT);
    expect(recent[DROPS_KEPT - 1]).toEqual({ seq: 2, atUs: 200 + drops - 1, reason: 'stale', value: 1, status: STATUS_OK, sameResult: null });
    const restored = new Client(1, 1);
    restored.restore(structuredClone(c.snapshot()));
    expect(restored.dropCounts()).toEqual(c.dropCounts());
    expect(restored.dropped()).toEqual(recent);
  });

  it('counts malformed frames by cause', () => {
    const c = new Client(1, 1);
    const req = c.invoke(0)!;
    for (let i = 0; i < MALFORMED_KEPT + 5; i++) c.onReply(new Uint8Array(3), i);
    c.onReply(req, 100);
    c.onReply(replyTo(req, 1, { seq: 9 }), 101);
    const m = c.malformedReplies();
    expect(m.count).toBe(MALFORMED_KEPT + 7);
    expect(m.byCause).toEqual({
      length: MALFORMED_KEPT + 5, undecodable: 0, 'not-reply': 1, 'wrong-dst': 0, 'wrong-client': 0, 'unissued-seq': 1, 'wrong-op': 0,
    });
    expect(m.recent).toHaveLength(MALFORMED_KEPT);
    expect(m.recent[MALFORMED_KEPT - 1]).toEqual({ atUs: 101, cause: 'unissued-seq', reason: 'reply for seq 9, never issued' });
  });

  for (const seed of [1, 2, 0xdeadbeef]) {
    it(`kv workload: keys in range, put values unique, same seed same operations (seed ${seed})`, () => {
      const run = (s: number) => {
        const c = new Client(4, s, { workload: 'kv', kvKeys: 3 });
        for (let i = 0; i < 200; i++) {
          const req = c.invoke(i * 10)!;
          c.onReply(replyTo(req, 0), i * 10 + 5);
        }
        return c.history();
      };
      const h = run(seed);
      expect(h.every((e) => e.key >= 0 && e.key < 3)).toBe(true);
      const puts = h.filter((e) => e.op === OP_KV_PUT);
      const gets = h.filter((e) => e.op === OP_KV_GET);
      expect(puts.length).toBeGreaterThan(50);
      expect(gets.length).toBeGreaterThan(50);
      expect(new Set(puts.map((e) => e.arg)).size).toBe(puts.length);
      expect(run(seed)).toEqual(h);
      expect(run(seed + 1).map((e) => [e.op, e.key])).not.toEqual(h.map((e) => [e.op, e.key]));
    });
  }

  it('snapshot/restore round trips: the restored client continues exactly like the original', () => {
    const a = new Client(1, 99, { workload: 'kv', retryTimeoutUs: 50 });
    for (let i = 0; i < 5; i++) a.onReply(replyTo(a.invoke(i * 100)!, i), i * 100 + 10);
    a.invoke(600);
    a.onReply(new Uint8Array(3), 610);
    const snap = a.snapshot();
    const b = new Client(1, 12345);
    b.restore(snap);
    expect(b.snapshot()).toEqual(snap);
    const retryA = a.due(650).frames[0];
    expect(Array.from(b.due(650).frames[0])).toEqual(Array.from(retryA));
    a.onReply(replyTo(retryA, 9), 660);
    b.onReply(replyTo(retryA, 9), 660);
    // the PRNG state travelled too: the next kv operations are the same
    for (let i = 0; i < 10; i++) {
      const fa = a.invoke(700 + i * 10)!;
      expect(Array.from(b.invoke(700 + i * 10)!)).toEqual(Array.from(fa));
      a.onReply(replyTo(fa, 1), 705 + i * 10);
      b.onReply(replyTo(fa, 1), 705 + i * 10);
    }
    expect(b.snapshot()).toEqual(a.snapshot());
    // later changes to the original do not reach the snapshot
    expect(snap.ops.op).toHaveLength(6);
    expect(snap.ops.attempts[5]).toBe(1);
    expect(() => new Client(2, 1).restore(snap)).toThrow(/client 1 restored into client 2/);
    // a snapshot whose outstanding operation has already returned is refused, and changes nothing
    const c = new Client(1, 1);
    expect(() => c.restore({ ...snap, outstandingSeq: 1 })).toThrow(/outstanding seq 1/);
    expect(c.operationCount()).toBe(0);
  });

  it('rejects bad settings with a clear error', () => {
    expect(() => new Client(1, 1, { retryTimeoutUs: 0 })).toThrow(/retry timeout/);
    expect(() => new Client(-1, 1)).toThrow(/client id/);
    expect(() => new Client(1, 1, { kvKeys: 0 })).toThrow(/kvKeys/);
  });
});
