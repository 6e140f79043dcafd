/**
 * The inside of a vm worker, and the world's node in the world worker: one cluster node
 * (src/sim/node.ts) served over MessagePorts. The conductor's control messages build the node,
 * hand it one port per wire end and grant windows; packets from peer workers arrive on those ports
 * and wait in the node's inbox.
 * A window runs only once every packet its peers sent before it has arrived (the grant's `expect`
 * counts, by wire) — MessagePorts keep order, so that is the moment the window's input is
 * complete. Every message is validated; a bad one is answered with an error and changes nothing.
 */
import { Machine } from '../machine/machine';
import { resolveFtSettings } from '../ft/settings';
import { Prng } from '../sim/prng';
import { HostNode, WorldNode, type ClusterNode, type KeyedEvent, type Packet, type WindowReport } from '../sim/node';
import { buildHost, buildWorld, type ClusterConfig } from '../sim/cluster-config';
import { worldAction } from '../sim/local-nodes';
import { runProbe } from './bench-probes';
import { BatchBuffers } from '../ft/log';
import { SPARES_MAX, takeSpares, validatePacket, validateToWorker, type FromWorker, type PortableConfig, type ToWorker } from './protocol';

const FREE_REPORT_MS = 33;
/**
 * Free run: a turn's work (µs of the clock) before packets and control messages get in. A busy
 * backup that runs long turns acks late, and the primary resends on its timeout: the bench guest in
 * free run saw 580–890 duplicate batches in 10 s with 8 ms turns, 330–650 with 2 ms, for the same
 * speed (within this host's noise). One slice is about 1 ms (pacing.ts).
 */
const FREE_TURN_US = 2_000;
const FREE_TRACE_MAX = 20_000;
/** Below this a timeout nested in timeouts is clamped up to it (HTML: timers, nesting level > 5). */
const TIMER_CLAMP_MS = 4;

export interface WorkerScope {
  postMessage(m: FromWorker): void;
  onmessage: ((ev: MessageEvent) => void) | null;
}

