/**
 * Discrete-event scheduler in virtual time (µs). Events run in (time, insertion order): two events
 * at the same time run in the order they were scheduled, so a run is a pure function of its seed
 * and settings. Nothing here reads a clock; `run*` advances `nowUs` from event to event.
 */
interface SimEvent {
  atUs: number;
  order: number;
  label: string;
  fn: () => void;
}

export class SchedulerError extends Error {
  override name = 'SchedulerError';
}

export class Scheduler {
  private heap: SimEvent[] = [];
  private order = 0;
  private now = 0;
  eventsRun = 0;

  get nowUs(): number {
    return this.now;
  }

  get pending(): number {
    return this.heap.length;
  }

  /** Runs `fn` at virtual time `atUs` (never in the past). `label` names it in errors. */
  at(atUs: number, label: string, fn: () => void): void {
    if (!(atUs >= this.now)) throw new SchedulerError(`event ${label} scheduled at ${atUs} µs, before now (${this.now} µs)`);
    this.push({ atUs, order: this.order++, label, fn });
  }

  after(delayUs: number, label: string, fn: () => void): void {
    this.at(this.now + Math.max(0, delayUs), label, fn);
  }

  /** Runs events up to and including `untilUs`, or until `stop()` returns true after an event. */
  runUntil(untilUs: number, stop: () => boolean = () => false): void {
    while (this.heap.length > 0 && this.heap[0].atUs <= untilUs) {
      const ev = this.pop();
      this.now = ev.atUs;
      this.eventsRun++;
      ev.fn();
      if (stop()) return;
    }
    this.now = Math.max(this.now, untilUs);
  }

  private less(a: SimEvent, b: SimEvent): boolean {
    return a.atUs < b.atUs || (a.atUs === b.atUs && a.order < b.order);
  }

  private push(ev: SimEvent): void {
    const h = this.heap;
    h.push(ev);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }

  private pop(): SimEvent {
    const h = this.heap;
    const top = h[0];
    const last = h.pop() as SimEvent;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l], h[m])) m = l;
        if (r < h.length && this.less(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }
}
