/**
 * The in-memory link: the simulator's twin of the MessagePort link in src/runtime (STYLE.md 3,
 * 11). Two ends; every message in flight is data — `{id, from, to, sentUs, deliverUs, msg}` — in
 * `inFlight`, so a UI can draw it, a fault can drop it, and a cluster can be snapshotted. The link
 * never schedules anything: the simulator asks `nextDeliveryUs()` and takes messages as they fall
 * due. Each message is delayed by `delayUs` plus seeded jitter, may be lost (`lossRate`), and
 * everything is lost while the link is cut. In-order links never deliver a message before one sent
 * earlier in the same direction (the logging channel runs over TCP in the paper); `inOrder: false`
 * lets jitter reorder them.
 *
 * Each direction draws from its own seeded stream and numbers its own messages (`LinkDirection`), so
 * a message's fate — when it arrives, whether it is lost — depends only on what its sender sent
 * before, never on how the two ends' sends interleave. That is what lets the browser's lockstep
 * runtime, where each end runs in its own worker and stamps what it sends itself, give the run
 * the simulator gives. Messages due at the same instant are delivered by (direction, seq).
 */
import type { LinkEnd } from '../ft/channels';
import type { Prng, PrngState } from './prng';

export interface SimLinkSettings {
  delayUs: number;
  jitterUs: number;
  /** Probability in [0, 1] that a message is lost. */
  lossRate: number;
  /** Per-direction override of lossRate, by sending end (e.g. lose acks B→A only). */
  lossRateFrom?: Record<string, number>;
  inOrder: boolean;
}

export const SIM_LINK_DEFAULTS: SimLinkSettings = { delayUs: 100, jitterUs: 20, lossRate: 0, inOrder: true };

export interface InFlight<M> {
  id: number;
  from: string;
  to: string;
  /** 0: sent by ends[0]; 1: by ends[1]. */
  dir: number;
  /** The sending end's count of messages on this link, from 1, lost ones included. */
  seq: number;
  sentUs: number;
  deliverUs: number;
  msg: M;
}

export type LossReason = 'random-loss' | 'partitioned' | 'fault';

export class SimLinkError extends Error {
  override name = 'SimLinkError';
}

export interface LinkDirectionState {
  seq: number;
  lastDeliveryUs: number;
  rng: PrngState;
}

/** One end's outgoing half of a link: its seeded stream, its sequence numbers, its in-order clamp. */
export class LinkDirection {
  private seq = 0;
  private lastDeliveryUs = 0;

  constructor(private readonly rng: Prng) {}

  /**
   * Stamps a message sent now: its seq, when it would arrive, and whether random loss takes it.
   * Jitter and loss are drawn for every message, lost or not, so one loss does not shift the stream.
   */
  stamp(nowUs: number, s: SimLinkSettings, lossRate: number): { seq: number; deliverUs: number; unlucky: boolean } {
    const jitter = s.jitterUs > 0 ? this.rng.nextFloat() * s.jitterUs : 0;
    const unlucky = lossRate > 0 && this.rng.nextFloat() < lossRate;
    let deliverUs = nowUs + s.delayUs + jitter;
    if (s.inOrder) deliverUs = Math.max(deliverUs, this.lastDeliveryUs);
    return { seq: ++this.seq, deliverUs, unlucky };
  }

  /** A stamped message really left (it was not lost): later in-order messages arrive after it. */
  sent(deliverUs: number): void {
    this.lastDeliveryUs = Math.max(this.lastDeliveryUs, deliverUs);
  }

  snapshot(): LinkDirectionState {
    return { seq: this.seq, lastDeliveryUs: this.lastDeliveryUs, rng: this.rng.snapshot() };
  }
  restore(st: LinkDirectionState): void {
    this.seq = st.seq;
    this.lastDeliveryUs = st.lastDeliveryUs;
    this.rng.restore(st.rng);
  }
}

/** The stream of direction `from → to` of link `name`, from the run's seed: the same in every runtime. */
export function linkDirectionRng(root: Prng, name: string, from: string, to: string): Prng {
  return root.fork(`link ${name}`).fork(`${from}>${to}`);
}

export class SimLink<M> {
  readonly settings: SimLinkSettings;
  /** Messages in flight, ordered by (deliverUs, id). */
  readonly inFlight: InFlight<M>[] = [];
  private nextId = 1;
  private readonly dirs: [LinkDirection, LinkDirection];
  private cut = false;
  private readonly dropRules: { from: string; match: (msg: M) => boolean }[] = [];
  sent = 0;
  lost = 0;
  /** Called for each message lost (for the trace). */
  onLoss: ((m: InFlight<M>, reason: LossReason) => void) | null = null;

