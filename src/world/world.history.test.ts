/**
 * The world's history over long runs: complete, identical to what the object-per-operation store
 * recorded, and compact (op-log.ts). The heap part of the memory test runs only when the process
 * exposes gc: `NODE_OPTIONS=--expose-gc npx vitest run src/world/world.history.test.ts`.
 */
import { describe, expect, it } from 'vitest';
import { DROPS_KEPT } from './client';
import { HistoryReader, type HistoryEntry } from './history';
import { OP_LOG_BYTES_PER_OP } from './op-log';
import { mulberry32 } from './prng';
import { World, type WorldEffect } from './world';
import { MSG_REPLY, OP_KV_PUT, SERVICE_ADDR, STATUS_NOT_FOUND, STATUS_OK, decodeMessage, encodeMessage } from './wire';

type Row = [number, number, number, number, number, number, number | null, number | null, number | null];

// ── a small deterministic case, checked against what the store recorded before it was compact ──

/** A kv service stand-in: gets of unwritten keys answer STATUS_NOT_FOUND. */
class FakeKv {
  private values = new Map<number, number>();
  reply(request: Uint8Array): Uint8Array {
    const m = decodeMessage(request);
    let value = 0;
    let status = STATUS_OK;
    if (m.op === OP_KV_PUT) this.values.set(m.key, (value = m.value));
    else if (this.values.has(m.key)) value = this.values.get(m.key)!;
    else status = STATUS_NOT_FOUND;
    return encodeMessage({ ...m, dst: m.src, src: SERVICE_ADDR, type: MSG_REPLY, value, status });
  }
}

/**
 * Seeded loss and delay, give-ups, cut-over duplicates (some with a differing value), malformed
 * frames; `each` sees the world after every 100 µs step.
 */
function goldenRun(each?: (w: World) => void) {
  const w = new World({
    seed: 11, vms: ['A', 'B'], serving: 'A',
    settings: { clientCount: 3, workload: 'kv', kvKeys: 3, retryTimeoutUs: 700, giveUpAfterAttempts: 3, thinkTimeUs: 150, loadOn: true },
  });
  const server = new FakeKv();
  let rng = 5;
  const draw = (n: number) => { const d = mulberry32(rng); rng = d.state; return d.value % n; };
  const inFlight: { atUs: number; bytes: Uint8Array }[] = [];
  for (let now = 0; now < 8000; now += 100) {
    for (const e of w.tick(now)) {
      if (e.kind === 'to-vm' && draw(4) > 0) inFlight.push({ atUs: now + 100 * (1 + draw(12)), bytes: server.reply(e.bytes) });
    }
    for (const f of inFlight.filter((x) => x.atUs <= now)) {
      inFlight.splice(inFlight.indexOf(f), 1);
      w.fromVm('A', f.bytes, now);
      const fate = draw(8);
      if (fate === 0) w.fromVm('B', f.bytes, now + 1); // a cut-over duplicate
      else if (fate === 1) w.fromVm('B', f.bytes.map((b, i) => (i === 16 ? b ^ 1 : b)), now + 1); // a differing one
      else if (fate === 2) w.fromVm('A', f.bytes.subarray(0, 20), now + 1); // malformed
    }
    each?.(w);
  }
  const clients = [1, 2, 3].map((id) => w.client(id)!);
  return {
    history: w.history().map((e) => [e.client, e.seq, e.op, e.key, e.arg, e.invokeUs, e.returnUs, e.result, e.status]),
    delivery: clients.map((c) => c.operations().map((r) => [r.attempts, r.lastSentUs, r.gaveUp])),
    dropped: clients.map((c) => c.dropped().map((d) => [d.seq, d.atUs, d.reason, d.value, d.status, d.sameResult])),
    malformed: clients.map((c) => c.malformedReplies().count),
  };
}

/*
 * What goldenRun() produced with the object-per-operation store (before op-log.ts), recorded once.
 * Rows: [client, seq, op, key, arg, invokeUs, returnUs, result, status]; delivery: [attempts,
 * lastSentUs, gaveUp] per seq; dropped: [seq, atUs, reason, value, status, sameResult].
 */
