/**
 * One node of a cluster — a VM host or the world — running its own events, window by window, in
 * the order the simulator's event loop gives them (docs/design.md §1.5): the unit a vm worker or
 * the world worker runs in the browser's lockstep runtime.
 *
 * Why a node can run alone: every link delays a message by at least its `delayUs`, so within a
 * window no longer than that (or longer, where lookahead shows nothing can be sent sooner) nothing
 * one node does reaches another; and each direction of a link draws delay and loss from its own
 * stream (`LinkDirection`), so the sender alone decides a message's fate. A node takes the messages
 * sent to it (`accept`, in any order), runs every event before the window's end in the cluster's
 * order — (time, rank, index, direction, seq): link deliveries, then the world's tick, then host
 * steps, then samples — and reports its trace events with their keys, its views at sample times
 * and when it next has something to do. The conductor merges the keyed traces of all nodes into
 * the one the simulator would have written.
 */
import { VmHost, outbound, type HostResult, type HostView, type VmHostSnapshot } from '../ft/host';
import type { FtEffect } from '../ft/effects';
import type { ChannelName } from '../ft/channels';
import { validateDiskMessage } from '../world/disk-messages';
import type { World, WorldEffect, WorldSnapshot } from '../world/world';
import { LinkDirection, deliversAfter, type LinkDirectionState, type SimLinkSettings } from './link';
import { traceOf, worldTraceEvent, type TraceEvent } from './trace';
import type { Prng } from './prng';

export const RANK_SCRIPT = 0;
export const RANK_LINK = 1;
export const RANK_WORLD = 2;
export const RANK_HOST = 3;
export const RANK_SAMPLE = 4;

/** An event's place in the cluster's total order, compared element by element (a prefix first). */
export type EventKey = readonly number[];

export function compareKeys(a: EventKey, b: EventKey): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  return a.length - b.length;
}

/** One end of a wire as its node sees it. */
export interface WireEnd {
  /** The wire's index in the cluster (creation order): the tie-break between links. */
  wire: number;
  /** The link's name: its streams derive from it. */
  name: string;
  channel: ChannelName;
  self: string;
  peer: string;
  /** 0 if this end is the link's first end. */
  dir: 0 | 1;
  settings: SimLinkSettings;
}

/** A message on its way: stamped by its sender with everything its receiver needs. */
export interface Packet {
  wire: number;
  dir: number;
  seq: number;
  from: string;
  to: string;
  channel: ChannelName;
  sentUs: number;
  deliverUs: number;
  msg: unknown;
}

/** What an action at a boundary did: its trace events, and the node's send counts after it (it may have sent). */
export interface BoundaryResult {
  trace: KeyedEvent[];
  sent: Record<number, number>;
}

export interface KeyedEvent {
  key: EventKey;
  e: TraceEvent;
}

export interface WindowReport {
  /** Trace events of the window, in this node's order, each with its event's key. */
  trace: KeyedEvent[];
  /** A host's view at each sample time in the window. */
  views: { tUs: number; view: HostView }[];
  /** Messages sent so far on each wire end, by wire index: what the receiver must have before it runs on. */
  sent: Record<number, number>;
  /** The earliest time this node has something to do after the window (its wake or a message due), or null. */
  nextUs: number | null;
  /** A host's view at the window's end. */
  view: HostView | null;
  /** The earliest arrival of what this node sent in the window, by receiver: part of the receiver's next event. */
  earliestTo: Record<string, number>;
  /** Where the node stopped: the window's end, or sooner where what it sent could come back. */
  doneUs?: number;
}

/** A node's state at a window boundary (time travel), as plain data. */
export interface NodeState {
  nowUs: number;
  wakeUs: number | null;
  nextSampleUs: number;
  inbox: Packet[];
  ends: { wire: number; out: LinkDirectionState; cut: boolean; sent: number }[];
  received: [number, number][];
  inner: unknown;
}

interface OutEnd extends WireEnd {
  out: LinkDirection;
  cut: boolean;
  sent: number;
}

export abstract class ClusterNode {
  protected nowUs = 0;
  protected wakeUs: number | null;
  private readonly inbox: Packet[] = [];
  private readonly ends: OutEnd[] = [];
  private readonly received = new Map<number, number>();
  private nextSampleUs = 0;
  private trace: KeyedEvent[] = [];
  private views: { tUs: number; view: HostView }[] = [];
  private key: EventKey = [0];
  private earliestTo: Record<string, number> = {};
  private returnUs: Record<string, number> | null = null;
  private limitUs = Infinity;
  private floorUs = 0;

