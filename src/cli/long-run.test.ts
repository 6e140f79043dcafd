/**
 * Long runs in flat memory: nothing the simulator, the hypervisors or the world keep grows with
 * the length of a run beyond a compact record per client operation. Each run is a `sim` command
 * in its own process, so its peak memory is its own.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';

function sim(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', 'src/cli/sim.ts', ...args, '--report-memory']);
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('long runs', () => {
  it('10 minutes of the counter with 16 clients stays under 400 MB; an hour of the ticker completes', async () => {
    const [busy, hour] = await Promise.all([
      sim(['--guest', 'counter', '--clients', '16', '--duration', '600s', '--seed', '7']),
      sim(['--guest', 'ticker', '--duration', '3600s', '--seed', '7']),
    ]);
    for (const r of [busy, hour]) {
      expect(r.code, r.stderr + r.stdout).toBe(0);
      expect(r.stdout).toMatch(/checkers: all hold/);
    }
    const ops = Number(/client ops completed: (\d+)/.exec(busy.stdout)?.[1]);
    expect(ops).toBeGreaterThan(500_000);
    const peakMb = Number(/peak memory: (\d+) MB/.exec(busy.stdout)?.[1]);
    expect(peakMb).toBeGreaterThan(0);
    expect(peakMb).toBeLessThan(400);
    expect(hour.stdout).toMatch(/3600\.000 s virtual/);
  }, 900_000);
});