/** Serves a node on `scope`; returns what stops it (a node served in a thread that goes on). */
export function serveNode(scope: WorkerScope): () => void {
  let node: ClusterNode | null = null;
  /** A host's model speed over the primary's (free run keeps a slow backup slow against the clock). */
  let relativeSpeed = 1;
  const ports = new Map<number, MessagePort>();
  /** Free run: the last due time of a packet on each in-order wire (a packet is never due before it). */
  const lastDueUs = new Map<number, number>();
  let pending: { id: number; endUs: number; expect: Record<number, number>; returnUs: Record<string, number> } | null = null;
  /** A cut waiting for what its peers sent before it (it is lost with the cut). */
  let cutWaiting: { expect: Record<number, number>; run: () => void } | null = null;

  /** Free run: the node on the real clock (µs since `originMs`, a wall time all workers share). */
  let free: { originMs: number; trace: KeyedEvent[]; lastReportMs: number; timer: ReturnType<typeof setTimeout> | null; kicked: boolean } | null = null;
  const kick = new MessageChannel();

  const reply = (m: FromWorker): void => scope.postMessage(m);
  const fail = (id: number | null, err: unknown): void => reply({ t: 'error', id, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) });

  // A log batch's buffer is handed over with its packet, not copied; once the backup has taken the
  // batch in, the buffer rides back to the primary on the next packet of that wire (an ack, as a
  // rule: the backup acks every batch) into the pool the primary encodes into. So a batch costs no
  // fresh memory, which is what costs most on a host slow to fault pages in (log.ts, BatchBuffers).
  const logBuffers = new BatchBuffers();
  /** By wire: buffers of batches taken in, to go back with the next packet sent on it. */
  const spares = new Map<number, ArrayBuffer[]>();

  const send = (p: Packet): void => {
    const port = ports.get(p.wire);
    if (!port) return;
    const back = spares.get(p.wire);
    if (back === undefined) return port.postMessage(p, transferable(p));
    spares.delete(p.wire);
    port.postMessage({ ...p, spares: back }, [...transferable(p), ...back]);
  };
  const delivered = (p: Packet): void => {
    const bytes = batchBytes(p);
    if (bytes === null) return;
    const list = spares.get(p.wire) ?? [];
    if (list.length < SPARES_MAX) list.push(bytes);
    spares.set(p.wire, list);
  };

  const received = (expect: Record<number, number>): boolean => {
    for (const [wire, n] of Object.entries(expect)) if ((node as ClusterNode).receivedOn(Number(wire)) < n) return false;
    return true;
  };

  const wallUs = (originMs: number): number => (performance.timeOrigin + performance.now() - originMs) * 1000;

  /** One free-run step: everything due by now, then sleep until the next thing (or a packet) is due. */
  const freeTick = (): void => {
    if (!free || !node) return;
    const f = free;
    f.kicked = false;
    if (f.timer !== null) clearTimeout(f.timer);
    f.timer = null;
    let r: WindowReport;
    try {
      // At most a few ms of work per turn, so packets and control messages get in between.
      r = node.runWindow(wallUs(f.originMs) + FREE_TURN_US, () => wallUs(f.originMs));
    } catch (err) {
      free = null;
      return fail(null, err);
    }
    if (f.trace.length < FREE_TRACE_MAX) f.trace.push(...r.trace.slice(0, FREE_TRACE_MAX - f.trace.length));
    const nowMs = performance.now();
    if (nowMs - f.lastReportMs >= FREE_REPORT_MS) {
      f.lastReportMs = nowMs;
      reply({ t: 'free-report', nowUs: wallUs(f.originMs), trace: f.trace.splice(0), view: r.view });
    }
    const waitMs = r.nextUs === null ? FREE_REPORT_MS : Math.min(FREE_REPORT_MS, r.nextUs / 1000 - wallUs(f.originMs) / 1000);
    if (waitMs <= 0) freeKick();
    else if (waitMs < TIMER_CLAMP_MS) {
      // A timeout set from a timeout is clamped to 4 ms once nested five deep: a host asleep for
      // less between slices (a slow backup, a throttled primary) would sleep 4 ms each time. One set
      // from a message is not nested.
      sleepMs = waitMs;
      nap.port2.postMessage(null);
    } else f.timer = setTimeout(freeTick, waitMs);
  };
  // A zero-delay timeout is clamped to 4 ms when nested; a message to ourselves is not.
  const freeKick = (): void => {
    if (!free || free.kicked) return;
    free.kicked = true;
    kick.port2.postMessage(null);
  };
  kick.port1.onmessage = freeTick;
  let sleepMs = 0;
  const nap = new MessageChannel();
  nap.port1.onmessage = () => {
    // Unless a packet or a kick has run the node meanwhile (it then chose its own sleep).
    if (free && !free.kicked && free.timer === null) free.timer = setTimeout(freeTick, sleepMs);
  };

  const tryWindow = (): void => {
    // A packet in free run: a node asleep takes it at once; one with a turn already queued takes it
    // in that turn (a turn per packet would let a queue of acks wait a whole turn each).
    if (free) return free.kicked ? undefined : freeTick();
    if (cutWaiting && node && received(cutWaiting.expect)) {
      const c = cutWaiting;
      cutWaiting = null;
      c.run();
    }
    if (!pending || !node || !received(pending.expect)) return;
    const { id, endUs, returnUs } = pending;
    pending = null;
    try {
      reply({ t: 'done', id, result: node.runWindow(endUs, undefined, returnUs) });
    } catch (err) {
      fail(id, err);
    }
  };

  const handle = (m: ToWorker): void => {
    switch (m.t) {
      case 'init-host': {
        const cfg = clusterConfig(m.cfg, m.elf);
        const ft = resolveFtSettings({ speedIps: cfg.primarySpeedIps, ...cfg.ft });
        const host = new HostNode(buildHost(cfg, ft, m.spec), m.spec.index, new Prng(cfg.seed), cfg.sampleEveryUs, send, () => true, m.spec.startUs);
        host.host.useLogBuffers(logBuffers);
        host.onDelivered = delivered;
        node = host;
        relativeSpeed = Math.min(1, m.spec.speedIps / cfg.primarySpeedIps);
        return;
      }
      case 'init-world': {
        const cfg = clusterConfig(m.cfg, new Uint8Array(0));
        node = new WorldNode(buildWorld(cfg, m.vms), new Prng(cfg.seed), cfg.sampleEveryUs, send);
        return;
      }
      case 'add-end': {
        const n = need(node);
        n.addEnd(m.end);
        ports.set(m.end.wire, m.port);
        m.port.onmessage = (ev: MessageEvent) => {
          try {
            for (const b of takeSpares(ev.data, m.end.wire)) logBuffers.give(b);
            const p = validatePacket(ev.data, m.end.wire);
            // Free run: the wire's modelled delay counts from arrival (the real transit comes on top),
            // on this worker's clock — two workers' clocks need not agree to the microsecond. An
            // in-order wire stays in order: a packet is never due before the one that came before
            // it (its own jitter would otherwise reorder the logging channel into resends).
            if (free) {
              let due = wallUs(free.originMs) + (p.deliverUs - p.sentUs);
              if (m.end.settings.inOrder) {
                due = Math.max(due, lastDueUs.get(m.end.wire) ?? -Infinity);
                lastDueUs.set(m.end.wire, due);
              }
              n.accept({ ...p, deliverUs: due });
            } else n.accept(p);
          } catch (err) {
            fail(null, err);
            return;
          }
          tryWindow();
        };
        return;
      }
      case 'window':
        pending = { id: m.id, endUs: m.endUs, expect: m.expect, returnUs: m.returnUs };
        return tryWindow();
      case 'set-cut': {
        const n = need(node);
        cutWaiting = { expect: m.expect ?? {}, run: () => reply({ t: 'done', id: m.id, result: n.setCut(m.wire, m.cut, m.key) }) };
        return tryWindow();
      }
      case 'kill':
        return reply({ t: 'done', id: m.id, result: hostNode(node).kill() });
      case 'flip':
        hostNode(node).flipRamBit(m.addr);
        return reply({ t: 'done', id: m.id, result: null });
      case 'vmotion':
        return reply({ t: 'done', id: m.id, result: hostNode(node).startVMotion(m.peer, m.epoch, m.key) });
      case 'probe':
        void runProbe(m.probe).then((result) => reply({ t: 'done', id: m.id, result }), (err: unknown) => fail(m.id, err));
        return;
      case 'free-run':
        free = { originMs: m.originMs, trace: [], lastReportMs: 0, timer: null, kicked: false };
        if (node instanceof HostNode) node.host.useRealClock(() => wallUs(m.originMs), relativeSpeed);
        return freeKick();
      case 'snapshot':
        return reply({ t: 'done', id: m.id, result: need(node).snapshot() });
      case 'restore':
        need(node).restore(m.state);
        return reply({ t: 'done', id: m.id, result: null });
      case 'history':
        return reply({ t: 'done', id: m.id, result: m.from ? worldNode(node).world.historySince(m.from) : worldNode(node).world.history() });
      case 'act': {
        const r = worldNode(node).control(m.key, (w, nowUs) => worldAction(w, m.action, nowUs), (x) => (Array.isArray(x) ? x : []));
        return reply({ t: 'done', id: m.id, result: { trace: r.trace, sent: worldNode(node).sentCounts(), epoch: typeof r.result === 'number' ? r.result : undefined } });
      }
    }
  };

  const stop = (): void => {
    if (free?.timer != null) clearTimeout(free.timer);
    free = null;
    pending = null;
    cutWaiting = null;
    node = null;
    spares.clear();
    for (const port of ports.values()) port.close();
    ports.clear();
    for (const ch of [kick, nap]) {
      ch.port1.close();
      ch.port2.close();
    }
    scope.onmessage = null;
  };

  scope.onmessage = (ev: MessageEvent) => {
    let m: ToWorker;
    try {
      m = validateToWorker(ev.data);
    } catch (err) {
      const id = typeof (ev.data as { id?: unknown })?.id === 'number' ? (ev.data as { id: number }).id : null;
      return fail(id, err);
    }
    try {
      handle(m);
    } catch (err) {
      fail('id' in m ? m.id : null, err);
    }
  };
  return stop;
}

