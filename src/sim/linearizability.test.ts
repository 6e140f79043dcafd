/**
 * The linearizability checker on hand-made histories that are, and are not, linearizable — the
 * lecture's "11 twice", stale reads, operations that never returned, replies saying "not applied" —
 * and on long histories made by a seeded generator that linearizes every operation at a point
 * inside its interval, so they are linearizable by construction.
 */
import { describe, expect, it } from 'vitest';
import { checkLinearizable, counterSettledPrefix, type LinResult } from './linearizability';
import { Prng } from './prng';
import type { HistoryEntry } from '../world/history';
import {
  OP_COUNTER_GET, OP_COUNTER_INC, OP_KV_GET, OP_KV_PUT, STATUS_BAD_REQUEST, STATUS_DISK_ERROR, STATUS_NOT_FOUND, STATUS_OK,
} from '../world/wire';

type Reply = number | 'not-found' | 'disk-error' | 'bad-request' | null;

/** One operation: `reply` null means it never returned (returnUs must be null too). */
function entry(client: number, seq: number, op: number, key: number, arg: number, invokeUs: number, returnUs: number | null, reply: Reply): HistoryEntry {
  const status = reply === null ? null : reply === 'not-found' ? STATUS_NOT_FOUND : reply === 'disk-error' ? STATUS_DISK_ERROR : reply === 'bad-request' ? STATUS_BAD_REQUEST : STATUS_OK;
  const result = reply === null ? null : typeof reply === 'number' ? reply : 0;
  return { client, seq, op, key, arg, invokeUs, returnUs, result, status };
}

const inc = (client: number, seq: number, invokeUs: number, returnUs: number | null, reply: Reply): HistoryEntry =>
  entry(client, seq, OP_COUNTER_INC, 0, 0, invokeUs, returnUs, reply);
const cget = (client: number, seq: number, invokeUs: number, returnUs: number | null, reply: Reply): HistoryEntry =>
  entry(client, seq, OP_COUNTER_GET, 0, 0, invokeUs, returnUs, reply);
const put = (client: number, seq: number, key: number, value: number, invokeUs: number, returnUs: number | null, reply: Reply = value): HistoryEntry =>
  entry(client, seq, OP_KV_PUT, key, value, invokeUs, returnUs, returnUs === null ? null : reply);
const kget = (client: number, seq: number, key: number, invokeUs: number, returnUs: number | null, reply: Reply): HistoryEntry =>
  entry(client, seq, OP_KV_GET, key, 0, invokeUs, returnUs, reply);

function expectViolation(r: LinResult): { subHistory: HistoryEntry[]; explanation: string } {
  if (r.kind !== 'violation') throw new Error(`expected a violation, got ${JSON.stringify(r)}`);
  return r;
}

const ids = (h: readonly HistoryEntry[]): string[] => h.map((e) => `${e.client}:${e.seq}`).sort();

