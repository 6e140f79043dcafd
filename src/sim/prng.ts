/**
 * The simulator's seeded PRNG: sfc32 (Chris Doty-Humphrey's Small Fast Counting generator, from
 * PractRand), seeded through splitmix32 so that nearby seeds give unrelated streams. Its whole state
 * is four 32-bit words, so it snapshots as plain data. Same seed → identical stream, everywhere.
 */
export interface PrngState {
  a: number;
  b: number;
  c: number;
  d: number;
}

function splitmix32(x: number): number {
  x = (x + 0x9e3779b9) >>> 0;
  let z = x;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

export class Prng {
  private s: PrngState;

  constructor(seed: number) {
    let x = seed >>> 0;
    const next = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      return splitmix32(x);
    };
    this.s = { a: next(), b: next(), c: next(), d: next() };
    for (let i = 0; i < 12; i++) this.nextU32(); // mix the fresh state, as sfc32's author advises
  }

  /** Uniform unsigned 32-bit integer. */
  nextU32(): number {
    const s = this.s;
    const t = (((s.a + s.b) >>> 0) + s.d) >>> 0;
    s.d = (s.d + 1) >>> 0;
    s.a = (s.b ^ (s.b >>> 9)) >>> 0;
    s.b = (s.c + (s.c << 3)) >>> 0;
    s.c = ((s.c << 21) | (s.c >>> 11)) >>> 0;
    s.c = (s.c + t) >>> 0;
    return t;
  }

  /** Uniform in [0, 1). */
  nextFloat(): number {
    return this.nextU32() / 0x1_0000_0000;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.nextFloat() * n);
  }

  /** A new independent generator, seeded from this one (one stream per component). */
  fork(): Prng {
    return new Prng(this.nextU32());
  }

  snapshot(): PrngState {
    return { ...this.s };
  }
  restore(st: PrngState): void {
    this.s = { ...st };
  }
}
