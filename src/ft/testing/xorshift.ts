/** A tiny seeded xorshift32 for ft's own tests (ft may not import the simulator's PRNG). */
export class XorShift32 {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9;
  }
  nextU32(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s;
  }
  /** Uniform in [0, n). */
  int(n: number): number {
    return this.nextU32() % n;
  }
}