/**
 * What a packet hands over instead of copying, each made for this one message: a log batch's
 * buffer (the primary keeps the batch's entries to resend, not its bytes), and a snapshot's RAM
 * and CPU state (FT VMotion's 16 MiB).
 */
function transferable(p: Packet): Transferable[] {
  const bytes = batchBytes(p);
  if (bytes !== null) return [bytes];
  const m = p.msg as { type?: unknown; machine?: { ram?: unknown; cpu?: unknown } } | null;
  if (p.channel !== 'log' || m === null || typeof m !== 'object' || m.type !== 'snapshot') return [];
  return [m.machine?.ram, m.machine?.cpu].filter((b): b is ArrayBuffer => b instanceof ArrayBuffer);
}

/** A log batch's buffer, if the packet is one. */
function batchBytes(p: Packet): ArrayBuffer | null {
  const m = p.msg as { type?: unknown; bytes?: unknown } | null;
  return p.channel === 'log' && m !== null && typeof m === 'object' && m.type === 'log' && m.bytes instanceof ArrayBuffer && m.bytes.byteLength > 0 ? m.bytes : null;
}

function clusterConfig(cfg: PortableConfig, elf: Uint8Array): ClusterConfig {
  return { ...cfg, script: [], makeMachine: () => Machine.fromElf(elf) };
}