  constructor(
    readonly name: string,
    private readonly root: Prng,
    private readonly sampleEveryUs: number,
    private readonly send: (p: Packet) => void,
    startUs: number,
    wakeUs: number | null,
  ) {
    this.nowUs = startUs;
    this.wakeUs = wakeUs;
    this.nextSampleUs = Math.ceil(startUs / sampleEveryUs) * sampleEveryUs;
  }

  /** This node's own event (a host's step, the world's tick) at `t`: its key after the time. */
  protected abstract ownKey(): [number, number];
  protected abstract runOwn(): void;
  protected abstract deliver(p: Packet): void;

  /**
   * Called with each packet once its node has taken it in: the packet is the transport's again
   * (a vm worker hands a log batch's buffer back to its sender: src/runtime/node-server.ts).
   */
  onDelivered: ((p: Packet) => void) | null = null;
  /** A host's view for a sample; the world has none. */
  protected abstract view(): HostView | null;

  addEnd(end: WireEnd): void {
    this.ends.push({ ...end, out: new LinkDirection(this.root.fork(`link ${end.name}`).fork(`${end.self}>${end.peer}`)), cut: false, sent: 0 });
  }

  /** A message sent to this node, in whatever order the transport brings them. */
  accept(p: Packet): void {
    const q = this.inbox;
    let i = q.length;
    while (i > 0 && arrivesAfter(q[i - 1], p)) i--;
    q.splice(i, 0, p);
    this.received.set(p.wire, (this.received.get(p.wire) ?? 0) + 1);
  }

  /** Messages sent so far on each wire end, by wire index. */
  sentCounts(): Record<number, number> {
    const sent: Record<number, number> = {};
    for (const e of this.ends) sent[e.wire] = e.sent;
    return sent;
  }

  /** How many messages have arrived on wire `wire` (the conductor's grant says how many to wait for). */
  receivedOn(wire: number): number {
    return this.received.get(wire) ?? 0;
  }

  /**
   * Runs every event before `endUs`; returns what the conductor needs. Free run passes the real
   * clock (`clock`, injected): each event then happens at the clock's now, not at the time it was
   * due, and the run stops when nothing is due by now or the clock reaches `endUs` (a time slice,
   * so the worker can take its messages).
   *
   * `returnUs` — the least delay from each other node back to this one — lets the window stop
   * where what the node sends in it could come back, instead of the conductor's assuming it sends
   * at its next event: a node that sends nothing may run on to `endUs` (lookahead). `doneUs` in the
   * report says where it stopped.
   */
  runWindow(endUs: number, clock?: () => number, returnUs?: Record<string, number>): WindowReport {
    this.trace = [];
    this.views = [];
    this.earliestTo = {};
    this.returnUs = returnUs ?? null;
    this.limitUs = endUs;
    // Progress: with links of no delay what it sends could come back at once; never stand still.
    this.floorUs = Math.min(endUs, this.nowUs + 1);
    for (;;) {
      const a = this.inbox[0];
      let t = Infinity;
      let pick: 'link' | 'own' | 'sample' | null = null;
      if (a) {
        t = a.deliverUs;
        pick = 'link';
      }
      if (this.wakeUs !== null && this.wakeUs < t) {
        t = this.wakeUs;
        pick = 'own';
      }
      if (this.nextSampleUs < t) {
        t = this.nextSampleUs;
        pick = 'sample';
      }
      if (clock) {
        const now = clock();
        if (pick === null || t > now || now >= endUs) break;
        this.nowUs = Math.max(this.nowUs, now);
      } else if (pick === null || t >= this.limitUs) break;
      this.nowUs = Math.max(this.nowUs, t);
      if (pick === 'link') {
        const p = this.inbox.shift() as Packet;
        this.key = [this.nowUs, RANK_LINK, p.wire, p.dir, p.seq];
        this.deliver(p);
        this.onDelivered?.(p);
      } else if (pick === 'own') {
        this.key = [this.nowUs, ...this.ownKey()];
        this.runOwn();
      } else {
        const v = this.view();
        if (v) this.views.push({ tUs: this.nowUs, view: v });
        this.nextSampleUs = this.nowUs + this.sampleEveryUs;
      }
    }
    if (!clock) this.nowUs = Math.max(this.nowUs, this.limitUs);
    this.returnUs = null;
    const sent = this.sentCounts();
    const due = this.inbox[0]?.deliverUs ?? null;
    const nextUs = due === null ? this.wakeUs : this.wakeUs === null ? due : Math.min(due, this.wakeUs);
    return { trace: this.trace, views: this.views, sent, nextUs, view: this.view(), earliestTo: this.earliestTo, doneUs: this.nowUs };
  }

