/**
 * Every scenario's runs, in the simulator — the same runs the browser plays (the runtime's cluster
 * config from the scenario's settings): each phase runs to its last step and the narrated claims
 * are checked, for several seeds. A failure names the scenario, the phase and the seed.
 */
import { describe, expect, it } from 'vitest';
import { Cluster } from '../sim/cluster';
import { readGuestElf } from '../sim/guest-files';
import { checkLinearizable } from '../sim/linearizability';
import { parseScript } from '../sim/script';
import type { TraceEvent } from '../sim/trace';
import { runtimeClusterConfig } from '../runtime/runtime';
import { SCENARIOS, scenarioByName } from './scenarios';
import { phaseSettings } from './scenario-types';
import { startOptions } from './settings';
import type { GuestName } from '../sim/guests';

interface PhaseRun {
  trace: TraceEvent[];
  roles: Record<string, string>;
  results: number[];
  lin: string;
  cluster: Cluster;
}

function runPhase(name: string, phase: number, seed: number | null): PhaseRun {
  const sc = scenarioByName(name)!;
  const { settings, load } = phaseSettings(sc, phase, seed);
  const untilUs = Math.max(...sc.steps.filter((s) => s.phase === phase).map((s) => s.atUs));
  const o = startOptions(settings, readGuestElf(settings.guest as GuestName), load);
  const cluster = new Cluster({ ...runtimeClusterConfig(o), keepTrace: true });
  cluster.run(untilUs);
  const results = cluster.trace.filter((e): e is Extract<TraceEvent, { ev: 'client-completed' }> => e.ev === 'client-completed').map((e) => e.result);
  const model = settings.guest === 'kv' ? 'kv' : 'counter';
  const lin = settings.clients > 0 && (settings.guest === 'counter' || settings.guest === 'kv') ? checkLinearizable(cluster.world.history(), model).kind : 'none';
  return { trace: cluster.trace, roles: cluster.roles, results, lin, cluster };
}

const has = (r: PhaseRun, ev: TraceEvent['ev'], vm?: string): boolean => r.trace.some((e) => e.ev === ev && (vm === undefined || e.vm === vm));

describe('the scenarios are well formed', () => {
  it('every scenario has steps in time order within each phase, scripts that parse, and a unique name', () => {
    expect(new Set(SCENARIOS.map((s) => s.name)).size).toBe(SCENARIOS.length);
    expect(SCENARIOS.map((s) => s.name)).toEqual([
      'timer-interrupt', 'bounce-buffer', 'nondeterministic-read', 'output-rule', 'output-rule-cost', 'split-brain', 'duplicate-output',
      'disk-reissue', 'lag-and-throttling', 'log-buffer-full', 'vmotion', 'what-is-a-hypervisor', 'gfs-vs-ft', 'security', 'beyond-fail-stop',
    ]);
    for (const sc of SCENARIOS) {
      expect(sc.steps.length, sc.name).toBeGreaterThanOrEqual(2);
      for (const p of sc.phases) expect(() => parseScript(p.script), sc.name).not.toThrow();
      for (let i = 1; i < sc.steps.length; i++) {
        const [a, b] = [sc.steps[i - 1], sc.steps[i]];
        if (a.phase === b.phase) expect(b.atUs, `${sc.name} step ${i + 1}`).toBeGreaterThan(a.atUs);
        expect(b.phase, `${sc.name}: phases in order`).toBeGreaterThanOrEqual(a.phase);
      }
      expect(new Set(sc.steps.map((s) => s.phase)).size, `${sc.name}: every phase has a step`).toBe(sc.phases.length);
    }
  });
});

