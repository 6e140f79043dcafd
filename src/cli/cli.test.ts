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

  it('takes --flag=value, prints --help and exits 0, and refuses stray words, bad numbers and huge counts', () => {
    expect(cli('sim', ['--guest=counter', '--seed=3', '--duration=100ms']).code).toBe(0);
    const help = cli('sim', ['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--script/);
    for (const bad of [['counter'], ['--seed', '4294967296'], ['--seed', '-1'], ['--clients', '100000'], ['--duration', '2h'], ['--log-loss', '2']]) {
      const r = cli('sim', bad);
      expect(r.code, bad.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n'), bad.join(' ')).toHaveLength(1);
      expect(r.stderr, bad.join(' ')).not.toMatch(/at .*\.ts:\d+/); // no stack trace
    }
  });

  it('runs any RV32 ELF with --elf, clients only with --workload, and refuses a malformed one', () => {
    const r = cli('sim', ['--elf', 'public/guests/kv.elf', '--workload', 'kv', '--clients', '2', '--duration', '300ms']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/client ops completed: [1-9]/);
    const noClients = cli('sim', ['--elf', 'public/guests/counter.elf', '--duration', '100ms']);
    expect(noClients.stdout).toMatch(/client ops completed: 0/);
    const dir = mkdtempSync(join(tmpdir(), 'sim-cli-'));
    const bad = join(dir, 'bad.elf');
    writeFileSync(bad, readFileSync('public/guests/counter.elf').subarray(0, 100));
    const b = cli('sim', ['--elf', bad]);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/bad\.elf/);
  });

  it('--console prints the console text the primary released', () => {
    const r = cli('sim', ['--guest', 'ticker', '--duration', '300ms', '--console']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\n').length).toBeGreaterThan(15);
  });

  it('a fault script partitions and heals the logging channel; an unknown action is a usage error', () => {
    const r = cli('sim', ['--guest', 'counter', '--duration', '400ms', '--script', 'partition logging at 100ms; heal at 120ms', '--trace']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/FAULT partition logging at 100ms/);
    expect(r.stdout).toMatch(/FAULT heal at 120ms/);
    expect(r.stdout).toMatch(/checkers: all hold/);
    const bad = cli('sim', ['--script', 'explode at 1s']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown action "explode"/);
  });

  it('lossy and reordering logging channels still hold every checker', () => {
    const r = cli('sim', ['--guest', 'kv', '--duration', '500ms', '--log-loss', '0.05', '--ack-loss', '0.05', '--log-reorder']);
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/batches resent/);
  });

  it('exits 1 naming the checker when one fails', () => {
    const r = cli('sim', ['--guest', 'counter', '--duration', '300ms', '--output-rule', 'off', '--logging-delay-us', '2000']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/checkers: \d+ violation/);
    expect(r.stdout).toMatch(/released with ack/);
  });

  it('fails over on a kill, restores the pair with vmotion, and reports roles, failovers and test-and-set', () => {
    const r = cli('sim', ['--guest', 'counter', '--duration', '2s', '--script', 'kill primary at 0.3s; vmotion at 1s; kill B at 1.5s']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^roles: A crashed, B crashed, C live$/m);
    expect(r.stdout).toMatch(/^failovers: 2$/m);
    expect(r.stdout).toMatch(/B serving at .* after A was killed \(detection [\d.]+ ms, replay [\d.]+ ms, test-and-set [\d.]+ ms\)/);
    expect(r.stdout).toMatch(/^test-and-set: 2 calls, won by B, C$/m);
    expect(r.stdout).toMatch(/checkers: all hold/);
  });

  it('cuts and partitions by name; a VM that cannot exist yet is a usage error', () => {
    const r = cli('sim', ['--guest', 'kv', '--duration', '1.5s', '--script', 'cut A disk at 0.2s; partition logging at 0.25s; heal at 1s']);
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/^roles: A (halted|primary), B live$/m);
    const bad = cli('sim', ['--script', 'kill C at 1s']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/no VM C/);
  });
});

