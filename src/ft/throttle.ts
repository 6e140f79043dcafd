/**
 * Throttling (paper §3.2; docs/design.md §4): a slow feedback loop on the primary's CPU share that
 * keeps the backup's lag near `lagThresholdUs`, so a slow backup slows the primary a little instead
 * of letting the lag — and with it the failover time — grow.
 *
 * At most once per `throttleIntervalUs`: above the threshold the share is cut by `throttleStep`
 * while the lag still grows (and held while it shrinks); below it, the share is restored, pausing
 * while the lag grows in the upper half of the band. Watching the trend keeps the loop from
 * winding down to the floor while a lag already on its way back decays (a plain "above → cut"
 * rule swings between the floor and full speed).
 */

export interface ThrottleSettings {
  lagThresholdUs: number;
  throttleStep: number;
  throttleIntervalUs: number;
  cpuShareMin: number;
}

export interface ThrottleState {
  cpuShare: number;
  lastAdjustUs: number;
  lastLagUs: number;
}

export class Throttle {
  private st: ThrottleState = { cpuShare: 1, lastAdjustUs: -Infinity, lastLagUs: 0 };

  constructor(private readonly settings: ThrottleSettings) {}

  /** One step of the loop with the lag measured now; returns the new share if it changed. */
  update(nowUs: number, lagUs: number): number | null {
    const st = this.st;
    const s = this.settings;
    if (nowUs - st.lastAdjustUs < s.throttleIntervalUs) return null;
    st.lastAdjustUs = nowUs;
    const rising = lagUs > st.lastLagUs;
    st.lastLagUs = lagUs;
    let next = st.cpuShare;
    if (lagUs > s.lagThresholdUs) {
      if (rising) next = Math.max(s.cpuShareMin, st.cpuShare - s.throttleStep);
    } else if (!(rising && lagUs > s.lagThresholdUs / 2)) {
      next = Math.min(1, st.cpuShare + s.throttleStep);
    }
    next = Math.round(next * 1e6) / 1e6;
    if (next === st.cpuShare) return null;
    if (!(next >= s.cpuShareMin - 1e-9 && next <= 1)) throw new Error(`throttle: share ${next} outside [${s.cpuShareMin}, 1]`);
    st.cpuShare = next;
    return next;
  }

  get cpuShare(): number {
    return this.st.cpuShare;
  }

  snapshot(): ThrottleState {
    return { ...this.st };
  }
  restore(s: ThrottleState): void {
    this.st = { ...s };
  }
}