describe('checkLinearizable: counter', () => {
  it('accepts a sequential history', () => {
    const h = [inc(1, 1, 0, 10, 1), inc(2, 1, 20, 30, 2), cget(1, 2, 40, 50, 2), inc(1, 3, 60, 70, 3)];
    expect(checkLinearizable(h, 'counter')).toEqual({ kind: 'ok' });
  });

  it('accepts overlapping increments returning in either order', () => {
    // Client 1's increment spans client 2's: either may have gone first.
    expect(checkLinearizable([inc(1, 1, 0, 100, 1), inc(2, 1, 10, 20, 2)], 'counter')).toEqual({ kind: 'ok' });
    expect(checkLinearizable([inc(1, 1, 0, 100, 2), inc(2, 1, 10, 20, 1)], 'counter')).toEqual({ kind: 'ok' });
    // A return and an invocation at the same time are concurrent.
    expect(checkLinearizable([inc(1, 1, 0, 10, 2), inc(2, 1, 10, 20, 1)], 'counter')).toEqual({ kind: 'ok' });
  });

  it('accepts gets that see an overlapping increment or not, but not both in the wrong order', () => {
    const incr = inc(1, 1, 0, 100, 1);
    expect(checkLinearizable([incr, cget(2, 1, 10, 20, 0), cget(3, 1, 30, 40, 1)], 'counter')).toEqual({ kind: 'ok' });
    const r = expectViolation(checkLinearizable([incr, cget(2, 1, 10, 20, 1), cget(3, 1, 30, 40, 0)], 'counter'));
    // The increment's own reply is not needed to show it: the two gets are.
    expect(ids(r.subHistory)).toEqual(['2:1', '3:1']);
    expect(r.explanation).toBe(
      'client 2 seq 1 get → 1, client 3 seq 1 get → 0: no order of these and the 1 other operation(s) in their window of overlapping operations, from counter = 0, gives these replies',
    );
  });

  it("finds the lecture's 11 twice and names both increments", () => {
    const sequential = [inc(1, 4, 0, 10, 11), inc(2, 7, 20, 30, 11)];
    const r = expectViolation(checkLinearizable(sequential, 'counter', { counterStart: 10 }));
    expect(ids(r.subHistory)).toEqual(['1:4', '2:7']);
    expect(r.explanation).toBe('client 1 seq 4 inc → 11 and client 2 seq 7 inc → 11: two increments returned the same value');
    const overlapping = [inc(2, 7, 0, 50, 11), inc(1, 4, 10, 20, 11), inc(3, 1, 60, 70, 12)];
    const o = expectViolation(checkLinearizable(overlapping, 'counter', { counterStart: 10 }));
    expect(o.explanation).toMatch(/client 2 seq 7 inc → 11 and client 1 seq 4 inc → 11/);
  });

  it('finds a stale read after a completed increment', () => {
    const h = [inc(1, 1, 0, 10, 1), inc(2, 1, 20, 30, 2), cget(3, 1, 40, 50, 1)];
    const r = expectViolation(checkLinearizable(h, 'counter'));
    expect(ids(r.subHistory)).toEqual(['3:1']);
    expect(r.explanation).toMatch(/^client 3 seq 1 get → 1: .*counter = 2 .*client 2 seq 1 inc → 2/);
  });

  it('finds an increment that skips a value', () => {
    const r = expectViolation(checkLinearizable([inc(1, 1, 0, 10, 1), inc(1, 2, 20, 30, 3)], 'counter'));
    expect(ids(r.subHistory)).toEqual(['1:2']);
  });

  it('lets a never-returned increment take effect or not, once, after its invocation', () => {
    const pending = inc(1, 1, 0, null, null);
    expect(checkLinearizable([pending, cget(2, 1, 10, 20, 0)], 'counter')).toEqual({ kind: 'ok' });
    expect(checkLinearizable([pending, cget(2, 1, 10, 20, 1)], 'counter')).toEqual({ kind: 'ok' });
    expect(checkLinearizable([pending, inc(2, 1, 10, 20, 1), inc(3, 1, 30, 40, 2)], 'counter')).toEqual({ kind: 'ok' });
    expect(checkLinearizable([pending, inc(2, 1, 10, 20, 2)], 'counter')).toEqual({ kind: 'ok' });
    // Not twice.
    expectViolation(checkLinearizable([pending, cget(2, 1, 10, 20, 1), inc(3, 1, 30, 40, 3)], 'counter'));
    // Not before it was invoked.
    expectViolation(checkLinearizable([cget(2, 1, 0, 10, 1), inc(1, 1, 20, null, null)], 'counter'));
    // Not undone once seen.
    expectViolation(checkLinearizable([pending, cget(2, 1, 10, 20, 1), cget(2, 2, 30, 40, 0)], 'counter'));
  });

  it('carries a never-returned increment across quiescent points until something needs it', () => {
    const h = [inc(1, 1, 0, null, null), cget(2, 1, 10, 20, 0)];
    for (let i = 0; i < 50; i++) h.push(inc(2, 2 + i, 100 + 20 * i, 110 + 20 * i, i + 1));
    expect(checkLinearizable([...h, cget(3, 1, 5000, 5010, 51)], 'counter')).toEqual({ kind: 'ok' });
    expect(checkLinearizable([...h, cget(3, 1, 5000, 5010, 50)], 'counter')).toEqual({ kind: 'ok' });
    expectViolation(checkLinearizable([...h, cget(3, 1, 5000, 5010, 52)], 'counter'));
    // Two never-returned increments, each used once.
    const two = [inc(1, 1, 0, null, null), inc(4, 1, 5, null, null), ...h.slice(1), cget(3, 1, 5000, 5010, 52)];
    expect(checkLinearizable(two, 'counter')).toEqual({ kind: 'ok' });
  });

  it('drops a never-returned get', () => {
    expect(checkLinearizable([inc(1, 1, 0, 10, 1), cget(2, 1, 20, null, null)], 'counter')).toEqual({ kind: 'ok' });
  });

  it('treats a disk-error or bad-request reply as an operation that was not applied', () => {
    const h = [inc(1, 1, 0, 10, 1), inc(1, 2, 20, 30, 'disk-error'), inc(2, 1, 40, 50, 2), cget(3, 1, 60, 70, 'bad-request')];
    expect(checkLinearizable(h, 'counter')).toEqual({ kind: 'ok' });
    // Had the failed increment been applied, the next would return 3.
    expectViolation(checkLinearizable([inc(1, 1, 0, 10, 1), inc(1, 2, 20, 30, 'disk-error'), inc(2, 1, 40, 50, 3)], 'counter'));
  });

  it('starts from counterStart', () => {
    expect(checkLinearizable([inc(1, 1, 0, 10, 11)], 'counter', { counterStart: 10 })).toEqual({ kind: 'ok' });
    expectViolation(checkLinearizable([inc(1, 1, 0, 10, 11)], 'counter'));
  });

  it('says unknown when a window needs more steps than the budget', () => {
    // 300 increments, each overlapping the next: one window with no quiescent point.
    const h = Array.from({ length: 300 }, (_, i) => inc(1 + (i % 3), 1 + Math.floor(i / 3), i * 10, i * 10 + 25, i + 1));
    const r = checkLinearizable(h, 'counter', { budget: 50 });
    expect(r.kind).toBe('unknown');
    if (r.kind === 'unknown') expect(r.reason).toMatch(/budget of 50 steps ran out on a window of 300/);
    expect(checkLinearizable(h, 'counter')).toEqual({ kind: 'ok' });
  });

  it('rejects an entry that is not a counter operation', () => {
    expect(() => checkLinearizable([kget(1, 1, 0, 0, 10, 'not-found')], 'counter')).toThrow(/not a counter operation/);
  });
});

