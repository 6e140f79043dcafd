/**
 * The `vm` and `sim` commands as a user runs them: exit codes and the lines they print.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

function cli(script: string, args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', `src/cli/${script}.ts`, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('vm command', () => {
  it('runs an ISA test program to a passing tohost and exits 0', () => {
    const r = cli('vm', ['run', 'public/guests/isa/rv32ui.elf']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/pass \(tohost 1\)/);
    expect(r.stderr).toMatch(/\d+ instructions in .* MIPS/);
  });

  it('rejects a truncated ELF with one clear line and exit 2', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vm-cli-'));
    const bad = join(dir, 'truncated.elf');
    writeFileSync(bad, readFileSync('public/guests/counter.elf').subarray(0, 40));
    const r = cli('vm', ['run', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/ELF|truncated/i);
  });

  it('exits non-zero when the instruction limit is hit', () => {
    const r = cli('vm', ['run', 'public/guests/bench.elf', '--max-instructions', '100000']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/instruction limit 100000 reached/);
  });
});

describe('sim command', () => {
  it('prints a summary with the pair in sync and exits 0', () => {
    const r = cli('sim', ['--guest', 'counter', '--seed', '3', '--clients', '2', '--duration', '300ms']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/instructions: primary \d+, backup \d+/);
    expect(r.stdout).toMatch(/sync: in-sync/);
  });

  it('gives the same output for the same seed', () => {
    const args = ['--guest', 'ticker', '--seed', '11', '--duration', '200ms', '--trace'];
    expect(cli('sim', args).stdout).toBe(cli('sim', args).stdout);
  });

  it('rejects an unknown flag with one line and exit 2', () => {
    const r = cli('sim', ['--guest', 'counter', '--bogus']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')[0]).toMatch(/bogus/);
  });
});
