/**
 * The world's randomness: a seeded PRNG whose whole state is one 32-bit number, so a client's
 * workload can be snapshotted and replayed exactly (STYLE.md habits 1 and 6). A PRNG *function*
 * passed in could not be captured by snapshot(); a seed passed in can.
 *
 * mulberry32 (Tommy Ettinger, public domain): a 32-bit state, period 2^32, good enough to pick
 * operations and keys.
 */

export interface PrngDraw {
  /** Uniform unsigned 32-bit value. */
  value: number;
  /** The state to use for the next draw. */
  state: number;
}

/** One draw: pure, so the caller owns the state. */
export function mulberry32(state: number): PrngDraw {
  const next = (state + 0x6d2b79f5) >>> 0;
  let t = next;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return { value: (t ^ (t >>> 14)) >>> 0, state: next };
}

/** Derives independent-looking seeds for several streams (one per client) from one world seed. */
export function deriveSeed(seed: number, stream: number): number {
  return mulberry32((seed ^ Math.imul(stream + 1, 0x9e3779b9)) >>> 0).value;
}