describe('counterSettledPrefix: what a growing check may let go', () => {
  it('cuts at the last quiescent point, counting the increments applied', () => {
    // 1 and 2 overlap; 3 starts after both returned; 4 overlaps 3; 5 starts after them.
    const h = [inc(1, 1, 0, 10, 1), inc(2, 1, 5, 12, 2), inc(1, 2, 20, 30, 3), cget(2, 2, 25, 28, 3), inc(1, 3, 40, 50, 4)];
    expect(counterSettledPrefix(h, 0)).toEqual({ length: 4, value: 3 });
    expect(counterSettledPrefix(h, 100)).toEqual({ length: 4, value: 103 });
  });

  it('does not cut where an operation is invoked at the instant another returns (equal times are concurrent)', () => {
    expect(counterSettledPrefix([inc(1, 1, 0, 10, 1), inc(2, 1, 10, 20, 2), inc(1, 2, 30, 40, 3)], 0)).toEqual({ length: 2, value: 2 });
    expect(counterSettledPrefix([inc(1, 1, 0, 10, 1), inc(2, 1, 10, 20, 2)], 0)).toEqual({ length: 0, value: 0 });
  });

  it('stops at a never-returned operation, and counts only the increments applied', () => {
    const h = [inc(1, 1, 0, 10, 'disk-error'), inc(1, 2, 20, 30, 1), inc(2, 1, 40, null, null), inc(1, 3, 50, 60, 2), inc(1, 4, 70, 80, 3)];
    expect(counterSettledPrefix(h, 0)).toEqual({ length: 2, value: 1 });
  });
});