const GOLDEN_HISTORY: Row[] = [
  [1, 1, 3, 1, 0, 0, 1100, 3145729, 0],
  [2, 1, 3, 2, 0, 0, 300, 0, 1],
  [3, 1, 4, 1, 3145729, 0, 400, 3145729, 0],
  [2, 2, 3, 0, 0, 500, 1200, 0, 1],
  [3, 2, 4, 0, 3145730, 600, 1100, 3145730, 0],
  [1, 2, 3, 1, 0, 1300, 3100, 3145729, 0],
  [3, 3, 3, 0, 0, 1300, 2100, 3145730, 0],
  [2, 3, 3, 1, 0, 1400, 2400, 3145729, 0],
  [3, 4, 3, 2, 0, 2300, 3800, 2097157, 0],
  [2, 4, 3, 0, 0, 2600, 2800, 3145730, 0],
  [2, 5, 4, 2, 2097157, 3000, 4100, 2097157, 0],
  [1, 3, 3, 0, 0, 3300, 3900, 3145730, 0],
  [3, 5, 4, 2, 3145733, 4000, 4900, 3145733, 0],
  [1, 4, 3, 0, 0, 4100, 4400, 3145730, 0],
  [2, 6, 4, 2, 2097158, 4300, null, null, null],
  [1, 5, 3, 0, 0, 4600, null, null, null],
  [3, 6, 3, 0, 0, 5100, 6100, 3145730, 0],
  [3, 7, 3, 1, 0, 6300, 6700, 3145729, 0],
  [2, 7, 4, 2, 2097159, 6600, 7400, 2097159, 0],
  [1, 6, 4, 2, 1048582, 6900, 7900, 1048582, 0],
  [3, 8, 3, 1, 0, 6900, 7900, 3145729, 0],
  [2, 8, 4, 1, 2097160, 7600, null, null, null],
];
const GOLDEN_DELIVERY: [number, number, boolean][][] = [
  [[2, 700, false], [3, 2700, false], [1, 3300, false], [1, 4100, false], [3, 6000, true], [2, 7600, false]],
  [[1, 0, false], [2, 1200, false], [2, 2100, false], [1, 2600, false], [2, 3700, false], [3, 5700, true], [2, 7300, false], [1, 7600, false]],
  [[1, 0, false], [1, 600, false], [2, 2000, false], [3, 3700, false], [2, 4700, false], [2, 5800, false], [1, 6300, false], [2, 7600, false]],
];
const GOLDEN_DROPPED: [number, number, string, number, number, boolean | null][][] = [
  [
    [2, 3400, 'duplicate', 3145729, 0, true],
    [2, 3401, 'duplicate', 3145729, 0, true],
  ],
  [
    [2, 1800, 'duplicate', 3145730, 0, false],
    [5, 4600, 'duplicate', 2097157, 0, true],
    [6, 6500, 'stale', 2097158, 0, null],
  ],
  [
    [4, 4400, 'duplicate', 2097157, 0, true],
    [5, 4901, 'duplicate', 3145733, 0, true],
    [5, 5000, 'duplicate', 3145733, 0, true],
    [6, 6300, 'duplicate', 3145730, 0, true],
    [7, 6701, 'duplicate', 3145728, 0, false],
    [8, 7901, 'duplicate', 3145729, 0, true],
  ],
];
const GOLDEN_MALFORMED = [1, 1, 0];

// ── long runs ───────────────────────────────────────────────────────────────────────────────

/** A counter reply carrying `value`. */
function counterReply(request: Uint8Array, value: number): Uint8Array {
  const m = decodeMessage(request);
  return encodeMessage({ ...m, dst: m.src, src: SERVICE_ADDR, type: MSG_REPLY, value, status: STATUS_OK });
}

function loadedWorld(clientCount: number, settings = {}): World {
  return new World({
    seed: 3, vms: ['A', 'B'], serving: 'A',
    settings: { clientCount, retryTimeoutUs: 1_000_000, thinkTimeUs: 0, loadOn: true, ...settings },
  });
}

/**
 * Answers every request frame in the tick that sent it, from one counter, and re-emits every
 * DUPLICATE_EVERY-th reply and a truncated copy of every MALFORMED_EVERY-th (drop and malformed
 * records, which must stay bounded). Keeps nothing per operation, so it does not skew the heap.
 */