describe('the narrated claims hold in the simulator', () => {
  for (const seed of [1, 7, 42]) {
    it(`output-rule, seed ${seed}: with the rule, 11 then 12 at each of the four points; without it, 11 twice`, () => {
      for (const phase of [0, 1, 2, 3]) {
        const r = runPhase('output-rule', phase, seed);
        expect(r.results.slice(0, 10), `phase ${phase + 1}, seed ${seed}`).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        expect(r.results.slice(10), `phase ${phase + 1}, seed ${seed}`).toEqual([11, 12]);
        expect(r.lin, `phase ${phase + 1}, seed ${seed}`).toBe('ok');
      }
      const broken = runPhase('output-rule', 4, seed);
      expect(broken.results.slice(10), `seed ${seed}`).toEqual([11, 11]);
      expect(broken.lin, `seed ${seed}`).toBe('violation');
    });

    it(`split-brain, seed ${seed}: one server with test-and-set; two without, and a history no counter gives`, () => {
      const safe = runPhase('split-brain', 0, seed);
      expect(Object.values(safe.roles).sort(), `seed ${seed}`).toEqual(['halted', 'live']);
      expect(safe.lin, `seed ${seed}`).toBe('ok');
      const broken = runPhase('split-brain', 1, seed);
      expect(Object.values(broken.roles), `seed ${seed}`).toEqual(['live', 'live']);
      expect(broken.lin, `seed ${seed}`).toBe('violation');
    });

    it(`duplicate-output, seed ${seed}: the retried request's second reply is dropped by seq`, () => {
      const r = runPhase('duplicate-output', 0, seed);
      expect(r.trace.filter((e) => e.ev === 'client-dropped-duplicate'), `seed ${seed}`).toHaveLength(1);
      expect(r.results.slice(10), `seed ${seed}`).toEqual([11, 12]);
      expect(r.roles, `seed ${seed}`).toEqual({ A: 'primary', B: 'backup' });
    });

    it(`disk-reissue, seed ${seed}: B re-issues the write A left pending`, () => {
      const r = runPhase('disk-reissue', 0, seed);
      const live = r.trace.find((e) => e.ev === 'went-live');
      expect(live && live.ev === 'went-live' ? live.reissued : 0, `seed ${seed}`).toBeGreaterThan(0);
      expect(r.lin).toBe('ok');
    });

    it(`vmotion, seed ${seed}: C becomes the backup, in sync, and serves after the second failure`, () => {
      const r = runPhase('vmotion', 0, seed);
      expect(r.roles, `seed ${seed}`).toEqual({ A: 'crashed', B: 'crashed', C: 'live' });
      expect(has(r, 'hash-ok', 'C'), `seed ${seed}`).toBe(true);
      expect(has(r, 'divergence'), `seed ${seed}`).toBe(false);
      expect(r.lin).toBe('ok');
    });

    it(`timer, nondeterministic reads, lag, log buffer, seed ${seed}: what the narration points at is there`, () => {
      const timer = runPhase('timer-interrupt', 0, seed);
      expect(timer.trace.some((e) => e.ev === 'log-sent' && e.entries.some((x) => x[2] === 'timer'))).toBe(true);
      expect(has(timer, 'divergence')).toBe(false);
      expect(has(runPhase('nondeterministic-read', 0, seed), 'divergence')).toBe(false);
      expect(has(runPhase('nondeterministic-read', 1, seed), 'divergence')).toBe(true);
      const lag = runPhase('lag-and-throttling', 0, seed);
      expect(lag.trace.some((e) => e.ev === 'cpu-share' && e.share < 1)).toBe(true);
      expect(lag.roles.B).toBe('live');
      expect(has(runPhase('log-buffer-full', 0, seed), 'blocked', 'A')).toBe(true);
    });
  }

  it('bounce-buffer: in sync with it; without it (its pinned seed), the hash check catches the race', () => {
    expect(has(runPhase('bounce-buffer', 0, 1), 'divergence')).toBe(false);
    expect(has(runPhase('bounce-buffer', 1, 1), 'divergence')).toBe(true);
  });

  it('security: the hash check exposes values that did not come from the primary', () => {
    expect(has(runPhase('security', 0, 1), 'divergence')).toBe(true);
  });

  it('beyond-fail-stop: a bit flipped in A\'s RAM at 300 ms, caught by the next hash check, and A runs on', () => {
    for (const seed of [1, 7]) {
      const r = runPhase('beyond-fail-stop', 0, seed);
      const div = r.trace.find((e) => e.ev === 'divergence');
      expect(div && div.tUs, `seed ${seed}`).toBeGreaterThan(300_000);
      expect(r.roles.A, `seed ${seed}`).toBe('primary');
    }
  });
});