describe('checkLinearizable: kv', () => {
  it('accepts a good multi-key history', () => {
    const h = [
      put(1, 1, 0, 100, 0, 10), put(2, 1, 1, 200, 5, 15), kget(3, 1, 0, 20, 30, 100), kget(3, 2, 1, 40, 50, 200),
      put(1, 2, 0, 101, 60, 100), kget(2, 2, 0, 70, 80, 100), kget(3, 3, 0, 90, 95, 101), kget(2, 3, 1, 110, 120, 200),
    ];
    expect(checkLinearizable(h, 'kv')).toEqual({ kind: 'ok' });
  });

  it('finds the one key whose history is bad and names its operations', () => {
    const h = [
      put(1, 1, 0, 100, 0, 10), kget(2, 1, 0, 20, 30, 100),
      put(1, 2, 2, 300, 0, 10), put(2, 2, 2, 301, 20, 30), kget(3, 1, 2, 40, 50, 300), // stale: 301 was put before
      put(3, 2, 1, 200, 60, 70), kget(1, 3, 1, 80, 90, 200),
    ];
    const r = expectViolation(checkLinearizable(h, 'kv'));
    expect(r.subHistory.every((e) => e.key === 2)).toBe(true);
    expect(ids(r.subHistory)).toEqual(['3:1']);
    expect(r.explanation).toMatch(/^key 2: client 3 seq 1 get key 2 → 300: .*value 301 \(put by client 2 seq 2 put key 2 = 301\)/);
  });

  it('reads NOT_FOUND from a key never put, and no value', () => {
    expect(checkLinearizable([put(1, 1, 0, 7, 0, 10), kget(2, 1, 5, 20, 30, 'not-found')], 'kv')).toEqual({ kind: 'ok' });
    const r = expectViolation(checkLinearizable([put(1, 1, 0, 7, 0, 10), kget(2, 1, 5, 20, 30, 7)], 'kv'));
    expect(r.explanation).toBe('key 5: client 2 seq 1 get key 5 → 7, a value no put ever stored under key 5');
    // NOT_FOUND after a completed put is a lost write.
    const lost = expectViolation(checkLinearizable([put(1, 1, 0, 7, 0, 10), kget(2, 1, 0, 20, 30, 'not-found')], 'kv'));
    expect(ids(lost.subHistory)).toEqual(['2:1']);
  });

  it('carries the right value out of overlapping puts', () => {
    const both = [put(1, 1, 0, 1, 0, 100), put(2, 1, 0, 2, 10, 90)];
    // Either may have been last; whichever a later get reads must stay.
    expect(checkLinearizable([...both, kget(3, 1, 0, 200, 210, 1), kget(3, 2, 0, 300, 310, 1)], 'kv')).toEqual({ kind: 'ok' });
    expect(checkLinearizable([...both, kget(3, 1, 0, 200, 210, 2), kget(3, 2, 0, 300, 310, 2)], 'kv')).toEqual({ kind: 'ok' });
    expectViolation(checkLinearizable([...both, kget(3, 1, 0, 200, 210, 2), kget(3, 2, 0, 300, 310, 1)], 'kv'));
    expectViolation(checkLinearizable([...both, kget(3, 1, 0, 200, 210, 'not-found')], 'kv'));
  });

  it('lets a never-returned put be read after its invocation, or never', () => {
    const lost = put(1, 1, 0, 5, 0, null);
    expect(checkLinearizable([lost, kget(2, 1, 0, 10, 20, 'not-found')], 'kv')).toEqual({ kind: 'ok' });
    expect(checkLinearizable([lost, kget(2, 1, 0, 10, 20, 'not-found'), kget(2, 2, 0, 1000, 1010, 5)], 'kv')).toEqual({ kind: 'ok' });
    expect(checkLinearizable([lost, put(3, 1, 0, 6, 10, 20), kget(2, 1, 0, 30, 40, 5), kget(2, 2, 0, 50, 60, 5)], 'kv')).toEqual({ kind: 'ok' });
    expectViolation(checkLinearizable([lost, kget(2, 1, 0, 10, 20, 5), kget(2, 2, 0, 30, 40, 'not-found')], 'kv'));
    expectViolation(checkLinearizable([kget(2, 1, 0, 0, 10, 5), put(1, 1, 0, 5, 20, null)], 'kv'));
  });

  it('treats a put answered disk-error as not applied', () => {
    const h = [put(1, 1, 0, 5, 0, 10), put(2, 1, 0, 6, 20, 30, 'disk-error')];
    expect(checkLinearizable([...h, kget(3, 1, 0, 40, 50, 5)], 'kv')).toEqual({ kind: 'ok' });
    expectViolation(checkLinearizable([...h, kget(3, 1, 0, 40, 50, 6)], 'kv'));
  });

  it('reports a violation on one key even when another key is too ambiguous for the budget', () => {
    // Key 0: 200 puts and gets, each overlapping the next, one window longer than the budget.
    const busy = Array.from({ length: 200 }, (_, i) =>
      i % 2 === 0 ? put(1 + (i % 4), 1 + i, 0, 1000 + i, i * 10, i * 10 + 25) : kget(1 + (i % 4), 1 + i, 0, i * 10, i * 10 + 25, 1000 + i - 1));
    expect(checkLinearizable(busy, 'kv', { budget: 50 }).kind).toBe('unknown');
    expect(checkLinearizable(busy, 'kv')).toEqual({ kind: 'ok' });
    const bad = [put(9, 1, 1, 5, 0, 10), kget(9, 2, 1, 20, 30, 'not-found')];
    const r = expectViolation(checkLinearizable([...busy, ...bad], 'kv', { budget: 50 }));
    expect(ids(r.subHistory)).toEqual(['9:2']);
  });

  it('finds a put that replied with a value other than the one it stored', () => {
    const r = expectViolation(checkLinearizable([put(1, 1, 0, 5, 0, 10, 4)], 'kv'));
    expect(r.explanation).toBe('key 0: client 1 seq 1 put key 0 = 5 → 4: impossible from no value');
  });
});