class InstantServer {
  static readonly DUPLICATE_EVERY = 50;
  static readonly MALFORMED_EVERY = 1000;
  value = 0;
  completed = 0;
  nowUs = 0;

  run(w: World, completedTarget: number): void {
    while (this.completed < completedTarget) {
      for (const e of w.tick(this.nowUs)) if (e.kind === 'to-vm') this.answer(w, e);
      this.nowUs += 10;
    }
  }

  private answer(w: World, e: Extract<WorldEffect, { kind: 'to-vm' }>): void {
    const reply = counterReply(e.bytes, ++this.value);
    const atUs = this.nowUs + 1;
    for (const r of w.fromVm(e.vm, reply, atUs)) if (r.kind === 'client-completed') this.completed++;
    if (this.value % InstantServer.DUPLICATE_EVERY === 0) w.fromVm('B', reply, atUs);
    if (this.value % InstantServer.MALFORMED_EVERY === 0) w.fromVm(e.vm, reply.subarray(0, 20), atUs);
  }
}

/** gc, if this process exposes it (node --expose-gc); vitest does not by default. */
function exposedGc(): (() => void) | null {
  const gc: unknown = (global as { gc?: unknown }).gc;
  return typeof gc === 'function' ? (gc as () => void) : null;
}

/** Heap plus typed-array backing stores, which live outside heapUsed. */
function heapBytes(gc: () => void): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

function compareEntries(a: HistoryEntry, b: HistoryEntry): number {
  return a.invokeUs - b.invokeUs || a.client - b.client || a.seq - b.seq;
}

