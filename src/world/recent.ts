/**
 * The most recent items of an unbounded stream (dropped replies, malformed frames), for the UI. A
 * long run drops many replies; keeping each one for ever would grow without bound, so the owner
 * counts every item exactly and keeps only the last `capacity` here, in a fixed ring.
 */
export class Recent<T> {
  readonly capacity: number;
  private items: T[] = [];
  /** Once full: the slot of the oldest item, which the next push overwrites. */
  private oldest = 0;

  constructor(capacity: number, items: readonly T[] = []) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`ring capacity ${capacity} must be an integer ≥ 1`);
    this.capacity = capacity;
    for (const item of items) this.push(item);
  }

  get length(): number {
    return this.items.length;
  }

  push(item: T): void {
    if (this.items.length < this.capacity) {
      this.items.push(item);
      return;
    }
    this.items[this.oldest] = item;
    this.oldest = (this.oldest + 1) % this.capacity;
  }

  /** Oldest first (a new array; the items themselves are shared). */
  toArray(): T[] {
    return [...this.items.slice(this.oldest), ...this.items.slice(0, this.oldest)];
  }
}