// ---------------------------------------------------------------------------------------------
// Generated histories

interface GenOptions {
  seed: number;
  ops: number;
  clients: number;
  model: 'counter' | 'kv';
  /** Largest pause between a reply and the client's next invocation (0: back to back). */
  thinkMaxUs: number;
  /** One operation in this many never returns (0: none). */
  lostEvery: number;
}

interface Planned {
  e: HistoryEntry;
  /** When the operation takes effect, inside its interval; null: never. */
  atUs: number | null;
}

/**
 * A linearizable history by construction: each operation takes effect at a point inside its interval
 * (a never-returned one possibly much later, or never), and replies are what a real counter or store
 * gives in that order.
 */
function generate(o: GenOptions): HistoryEntry[] {
  const rng = new Prng(o.seed);
  const freeUs = Array.from({ length: o.clients }, () => rng.int(20));
  const seqs = new Array<number>(o.clients).fill(0);
  const planned: Planned[] = [];
  for (let n = 0; n < o.ops; n++) {
    const c = n % o.clients;
    const invokeUs = freeUs[c];
    const atUs = invokeUs + rng.int(30);
    const returnUs = atUs + rng.int(30);
    const lost = o.lostEvery > 0 && rng.int(o.lostEvery) === 0;
    const e = generatedOp(o.model, c + 1, ++seqs[c], rng, invokeUs, lost ? null : returnUs);
    planned.push({ e, atUs: lost ? (rng.int(2) === 0 ? null : invokeUs + rng.int(3000)) : atUs });
    freeUs[c] = (lost ? invokeUs + 100 : returnUs) + rng.int(o.thinkMaxUs + 1);
  }
  applyInOrder(planned);
  return planned.map((p) => p.e);
}