  constructor(
    readonly name: string,
    readonly ends: readonly [string, string],
    root: Prng,
    settings: Partial<SimLinkSettings> = {},
  ) {
    this.settings = { ...SIM_LINK_DEFAULTS, ...settings };
    checkSettings(name, this.settings);
    this.dirs = [
      new LinkDirection(linkDirectionRng(root, name, ends[0], ends[1])),
      new LinkDirection(linkDirectionRng(root, name, ends[1], ends[0])),
    ];
  }

  /** One end of the link, as the host's transport sees it. */
  end(from: string): LinkEnd<M> {
    const to = this.peerOf(from);
    return { send: (msg, nowUs) => this.send(from, to, msg, nowUs) };
  }

  private peerOf(from: string): string {
    if (from === this.ends[0]) return this.ends[1];
    if (from === this.ends[1]) return this.ends[0];
    throw new SimLinkError(`link ${this.name} has no end ${from}`);
  }

  send(from: string, to: string, msg: M, nowUs: number): void {
    this.sent++;
    const s = this.settings;
    const dir = from === this.ends[0] ? 0 : 1;
    const { seq, deliverUs, unlucky } = this.dirs[dir].stamp(nowUs, s, s.lossRateFrom?.[from] ?? s.lossRate);
    const m: InFlight<M> = { id: this.nextId++, from, to, dir, seq, sentUs: nowUs, deliverUs, msg };
    const reason: LossReason | null = this.cut ? 'partitioned' : this.takeDropRule(from, msg) ? 'fault' : unlucky ? 'random-loss' : null;
    if (reason) return this.loseOne(m, reason);
    this.dirs[dir].sent(deliverUs);
    this.insert(m);
  }

  /** Keeps inFlight ordered by (deliverUs, dir, seq): the delivery order at one instant. */
  private insert(m: InFlight<M>): void {
    const q = this.inFlight;
    let i = q.length;
    while (i > 0 && deliversAfter(q[i - 1], m)) i--;
    q.splice(i, 0, m);
  }

  private loseOne(m: InFlight<M>, reason: LossReason): void {
    this.lost++;
    this.onLoss?.(m, reason);
  }

  /** When the next message falls due, or null. */
  nextDeliveryUs(): number | null {
    return this.inFlight.length > 0 ? this.inFlight[0].deliverUs : null;
  }

  /** The earliest message in flight, taken off the link (the simulator delivers it). */
  takeNext(): InFlight<M> {
    const m = this.inFlight.shift();
    if (!m) throw new SimLinkError(`link ${this.name}: nothing in flight`);
    return m;
  }

  /** Cut: everything in flight is lost, and everything sent until heal(). */
  partition(): void {
    this.cut = true;
    for (const m of this.inFlight.splice(0)) this.loseOne(m, 'partitioned');
  }
  heal(): void {
    this.cut = false;
  }
  get partitioned(): boolean {
    return this.cut;
  }

  /** Fault injection: the next message sent from `from` (that `match` accepts) is lost. */
  dropNext(from: string, match: (msg: M) => boolean = () => true): void {
    this.peerOf(from);
    this.dropRules.push({ from, match });
  }

  private takeDropRule(from: string, msg: M): boolean {
    const i = this.dropRules.findIndex((r) => r.from === from && r.match(msg));
    if (i < 0) return false;
    this.dropRules.splice(i, 1);
    return true;
  }

  /** Fault injection: a message in flight is lost. */
  drop(id: number): boolean {
    const i = this.inFlight.findIndex((m) => m.id === id);
    if (i < 0) return false;
    this.loseOne(this.inFlight.splice(i, 1)[0], 'fault');
    return true;
  }

  /** Changes delay, jitter, loss or ordering from now on (messages in flight keep their times). */
  configure(patch: Partial<SimLinkSettings>): void {
    const next = { ...this.settings, ...patch };
    checkSettings(this.name, next);
    Object.assign(this.settings, next);
  }
}

/** Whether `a` is delivered after `b`: by time, then direction, then the sender's seq. */
export function deliversAfter(a: { deliverUs: number; dir: number; seq: number }, b: { deliverUs: number; dir: number; seq: number }): boolean {
  return a.deliverUs > b.deliverUs || (a.deliverUs === b.deliverUs && (a.dir > b.dir || (a.dir === b.dir && a.seq > b.seq)));
}

function checkSettings(name: string, s: SimLinkSettings): void {
  if (!(s.delayUs >= 0) || !(s.jitterUs >= 0)) throw new SimLinkError(`link ${name}: delay ${s.delayUs} µs and jitter ${s.jitterUs} µs must be ≥ 0`);
  for (const r of [s.lossRate, ...Object.values(s.lossRateFrom ?? {})]) {
    if (!(r >= 0 && r <= 1)) throw new SimLinkError(`link ${name}: loss rate ${r} must be in [0, 1]`);
  }
}
