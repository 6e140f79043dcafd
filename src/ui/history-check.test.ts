/**
 * The page's verdict as it grows (history-check.ts): fed deltas as a run goes on, it must say at
 * every point what the checker says of the whole history — while a counter check holds only the
 * operations since its last quiescent point.
 */
import { describe, expect, it } from 'vitest';
import { Cluster } from '../sim/cluster';
import { CLUSTER_DEFAULTS } from '../sim/cluster-config';
import { guestClusterConfig, type GuestName } from '../sim/guests';
import { readGuestElf } from '../sim/guest-files';
import { checkLinearizable } from '../sim/linearizability';
import { parseScript } from '../sim/script';
import { HistoryReader, type HistoryEntry } from '../world/history';
import { OP_COUNTER_INC, STATUS_OK } from '../world/wire';
import { HistoryCheck } from './history-check';

/** The default settings; `slowLog`, the scenarios' 2 ms logging channel (the Output Rule's example). */
function cluster(guest: GuestName, seed: number, script: string, o: { outputRule?: boolean; slowLog?: boolean } = {}): Cluster {
  const base = guestClusterConfig(guest, readGuestElf(guest), seed, 3);
  const slow = o.slowLog ? { loggingLink: { delayUs: 2_000, jitterUs: 0 } } : {};
  return new Cluster({ ...CLUSTER_DEFAULTS, ...base, ...slow, ft: { ...base.ft, outputRule: o.outputRule ?? true }, script: parseScript(script) });
}

/** Runs `c` to `untilUs`, a check every `everyUs` from deltas; each verdict against the whole history's. */
function follow(c: Cluster, model: 'counter' | 'kv', untilUs: number, everyUs: number): { check: HistoryCheck; kinds: string[]; maxHeld: number } {
  const check = new HistoryCheck(model);
  let cursor: number[] = [];
  const kinds: string[] = [];
  let maxHeld = 0;
  for (let t = everyUs; t <= untilUs; t += everyUs) {
    c.run(t);
    const d = c.world.historySince(cursor);
    cursor = HistoryReader.cursorAfter(d);
    check.take(d);
    const whole = c.world.history();
    const expected = checkLinearizable(whole, model).kind;
    const got = check.check().kind;
    expect(got, `at ${t} µs (seed ${c.cfg.seed})`).toBe(expected);
    expect(check.ops).toBe(whole.length);
    kinds.push(got);
    maxHeld = Math.max(maxHeld, check.heldOps);
  }
  return { check, kinds, maxHeld };
}

describe('the verdict from deltas', () => {
  it('counter, a failover: the same verdict as the whole history at every check, holding a few operations', () => {
    const c = cluster('counter', 4, 'kill primary at 1500ms');
    const { check, kinds, maxHeld } = follow(c, 'counter', 4_000_000, 100_000);
    expect(kinds.every((k) => k === 'ok')).toBe(true);
    expect(check.ops).toBeGreaterThan(1000);
    // Let go as it goes: never more than a check's worth held (about 140 operations in 100 ms).
    expect(maxHeld).toBeLessThan(200);
  });

  it('counter, clients always overlapping (a 2 ms logging channel): nothing settles, and the verdict is still the whole history\'s', () => {
    const c = cluster('counter', 4, '', { slowLog: true });
    const { check, kinds } = follow(c, 'counter', 1_500_000, 100_000);
    expect(kinds.every((k) => k === 'ok')).toBe(true);
    expect(check.heldOps).toBe(check.ops);
  });

  it('counter, the Output Rule off and the primary killed: the violation is found as the whole history finds it', () => {
    const c = cluster('counter', 6, '', { outputRule: false, slowLog: true });
    let armed = true;
    c.listeners.push((e) => {
      // A reply leaves A after 1.2 s while its log entry is on its way: cut the logging channel (the
      // entry is lost) and kill A, as the Output Rule scenario does. B goes live without it.
      if (armed && e.tUs > 1_200_000 && e.vm === 'A' && e.ev === 'output-released' && e.out === 'net-tx') {
        armed = false;
        c.at(c.now, { kind: 'partition', what: 'logging' });
        c.at(c.now, { kind: 'kill', vm: 'A' });
      }
    });
    const { kinds } = follow(c, 'counter', 3_000_000, 100_000);
    expect(kinds).toContain('violation');
    expect(kinds.indexOf('violation')).toBeGreaterThan(5);
  });

  it('kv: the whole history each time, the same verdict', () => {
    const c = cluster('kv', 5, 'kill primary at 600ms');
    const { kinds } = follow(c, 'kv', 1_500_000, 250_000);
    expect(kinds.every((k) => k === 'ok')).toBe(true);
  });

  it('two increments with one reply after a long settled prefix: still a violation', () => {
    // Client 1 increments 500 times, one at a time (each settles), then clients 1 and 2 both see 501.
    const rows: HistoryEntry[][] = [[], []];
    const inc = (client: number, seq: number, at: number, result: number): HistoryEntry => ({ client, seq, op: OP_COUNTER_INC, key: 0, arg: 0, invokeUs: at, returnUs: at + 5, result, status: STATUS_OK });
    for (let i = 1; i <= 500; i++) rows[0].push(inc(1, i, i * 10, i));
    const check = new HistoryCheck('counter');
    check.take({ start: [0, 0], rows });
    expect(check.check().kind).toBe('ok');
    expect(check.heldOps).toBeLessThan(5);
    check.take({ start: [500, 0], rows: [[inc(1, 501, 6000, 501)], [inc(2, 1, 6100, 501)]] });
    const r = check.check();
    expect(r.kind).toBe('violation');
    expect(checkLinearizable([...rows[0], inc(1, 501, 6000, 501), inc(2, 1, 6100, 501)], 'counter').kind).toBe('violation');
  });
});
