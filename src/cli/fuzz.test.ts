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

/** The arguments of a printed `reproduce with: npm run sim -- …` line. */
function reproduceArgs(stdout: string): string[] {
  const line = /reproduce with: npm run sim -- (.*)/.exec(stdout)?.[1];
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

  const expected: [string, RegExp][] = [
    ['output-rule', /output rule/],
    ['test-and-set', /one server/],
    ['nondet-log', /hashes/],
  ];
  for (const [sw, checker] of expected) {
    it(`--break ${sw} is caught within 200 seeds, and the reproduce command fails by itself`, async () => {
      const r = await run('fuzz', ['--runs', '200', '--break', sw, '--stop']);
      expect(r.code, r.stdout).toBe(1);
      expect(r.stdout).toMatch(new RegExp(`FAIL seed \\d+: ${checker.source}`));
      const again = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/sim.ts', ...reproduceArgs(r.stdout)], { encoding: 'utf8' });
      expect(again.status, again.stdout).toBe(1);
      expect(again.stdout).toMatch(checker);
    }, 600_000);
  }

  it('refuses an unknown switch or guest with a usage error', async () => {
    expect((await run('fuzz', ['--break', 'gravity'])).code).toBe(2);
    expect((await run('fuzz', ['--guest', 'doom'])).code).toBe(2);
  });
});