function generatedOp(model: 'counter' | 'kv', client: number, seq: number, rng: Prng, invokeUs: number, returnUs: number | null): HistoryEntry {
  const read = rng.int(5) === 0;
  if (model === 'counter') return read ? cget(client, seq, invokeUs, returnUs, null) : inc(client, seq, invokeUs, returnUs, null);
  const key = rng.int(4);
  return read ? kget(client, seq, key, invokeUs, returnUs, null) : put(client, seq, key, (client << 20) | seq, invokeUs, returnUs);
}

/** Fills in the replies of the returned operations by applying every operation at its point. */
function applyInOrder(planned: Planned[]): void {
  const order = planned.filter((p) => p.atUs !== null).sort((a, b) => (a.atUs as number) - (b.atUs as number));
  let counter = 0;
  const store = new Map<number, number>();
  for (const { e } of order) {
    if (e.op === OP_COUNTER_INC) counter++;
    if (e.op === OP_KV_PUT) store.set(e.key, e.arg);
    if (e.returnUs === null) continue;
    const value = e.op === OP_KV_GET ? store.get(e.key) : e.op === OP_KV_PUT ? e.arg : counter;
    e.result = value ?? 0;
    e.status = value === undefined ? STATUS_NOT_FOUND : STATUS_OK;
  }
}

describe('checkLinearizable: long generated histories', () => {
  it('checks 20,000 counter operations with pauses between them', () => {
    const h = generate({ seed: 1, ops: 20_000, clients: 4, model: 'counter', thinkMaxUs: 60, lostEvery: 0 });
    expect(checkLinearizable(h, 'counter')).toEqual({ kind: 'ok' });
  });

  it('checks 20,000 counter operations with no quiescent point and some never returned', () => {
    const h = generate({ seed: 2, ops: 20_000, clients: 5, model: 'counter', thinkMaxUs: 0, lostEvery: 200 });
    expect(h.some((e) => e.returnUs === null)).toBe(true);
    expect(checkLinearizable(h, 'counter')).toEqual({ kind: 'ok' });
  });

  it('checks 20,000 kv operations over 4 keys, some never returned', () => {
    const h = generate({ seed: 3, ops: 20_000, clients: 6, model: 'kv', thinkMaxUs: 20, lostEvery: 100 });
    expect(checkLinearizable(h, 'kv')).toEqual({ kind: 'ok' });
  });

  it('finds one bad reply among 20,000 and names it', () => {
    const h = generate({ seed: 4, ops: 20_000, clients: 5, model: 'counter', thinkMaxUs: 0, lostEvery: 0 });
    const victim = h.find((e, i) => i > 10_000 && e.op === OP_COUNTER_GET) as HistoryEntry;
    victim.result = (victim.result as number) + 10;
    const r = expectViolation(checkLinearizable(h, 'counter'));
    expect(ids(r.subHistory)).toEqual([`${victim.client}:${victim.seq}`]);
    expect(r.explanation).toMatch(/^client \d+ seq \d+ get → \d+: no order of this and the 19999 other operation\(s\) in its window/);
  });

  it('finds one stale kv read among 20,000', () => {
    const h = generate({ seed: 5, ops: 20_000, clients: 6, model: 'kv', thinkMaxUs: 20, lostEvery: 0 });
    // A get that read a value and then, long after, reads it again after another put completed.
    const i = h.findIndex((e, j) => j > 10_000 && e.op === OP_KV_GET && e.status === STATUS_OK);
    const victim = h[i];
    const earlier = h.slice(0, i).filter((e) => e.op === OP_KV_PUT && e.key === victim.key && e.arg !== victim.result && e.returnUs !== null);
    victim.result = earlier[0].arg;
    const r = expectViolation(checkLinearizable(h, 'kv'));
    expect(ids(r.subHistory)).toContain(`${victim.client}:${victim.seq}`);
    expect(r.explanation).toMatch(new RegExp(`^key ${victim.key}: `));
  });
});

// ---------------------------------------------------------------------------------------------
// Against brute force

