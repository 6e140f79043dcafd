/**
 * The in-memory link: the simulator's twin of the MessagePort link in src/runtime (STYLE.md 3:
 * one interface, two implementations, parallel names SimLink / PortLink). It delays each message
 * by `delayUs` plus uniform jitter, may lose it, and drops everything while partitioned.
 * `inOrder` links (the logging channel is one: the paper runs it over TCP) never reorder: a
 * message is never delivered before one sent earlier.
 */
import type { Prng } from './prng';
import type { Scheduler } from './scheduler';

export interface Link<T> {
  send(msg: T): void;
  /** Called with each message that arrives. */
  onDeliver(handler: (msg: T) => void): void;
}

export interface SimLinkSettings {
  delayUs: number;
  jitterUs: number;
  /** Probability in [0, 1] that a message is lost. */
  lossRate: number;
  inOrder: boolean;
}

export const SIM_LINK_DEFAULTS: SimLinkSettings = { delayUs: 100, jitterUs: 20, lossRate: 0, inOrder: true };

export class SimLink<T> implements Link<T> {
  private handler: ((msg: T) => void) | null = null;
  private lastDeliveryUs = 0;
  private cut = false;
  inFlight = 0;
  sent = 0;
  lost = 0;
  readonly settings: SimLinkSettings;

  constructor(
    readonly name: string,
    private readonly sched: Scheduler,
    private readonly rng: Prng,
    settings: Partial<SimLinkSettings> = {},
  ) {
    this.settings = { ...SIM_LINK_DEFAULTS, ...settings };
  }

  onDeliver(handler: (msg: T) => void): void {
    this.handler = handler;
  }

  send(msg: T): void {
    this.sent++;
    const s = this.settings;
    const jitter = s.jitterUs > 0 ? this.rng.nextFloat() * s.jitterUs : 0;
    if (this.cut || (s.lossRate > 0 && this.rng.nextFloat() < s.lossRate)) {
      this.lost++;
      return;
    }
    let atUs = this.sched.nowUs + s.delayUs + jitter;
    if (s.inOrder) atUs = Math.max(atUs, this.lastDeliveryUs);
    this.lastDeliveryUs = atUs;
    this.inFlight++;
    this.sched.at(atUs, this.name, () => {
      this.inFlight--;
      if (this.cut) {
        this.lost++;
        return;
      }
      if (!this.handler) throw new Error(`link ${this.name} has no receiver`);
      this.handler(msg);
    });
  }

  /** Partition: everything in flight and everything sent is lost until heal(). */
  partition(): void {
    this.cut = true;
  }
  heal(): void {
    this.cut = false;
  }
  get partitioned(): boolean {
    return this.cut;
  }
}
