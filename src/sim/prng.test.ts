import { describe, expect, it } from 'vitest';
import { Prng } from './prng';

describe('Prng (sfc32)', () => {
  it('same seed → same stream; different seeds → different streams', () => {
    const draw = (seed: number): number[] => {
      const r = new Prng(seed);
      return Array.from({ length: 8 }, () => r.nextU32());
    };
    expect(draw(7)).toEqual(draw(7));
    expect(draw(7)).not.toEqual(draw(8));
    expect(draw(0).every((x) => Number.isInteger(x) && x >= 0 && x < 2 ** 32)).toBe(true);
  });

  it('snapshot/restore replays the stream', () => {
    const r = new Prng(3);
    r.nextU32();
    const snap = r.snapshot();
    const a = [r.nextU32(), r.nextU32()];
    r.restore(snap);
    expect([r.nextU32(), r.nextU32()]).toEqual(a);
  });

  it('int(n) is roughly uniform', () => {
    const r = new Prng(99);
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 40_000; i++) counts[r.int(4)]++;
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(500);
  });
});

describe('Prng.fork(label)', () => {
  it('a labelled stream depends on the seed and the label, not on draws before it', () => {
    const a = new Prng(5);
    const b = new Prng(5);
    b.nextU32();
    b.nextU32();
    expect(a.fork('link log A↔B').nextU32()).toBe(b.fork('link log A↔B').nextU32());
    expect(a.fork('link log A↔B').nextU32()).not.toBe(a.fork('link net A').nextU32());
    expect(new Prng(6).fork('link log A↔B').nextU32()).not.toBe(a.fork('link log A↔B').nextU32());
  });
});
