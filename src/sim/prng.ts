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

/** FNV-1a over a label's UTF-16 code units: a stream's name as a 32-bit number. */
function labelHash(label: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export class Prng {
  private s: PrngState;
  private readonly seed: number;

  constructor(seed: number) {
    this.seed = seed >>> 0;
    let x = this.seed;
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

  /**
   * An independent stream named `label`, derived from this generator's seed (not its position),
   * so adding a component never shifts another's stream (STYLE.md 13).
   */
  fork(label: string): Prng {
    return new Prng(splitmix32(this.seed ^ labelHash(label)));
  }

  snapshot(): PrngState {
    return { ...this.s };
  }
  restore(st: PrngState): void {
    this.s = { ...st };
  }
}
