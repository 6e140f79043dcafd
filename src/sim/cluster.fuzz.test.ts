/**
 * Seed sweep: every guest under varied links (slow and jittery logging channel, lossy client
 * network), a half-speed backup, a tiny log buffer, disk reads held or not. Every checker must
 * hold on every seed; a failure names the seed and variant to replay with `npm run sim`.
 */
import { describe, expect, it } from 'vitest';
import { Cluster } from './cluster';
import { GUEST_NAMES, guestClusterConfig } from './guests';
import { parseScript } from './script';
import { Prng } from './prng';
import { readGuestElf } from './guest-files';

const SEEDS = [100, 101, 102, 103, 104, 105, 106, 107];

describe('seed sweep', () => {
  for (const guest of GUEST_NAMES) {
    it(`${guest}: all checkers hold on ${SEEDS.length} seeds`, () => {
      const elf = readGuestElf(guest);
      for (const seed of SEEDS) {
        const base = guestClusterConfig(guest, elf, seed, 1 + (seed % 6));
        const variant = seed % 4;
        const c = new Cluster({
          ...base,
          backupSpeedIps: variant === 1 ? 2_000_000 : 4_000_000,
          loggingLink: { delayUs: 20 + (seed % 7) * 300, jitterUs: 500, inOrder: true },
          netLink: { delayUs: 100, jitterUs: 300, inOrder: false, lossRate: variant === 2 ? 0.1 : 0 },
          ft: { ...base.ft, logBufferBytesMax: variant === 3 ? 300 : 256 * 1024, holdDiskReads: seed % 2 === 0 },
        });
        c.run(1_000_000);
        const where = `guest ${guest} seed ${seed} variant ${variant}`;
        expect(c.drain(), where).toBe(true);
        expect(c.violations(), where).toEqual([]);
        expect(c.summary().sync, where).toBe('in-sync');
      }
    });
  }
});

describe('failure sweep', () => {
  const actions = ['kill primary', 'kill backup', 'partition logging', 'cut A disk', 'cut B disk', 'cut A clients'];

  it('a failure, maybe a heal, FT VMotion and a second failure: every checker holds, never two servers', () => {
    for (let seed = 1; seed <= 12; seed++) {
      const r = new Prng(seed * 7919);
      const guest = GUEST_NAMES[seed % 3];
      const at = (a: number, b: number): string => (a + r.nextFloat() * (b - a)).toFixed(3);
      const steps = [`${actions[r.int(actions.length)]} at ${at(0.1, 0.5)}s`];
      if (r.nextFloat() < 0.5) steps.push(`heal at ${at(0.5, 0.9)}s`);
      steps.push(`vmotion at ${at(1.0, 1.2)}s`);
      if (r.nextFloat() < 0.7) steps.push(`${actions[r.int(2)]} at ${at(1.3, 1.6)}s`);
      const script = steps.join('; ');
      const base = guestClusterConfig(guest, readGuestElf(guest), seed, 1 + (seed % 4));
      const c = new Cluster({
        ...base, keepTrace: false, script: parseScript(script),
        loggingLink: { delayUs: 50 + (seed % 5) * 100, jitterUs: 50, inOrder: seed % 3 !== 0, lossRate: seed % 4 === 0 ? 0.02 : 0 },
      });
      c.run(2_000_000);
      const s = c.finish();
      const where = `reproduce with: npm run sim -- --guest ${guest} --seed ${seed} --script "${script}" (links differ: see the test)`;
      expect(s.drained, where).toBe(true);
      expect(c.violations(), where).toEqual([]);
      expect(Object.values(c.roles).filter((x) => x === 'live' || x === 'primary').length, where).toBeLessThanOrEqual(1);
    }
  });
});