describe('World history over long runs', () => {
  it('is identical to what the object-per-operation store recorded (seeded kv run)', () => {
    const run = goldenRun();
    expect(run.history).toEqual(GOLDEN_HISTORY);
    expect(run.delivery).toEqual(GOLDEN_DELIVERY);
    expect(run.dropped).toEqual(GOLDEN_DROPPED);
    expect(run.malformed).toEqual(GOLDEN_MALFORMED);
  });

  it('comes in deltas (historySince) that add up, every step, to the whole history, each operation but the outstanding ones once', () => {
    const reader = new HistoryReader();
    let cursor: number[] = [];
    let sent = 0;
    let steps = 0;
    goldenRun((w) => {
      const d = w.historySince(cursor);
      reader.apply(d);
      cursor = HistoryReader.cursorAfter(d);
      expect(cursor).toEqual(reader.cursor());
      sent += d.rows.reduce((n, r) => n + r.length, 0);
      steps++;
      expect(reader.merged()).toEqual(w.history());
    });
    // Each step resends at most one row a client (its outstanding operation).
    expect(sent).toBeLessThanOrEqual(GOLDEN_HISTORY.length + 3 * steps);
    expect(reader.size).toBe(GOLDEN_HISTORY.length);
    expect(reader.merged().map((e) => [e.client, e.seq, e.op, e.key, e.arg, e.invokeUs, e.returnUs, e.result, e.status])).toEqual(GOLDEN_HISTORY);
  });

  it('a delta that does not fit what a reader holds is refused and changes nothing', () => {
    const w = new World({ seed: 3, vms: ['A', 'B'], serving: 'A', settings: { clientCount: 2, workload: 'counter', thinkTimeUs: 100, loadOn: true } });
    for (let now = 0; now < 2000; now += 100) w.tick(now);
    const reader = new HistoryReader();
    reader.apply(w.historySince([]));
    const before = reader.merged();
    expect(before.length).toBeGreaterThan(0);
    expect(() => reader.apply({ start: [5, 0], rows: [[], []] })).toThrow(/client 1's rows start at 5, but rows 0 to 1 are held/);
    expect(() => reader.apply({ start: [0], rows: [[], []] })).toThrow(/one per client/);
    expect(reader.merged()).toEqual(before);
  });

  it('holds every operation exactly as the driver saw it, with drops counted but bounded (20k operations)', () => {
    const w = loadedWorld(8);
    let rng = 9;
    const draw = (n: number) => { const d = mulberry32(rng); rng = d.state; return d.value % n; };
    const expected = new Map<string, HistoryEntry>();
    const inFlight: { atUs: number; vm: string; bytes: Uint8Array; value: number }[] = [];
    const duplicates = new Map<number, number>();
    let value = 0;
    for (let now = 0; expected.size < 20_000; now += 100) {
      for (const e of w.tick(now)) {
        if (e.kind !== 'to-vm') continue;
        const m = decodeMessage(e.bytes);
        expect(e.attempt).toBe(1); // no loss, and a retry timeout longer than any delay
        expected.set(`${m.client}/${m.seq}`, {
          client: m.client, seq: m.seq, op: m.op, key: m.key, arg: m.value, invokeUs: now, returnUs: null, result: null, status: null,
        });
        value += 1;
        inFlight.push({ atUs: now + 100 * (1 + draw(5)), vm: e.vm, bytes: counterReply(e.bytes, value), value });
      }
      for (const f of inFlight.filter((x) => x.atUs <= now)) {
        inFlight.splice(inFlight.indexOf(f), 1);
        const m = decodeMessage(f.bytes);
        w.fromVm(f.vm, f.bytes, now);
        Object.assign(expected.get(`${m.client}/${m.seq}`)!, { returnUs: now, result: f.value, status: STATUS_OK });
        if (f.value % 7 === 0) {
          w.fromVm('B', f.bytes, now); // a cut-over duplicate
          duplicates.set(m.client, (duplicates.get(m.client) ?? 0) + 1);
        }
      }
    }
    expect(inFlight.length).toBeGreaterThan(0); // some operations are still outstanding at the end
    expect(w.history()).toEqual([...expected.values()].sort(compareEntries));
    for (const c of w.allClients()) {
      const dups = duplicates.get(c.id)!;
      expect(dups).toBeGreaterThan(DROPS_KEPT);
      expect(c.dropCounts()).toEqual({ duplicate: dups, stale: 0, duplicateDiffering: 0 });
      expect(c.dropped()).toHaveLength(DROPS_KEPT);
    }
    const restored = new World({ seed: 3, vms: [], serving: null });
    restored.restore(structuredClone(w.snapshot()));
    expect(restored.history()).toEqual(w.history());
  });

  it('keeps about 50 bytes per completed operation (200k operations, 16 clients)', () => {
    const w = loadedWorld(16);
    const server = new InstantServer();
    const gc = exposedGc();
    server.run(w, 1000); // warm up: code compiled, clients created
    const heapBeforeBytes = gc ? heapBytes(gc) : 0;
    server.run(w, 201_000);
    const heapDeltaBytes = gc ? heapBytes(gc) - heapBeforeBytes : 0;

    const ops = server.completed;
    const retainedPerOp = w.retainedBytes() / ops;
    expect(retainedPerOp).toBeGreaterThanOrEqual(OP_LOG_BYTES_PER_OP); // honest: it counts the columns
    expect(retainedPerOp).toBeLessThanOrEqual(64);
    if (gc) expect(heapDeltaBytes / (ops - 1000)).toBeLessThan(100); // an object each was ≈150

    // the drop and malformed records stayed bounded while their counts are exact
    const clients = w.allClients();
    const sum = (f: (c: (typeof clients)[number]) => number) => clients.reduce((n, c) => n + f(c), 0);
    expect(sum((c) => c.dropCounts().duplicate)).toBe(Math.floor(server.value / InstantServer.DUPLICATE_EVERY));
    expect(sum((c) => c.malformedReplies().count)).toBe(Math.floor(server.value / InstantServer.MALFORMED_EVERY));
    expect(Math.max(...clients.map((c) => c.dropped().length))).toBe(DROPS_KEPT);

    // and the history is complete: every seq of every client, each counter value exactly once
    const history = w.history();
    expect(history).toHaveLength(sum((c) => c.operationCount()));
    const seen = new Uint8Array(server.value + 1);
    let unknownSeqs = 0;
    for (const e of history) {
      if (e.result !== null) seen[e.result] += 1;
      if (e.seq < 1 || e.seq > w.client(e.client)!.operationCount()) unknownSeqs += 1;
    }
    expect(unknownSeqs).toBe(0);
    expect(history.filter((e) => e.returnUs === null)).toHaveLength(history.length - ops);
    expect(seen.indexOf(0, 1)).toBe(-1);
    expect(seen.every((n) => n <= 1)).toBe(true);
  });
});