  /**
   * A control action at a window boundary (a script step, a button): `key` places its trace events
   * — (time, RANK_SCRIPT, step number, …) — before everything else at that instant.
   */
  protected atBoundary<T>(key: EventKey, f: () => T): { result: T; trace: KeyedEvent[] } {
    this.trace = [];
    this.key = key;
    this.nowUs = Math.max(this.nowUs, key[0]);
    const result = f();
    return { result, trace: this.trace };
  }

  /** The node's state at a boundary: what `restore` needs, in a node built and wired the same way. */
  snapshot(): NodeState {
    return structuredClone({
      nowUs: this.nowUs, wakeUs: this.wakeUs, nextSampleUs: this.nextSampleUs, inbox: this.inbox,
      ends: this.ends.map((e) => ({ wire: e.wire, out: e.out.snapshot(), cut: e.cut, sent: e.sent })),
      received: [...this.received.entries()], inner: this.innerSnapshot(),
    });
  }

  restore(s: NodeState): void {
    const st = structuredClone(s);
    this.nowUs = st.nowUs;
    this.wakeUs = st.wakeUs;
    this.nextSampleUs = st.nextSampleUs;
    this.inbox.splice(0, this.inbox.length, ...st.inbox);
    for (const e of st.ends) {
      const end = this.ends.find((x) => x.wire === e.wire);
      if (!end) throw new Error(`node ${this.name}: no wire ${e.wire} to restore`);
      end.out.restore(e.out);
      end.cut = e.cut;
      end.sent = e.sent;
    }
    this.received.clear();
    for (const [w, n] of st.received) this.received.set(w, n);
    this.restoreInner(st.inner);
  }

  protected abstract innerSnapshot(): unknown;
  protected abstract restoreInner(s: unknown): void;

  /** The logging link is cut (everything in flight to this node lost) or healed. */
  setCut(wire: number, cut: boolean, key: EventKey): KeyedEvent[] {
    return this.atBoundary(key, () => {
      for (const e of this.ends) if (e.wire === wire) e.cut = cut;
      if (!cut) return;
      const lost = this.inbox.filter((p) => p.wire === wire);
      for (let i = this.inbox.length - 1; i >= 0; i--) if (this.inbox[i].wire === wire) this.inbox.splice(i, 1);
      for (const p of lost) {
        const name = this.ends.find((e) => e.wire === wire)?.name ?? `wire ${wire}`;
        this.trace.push({ key: [...key, wire, p.deliverUs, p.dir, p.seq], e: { tUs: this.nowUs, vm: 'sim', ev: 'msg-lost', link: name, from: p.from, to: p.to, reason: 'partitioned' } });
      }
    }).trace;
  }

  protected record(e: TraceEvent): void {
    this.trace.push({ key: this.key, e });
  }

  /** Sends on this node's newest end of `channel` (to `to`, for the world's ends). */
  protected sendOn(channel: ChannelName, to: string | null, msg: unknown): void {
    let end: OutEnd | undefined;
    for (let i = this.ends.length - 1; i >= 0 && !end; i--) {
      const e = this.ends[i];
      if (e.channel === channel && (to === null || e.peer === to)) end = e;
    }
    if (!end) throw new Error(`node ${this.name} has no ${channel} link${to ? ` to ${to}` : ''}`);
    const s = end.settings;
    const { seq, deliverUs, unlucky } = end.out.stamp(this.nowUs, s, s.lossRateFrom?.[this.name] ?? s.lossRate);
    if (end.cut || unlucky) {
      this.record({ tUs: this.nowUs, vm: 'sim', ev: 'msg-lost', link: end.name, from: this.name, to: end.peer, reason: end.cut ? 'partitioned' : 'random-loss' });
      return;
    }
    end.out.sent(deliverUs);
    end.sent++; // what actually goes on the wire: the receiver waits for exactly these
    this.earliestTo[end.peer] = Math.min(this.earliestTo[end.peer] ?? Infinity, deliverUs);
    // What it sends may come back (by the shortest way) no sooner than this; a node not running sends nothing back.
    if (this.returnUs) this.limitUs = Math.max(this.floorUs, Math.min(this.limitUs, deliverUs + (this.returnUs[end.peer] ?? Infinity)));
    this.send({ wire: end.wire, dir: end.dir, seq, from: this.name, to: end.peer, channel, sentUs: this.nowUs, deliverUs, msg });
  }
}

/** Whether packet `a` is delivered after `b` at its node: by time, then wire, then direction and seq. */
function arrivesAfter(a: Packet, b: Packet): boolean {
  if (a.deliverUs !== b.deliverUs) return a.deliverUs > b.deliverUs;
  if (a.wire !== b.wire) return a.wire > b.wire;
  return deliversAfter(a, b);
}

