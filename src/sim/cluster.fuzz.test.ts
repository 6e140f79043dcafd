/**
 * Seed sweep: every guest under varied links (slow and jittery logging channel, lossy client
 * network), a half-speed backup, a tiny log buffer, disk reads held or not. Every checker must
 * hold on every seed; a failure names the seed and variant to replay with `npm run sim`.
 */
import { describe, expect, it } from 'vitest';
import { Cluster } from './cluster';
import { GUEST_NAMES, guestClusterConfig } from './guests';
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