function need(node: ClusterNode | null): ClusterNode {
  if (!node) throw new Error('the node is not built yet (init first)');
  return node;
}

function hostNode(node: ClusterNode | null): HostNode {
  if (!(node instanceof HostNode)) throw new Error('not a vm worker');
  return node;
}

function worldNode(node: ClusterNode | null): WorldNode {
  if (!(node instanceof WorldNode)) throw new Error('not the world worker');
  return node;
}

/**
 * A node served in this thread, behind the face of a worker: what `postMessage` sends reaches the
 * node at once, and what the node answers reaches `onmessage` at once — no thread hop. Messages
 * other than windows are cloned on the way in and out, as a worker's would be, so neither side
 * holds what the other may change (a snapshot, a restore's state).
 */
export function nodeInThisThread(name: string): Worker {
  let closed = false;
  const face = {
    name,
    onmessage: null as ((ev: MessageEvent) => void) | null,
    onerror: null as ((ev: ErrorEvent) => void) | null,
    postMessage(m: ToWorker, transfer: Transferable[] = []): void {
      if (closed) return;
      const data = m.t === 'window' || m.t === 'add-end' ? m : structuredClone(m, { transfer });
      inner.onmessage?.({ data } as MessageEvent);
    },
    terminate(): void {
      closed = true;
      stop();
    },
    addEventListener(): void {},
    removeEventListener(): void {},
  };
  const inner: WorkerScope = {
    onmessage: null,
    postMessage(m: FromWorker): void {
      if (closed) return;
      const data = m.t === 'done' && m.result !== null && typeof m.result === 'object' && 'trace' in m.result ? m : structuredClone(m);
      face.onmessage?.({ data } as MessageEvent);
    },
  };
  const stop = serveNode(inner);
  return face as unknown as Worker;
}