/** A VM host as a node. */
export class HostNode extends ClusterNode {
  constructor(
    readonly host: VmHost,
    readonly index: number,
    root: Prng,
    sampleEveryUs: number,
    send: (p: Packet) => void,
    private readonly wantsTrace: (ev: TraceEvent['ev']) => boolean = () => true,
    startUs = 0,
  ) {
    super(host.name, root, sampleEveryUs, send, startUs, startUs);
  }

  protected ownKey(): [number, number] {
    return [RANK_HOST, this.index];
  }

  protected runOwn(): void {
    this.result(this.host.step(this.nowUs));
  }

  protected deliver(p: Packet): void {
    if (p.channel === 'disk') {
      const v = validateDiskMessage(p.msg);
      if (!v.ok) return this.record({ tUs: this.nowUs, vm: this.name, ev: 'message-rejected', channel: 'disk', error: v.error });
      return this.result(this.host.receive('disk', v.value, this.nowUs));
    }
    this.result(this.host.receive(p.channel, p.msg, this.nowUs, p.from));
  }

  protected view(): HostView {
    return this.host.view();
  }

  protected innerSnapshot(): VmHostSnapshot {
    return this.host.snapshot();
  }

  protected restoreInner(s: unknown): void {
    this.host.restore(s as VmHostSnapshot);
  }

  /** A RAM bit flips, at a boundary (the host runs on). */
  flipRamBit(addr: number): void {
    this.host.flipRamBit(addr);
  }

  /** Fail-stop, at a boundary: the host does nothing more. */
  kill(): HostView {
    this.host.kill();
    this.wakeUs = null;
    return this.host.view();
  }

  /** FT VMotion from this (live) host to `peer`, at a boundary. */
  startVMotion(peer: string, epoch: number, key: EventKey): BoundaryResult {
    const trace = this.atBoundary(key, () => this.result(this.host.startVMotion(peer, epoch, this.nowUs))).trace;
    return { trace, sent: this.sentCounts() };
  }

  /** The serving host pauses (the end of a run: a primary sends a full-state hash). */
  pause(key: EventKey): KeyedEvent[] {
    return this.atBoundary(key, () => this.result(this.host.pause(this.nowUs))).trace;
  }

  private result(r: HostResult): void {
    for (const e of r.effects) {
      if (this.host.role === 'crashed') return;
      this.effect(e);
    }
    this.wakeUs = this.host.role === 'crashed' || r.wakeUs === null ? null : Math.max(r.wakeUs, this.nowUs);
  }

  private effect(e: FtEffect): void {
    if (this.wantsTrace(e.ev)) this.record(traceOf(this.name, this.nowUs, e));
    const out = outbound(this.name, e);
    if (out) this.sendOn(out.channel, null, out.msg);
  }
}

/** The world (clients, switch, disk server) as a node. */
export class WorldNode extends ClusterNode {
  constructor(
    readonly world: World,
    root: Prng,
    sampleEveryUs: number,
    send: (p: Packet) => void,
  ) {
    super('world', root, sampleEveryUs, send, 0, world.nextDeadlineUs());
  }

  protected ownKey(): [number, number] {
    return [RANK_WORLD, 0];
  }

  protected runOwn(): void {
    this.effects(this.world.tick(this.nowUs));
  }

  protected deliver(p: Packet): void {
    this.effects(p.channel === 'net' ? this.world.netMessage(p.from, p.msg, this.nowUs) : this.world.diskMessage(p.from, p.msg, this.nowUs));
  }

  protected view(): null {
    return null;
  }

  protected innerSnapshot(): WorldSnapshot {
    return this.world.snapshot();
  }

  protected restoreInner(s: unknown): void {
    this.world.restore(s as WorldSnapshot);
  }

  /** A world action at a boundary (load on, a client's request, a cut, a new VM…), its effects sent. */
  control<T>(key: EventKey, f: (w: World, nowUs: number) => T, effects?: (r: T) => WorldEffect[]): { result: T; trace: KeyedEvent[] } {
    return this.atBoundary(key, () => {
      const r = f(this.world, this.nowUs);
      if (effects) this.effects(effects(r));
      else this.wakeUs = clampWake(this.world.nextDeadlineUs(), this.nowUs);
      return r;
    });
  }

  private effects(effects: WorldEffect[]): void {
    const tUs = this.nowUs;
    for (const e of effects) {
      switch (e.kind) {
        case 'to-vm':
          this.sendOn('net', e.vm, e.bytes);
          break;
        case 'disk-reply':
          this.sendOn('disk', e.vm, e.reply);
          break;
        default: {
          const t = worldTraceEvent(e, tUs);
          if (t) this.record(t);
        }
      }
    }
    this.wakeUs = clampWake(this.world.nextDeadlineUs(), tUs);
  }
}

function clampWake(t: number | null, nowUs: number): number | null {
  return t === null ? null : Math.max(t, nowUs);
}
