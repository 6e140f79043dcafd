/**
 * Runs the committed ISA test programs (guests/isa/*.S, built into public/guests/isa/*.elf) on
 * the hart until they report through tohost: 1 = pass, (n << 1) | 1 = test n failed.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseElf } from './elf';
import { rigWithElf } from './testing/harness';

const ISA_DIR = fileURLToPath(new URL('../../public/guests/isa/', import.meta.url));

function runElf(name: string, budget = 10_000_000) {
  const image = parseElf(new Uint8Array(readFileSync(ISA_DIR + name)));
  const rig = rigWithElf(image);
  const result = rig.hart.run(budget);
  return { ...rig, result };
}

describe('ISA test programs', () => {
  for (const name of ['rv32ui', 'rv32um', 'rv32ua', 'rv32uc', 'rv32mi']) {
    it(`${name} passes`, () => {
      const { result } = runElf(`${name}.elf`);
      const failed = result.tohost !== undefined && result.tohost !== 1 ? ` (test ${result.tohost >>> 1} failed)` : '';
      expect(result.reason + failed).toBe('exit');
      expect(result.tohost).toBe(1);
    });
  }

  it('bench-loop computes its checksum and exits 0', () => {
    const { result, hart } = runElf('bench-loop.elf', 100_000_000);
    expect(result.reason).toBe('exit');
    expect(result.tohost).toBe(1);
    expect(hart.icount).toBe(result.retired);
  });
});
