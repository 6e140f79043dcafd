/**
 * A host on a real clock (free run in the browser: docs/design.md §1.5). The simulator's hosts
 * take their slice times from a model of their speed (cluster-config.ts); a host in free run takes
 * them from the clock it is given, as a real host does: a slice lasts as long as it really ran, and
 * the next slice is sized from the speed measured so far, so a slice stays about `targetSliceUs`
 * long whatever the machine's speed (the interpreter cold, the translator warm, a busy core).
 *
 * Clock-free itself: the clock is injected. Not reproducible, and never used by the simulator.
 */
import type { HostPacing } from './host-types';

/** Slices measured together before the speed estimate moves: the clock may be coarse (100 µs). */
const MEASURE_MIN_US = 2_000;
/** Weight of the newest measurement in the speed estimate. */
const IPS_WEIGHT = 0.3;
const SLICE_MIN = 1_000;
const SLICE_MAX = 20_000_000;

export class RealClockPacing implements HostPacing {
  private ipsNow: number;
  private measured = false;
  private pendingRetired = 0;
  private pendingUs = 0;

  constructor(
    private readonly clock: () => number,
    /** How long a slice should last, in µs of the clock. */
    private readonly targetSliceUs: number,
    /** The speed assumed until the first measurement (instructions per second). */
    readonly nominalIps: number,
    /**
     * This host's speed against a full-speed host (the model's speed over the primary's, at most
     * 1): a slice lasts what it ran divided by it, so a backup set to half speed runs at half the
     * speed its worker could, and lags and throttles as the model's would.
     */
    private readonly relativeSpeed = 1,
  ) {
    if (!(targetSliceUs > 0) || !(nominalIps > 0)) throw new Error(`real-clock pacing: slice ${targetSliceUs} µs at ${nominalIps} instructions/s`);
    if (!(relativeSpeed > 0 && relativeSpeed <= 1)) throw new Error(`real-clock pacing: relative speed ${relativeSpeed} outside (0, 1]`);
    this.ipsNow = nominalIps;
  }

  get sliceInstructions(): number {
    return Math.min(SLICE_MAX, Math.max(SLICE_MIN, Math.floor((this.ipsNow * this.targetSliceUs) / 1e6)));
  }

  /** The slice that started at `startUs` took until now; its speed goes into the estimate. */
  sliceUs(retired: number, startUs: number): number {
    const us = Math.max(0, this.clock() - startUs) / this.relativeSpeed;
    this.pendingRetired += retired;
    this.pendingUs += us;
    if (this.pendingUs >= MEASURE_MIN_US) {
      const ips = (this.pendingRetired * 1e6) / this.pendingUs;
      this.ipsNow = this.measured ? this.ipsNow + IPS_WEIGHT * (ips - this.ipsNow) : ips;
      this.measured = true;
      this.pendingRetired = 0;
      this.pendingUs = 0;
    }
    return us;
  }

  /** The measured speed (instructions per second of the clock). */
  ips(): number {
    return this.ipsNow;
  }

  now(): number {
    return this.clock();
  }
}
