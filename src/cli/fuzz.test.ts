/**
 * The swarm fuzzer: with every switch at its default, hundreds of seeds per guest find nothing; with a
 * "break it" switch on, some seed fails with the checker that mechanism protects, and the printed
 * reproduce command fails again on its own.
 */
import { spawn, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

function run(script: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', `src/cli/${script}.ts`, ...args]);
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The arguments of the last printed `reproduce with: npm run sim -- …` line. */
function reproduceArgs(stdout: string): string[] {
  const line = [...stdout.matchAll(/reproduce with: npm run sim -- (.*)/g)].at(-1)?.[1];
  if (!line) throw new Error(`no reproduce line in:\n${stdout}`);
  return [...line.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]);
}

describe('swarm fuzzing', () => {
  it('300 seeds each of the counter and the kv guest with every mechanism on: nothing fails', async () => {
    const [counter, kv] = await Promise.all([
      run('fuzz', ['--runs', '300', '--guest', 'counter', '--seed-from', '1000', '--duration', '1s']),
      run('fuzz', ['--runs', '300', '--guest', 'kv', '--seed-from', '2000', '--duration', '1s']),
    ]);
    for (const r of [counter, kv]) {
      expect(r.stdout, r.stderr).toMatch(/300 runs .*, 0 failed, [\d.]+ runs\/s/);
      expect(r.code).toBe(0);
    }
  }, 600_000);

  /**
   * Each switch, the guest it is fuzzed with, the checker the sweep runs until, and every checker
   * that seed must fail: the direct one and, for the client-visible anomalies, linearizability.
   */
  const expected: [string, string, string, string[]][] = [
    ['output-rule', 'counter', 'linearizability', ['output rule', 'linearizability']],
    ['test-and-set', 'counter', 'linearizability', ['one server', 'linearizability']],
    ['timer-log', 'any', 'hashes', ['hashes']],
    ['bounce-buffer', 'any', 'hashes', ['hashes']],
    ['nondet-log', 'any', 'hashes', ['hashes']],
  ];
  for (const [sw, guest, until, checkers] of expected) {
    it(`--break ${sw} is caught by ${checkers.join(' and ')} within 200 seeds, and the reproduce command fails by itself`, async () => {
      const r = await run('fuzz', ['--runs', '200', '--guest', guest, '--break', sw, '--until', until, '--quiet']);
      expect(r.code, r.stdout).toBe(1);
      expect(r.stdout).toMatch(new RegExp(`until: seed \\d+ is the first run that fails ${until}`));
      const failed = [...r.stdout.matchAll(/checkers failed: (.*)/g)].at(-1)![1].split(', ');
      for (const c of checkers) expect(failed, r.stdout).toContain(c);
      const again = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/sim.ts', ...reproduceArgs(r.stdout)], { encoding: 'utf8' });
      expect(again.status, again.stdout).toBe(1);
      if (checkers.includes('linearizability')) expect(again.stdout).toMatch(/linearizability: VIOLATION/);
      for (const c of checkers.filter((x) => x !== 'linearizability')) expect(again.stdout).toContain(`: ${c}: `);
    }, 600_000);
  }

  it('refuses an unknown switch or guest with a usage error', async () => {
    expect((await run('fuzz', ['--break', 'gravity'])).code).toBe(2);
    expect((await run('fuzz', ['--guest', 'doom'])).code).toBe(2);
  });
});