/** Linearizable by trying every order (small histories only): the checker's reference. */
function bruteForce(history: readonly HistoryEntry[], model: 'counter' | 'kv'): boolean {
  const ops = history.filter((e) => e.status !== STATUS_DISK_ERROR && e.status !== STATUS_BAD_REQUEST);
  const used = new Array<boolean>(ops.length).fill(false);
  const mustPrecede = (a: HistoryEntry, b: HistoryEntry): boolean => a.returnUs !== null && a.returnUs < b.invokeUs;
  const fits = (e: HistoryEntry, got: number | undefined): boolean =>
    e.returnUs === null || (got === undefined ? e.status === STATUS_NOT_FOUND : e.status === STATUS_OK && e.result === got);
  const go = (counter: number, store: Map<number, number>): boolean => {
    if (ops.every((e, i) => used[i] || e.returnUs === null)) return true;
    for (let i = 0; i < ops.length; i++) {
      const e = ops[i];
      if (used[i] || ops.some((x, j) => !used[j] && j !== i && mustPrecede(x, e))) continue;
      let next = counter;
      let nextStore = store;
      if (model === 'counter') {
        next = e.op === OP_COUNTER_INC ? counter + 1 : counter;
        if (!fits(e, next)) continue;
      } else if (e.op === OP_KV_PUT) {
        if (!fits(e, e.arg)) continue;
        nextStore = new Map(store).set(e.key, e.arg);
      } else if (!fits(e, store.get(e.key))) {
        continue;
      }
      used[i] = true;
      const ok = go(next, nextStore);
      used[i] = false;
      if (ok) return true;
    }
    return false;
  };
  return go(0, new Map());
}

/** A small random history with few values, so that good and bad ones both come up often. */
function smallHistory(rng: Prng, model: 'counter' | 'kv'): HistoryEntry[] {
  const n = 2 + rng.int(6);
  const h: HistoryEntry[] = [];
  let invokeUs = 0;
  for (let i = 0; i < n; i++) {
    invokeUs += rng.int(8);
    const roll = rng.int(10);
    const returnUs = roll === 0 ? null : invokeUs + rng.int(15);
    const reply: Reply = returnUs === null ? null : roll === 1 ? 'disk-error' : rng.int(4);
    if (model === 'counter') {
      // Increments mostly reply what a counter near them could: their position among the increments, ±1.
      const near = typeof reply === 'number' ? Math.max(1, h.filter((e) => e.op === OP_COUNTER_INC).length + reply - 1) : reply;
      h.push(rng.int(3) === 0 ? cget(i, 1, invokeUs, returnUs, reply) : inc(i, 1, invokeUs, returnUs, near));
      continue;
    }
    const key = rng.int(2);
    if (rng.int(2) === 0) h.push(put(i, 1, key, 1 + rng.int(3), invokeUs, returnUs, reply === 'disk-error' ? reply : undefined));
    else h.push(kget(i, 1, key, invokeUs, returnUs, reply === 0 ? 'not-found' : reply));
  }
  return h;
}

describe('checkLinearizable agrees with brute force on small random histories', () => {
  for (const model of ['counter', 'kv'] as const) {
    it(`${model}: 4000 histories`, () => {
      const rng = new Prng(model === 'counter' ? 11 : 12);
      const seen = { ok: 0, violation: 0 };
      for (let t = 0; t < 4000; t++) {
        const h = smallHistory(rng, model);
        const r = checkLinearizable(h, model);
        const expected = bruteForce(h, model) ? 'ok' : 'violation';
        if (r.kind !== expected) throw new Error(`case ${t}: checker says ${r.kind}, brute force ${expected}: ${JSON.stringify(h)}`);
        seen[expected]++;
        if (r.kind === 'violation') {
          expect(r.subHistory.length).toBeGreaterThan(0);
          for (const e of r.subHistory) expect(h).toContain(e);
        }
      }
      expect(Math.min(seen.ok, seen.violation)).toBeGreaterThan(500);
    });
  }
});
