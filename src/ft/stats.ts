/**
 * Bounded running statistics: what the hypervisors keep instead of lists that grow with the run.
 * An hour-long lecture produces millions of output stalls; the UI and the summary need their count,
 * median and maximum, and a few recent ones to draw — never all of them.
 */

export interface StallSummary {
  count: number;
  medianUs: number;
  maxUs: number;
}

/**
 * Durations in µs: exact count, sum and maximum; the median from a log-scale histogram whose
 * buckets are exact below 64 µs and 1/64 of an octave wide above (under 1.1% error). The state is
 * plain data (a bucket → count record), bounded by the range of values, not their number.
 */
export class DurationStats {
  private count = 0;
  private sumUs = 0;
  private maxUs = 0;
  private buckets: Record<number, number> = {};

  add(us: number): void {
    const v = Math.max(0, us);
    this.count++;
    this.sumUs += v;
    if (v > this.maxUs) this.maxUs = v;
    const b = bucketOf(v);
    this.buckets[b] = (this.buckets[b] ?? 0) + 1;
  }

  summary(): StallSummary {
    if (this.count === 0) return { count: 0, medianUs: 0, maxUs: 0 };
    return { count: this.count, medianUs: Math.min(this.maxUs, this.quantileUs(0.5)), maxUs: this.maxUs };
  }

  /** The count and maximum alone, without the median's sort: cheap enough for every view. */
  get countAll(): number {
    return this.count;
  }

  get maxAllUs(): number {
    return this.maxUs;
  }

  get meanUs(): number {
    return this.count === 0 ? 0 : this.sumUs / this.count;
  }

  /** The lower edge of the bucket holding the q-quantile. */
  private quantileUs(q: number): number {
    const keys = Object.keys(this.buckets).map(Number).sort((a, b) => a - b);
    const rank = Math.ceil(q * this.count);
    let seen = 0;
    for (const k of keys) {
      seen += this.buckets[k];
      if (seen >= rank) return valueOf(k);
    }
    return this.maxUs;
  }

  snapshot(): DurationStatsState {
    return { count: this.count, sumUs: this.sumUs, maxUs: this.maxUs, buckets: { ...this.buckets } };
  }

  static restore(s: DurationStatsState): DurationStats {
    const d = new DurationStats();
    d.count = s.count;
    d.sumUs = s.sumUs;
    d.maxUs = s.maxUs;
    d.buckets = { ...s.buckets };
    return d;
  }
}

export interface DurationStatsState {
  count: number;
  sumUs: number;
  maxUs: number;
  buckets: Record<number, number>;
}

const EXACT_BELOW_US = 64;
const STEPS_PER_OCTAVE = 64;

function bucketOf(us: number): number {
  if (us < EXACT_BELOW_US) return Math.floor(us);
  return EXACT_BELOW_US + Math.floor(Math.log2(us / EXACT_BELOW_US) * STEPS_PER_OCTAVE);
}

function valueOf(bucket: number): number {
  if (bucket < EXACT_BELOW_US) return bucket;
  return EXACT_BELOW_US * 2 ** ((bucket - EXACT_BELOW_US) / STEPS_PER_OCTAVE);
}

/** The last `capacity` items, oldest first: recent history for the UI, bounded. */
export class Ring<T> {
  private items: T[] = [];
  private start = 0;
  total = 0;

  constructor(readonly capacity: number) {
    if (!(capacity >= 1)) throw new Error(`ring capacity ${capacity} must be ≥ 1`);
  }

  push(x: T): void {
    this.total++;
    if (this.items.length < this.capacity) this.items.push(x);
    else {
      this.items[this.start] = x;
      this.start = (this.start + 1) % this.capacity;
    }
  }

  toArray(): T[] {
    return [...this.items.slice(this.start), ...this.items.slice(0, this.start)];
  }

  get length(): number {
    return this.items.length;
  }
}
