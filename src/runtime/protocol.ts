/**
 * The messages that cross a thread in the browser runtime, one validated union per channel
 * (docs/design.md §1.5):
 *
 * - main → worker (`ToWorker`): build the node, give it a wire end with its MessagePort, run a
 *   window, cut or heal a wire, kill, start FT VMotion, a world action;
 * - worker → main (`FromWorker`): the answer to a request (by id), or an error;
 * - worker ↔ worker on a wire's MessagePort (`Packet`, src/sim/node.ts): a message stamped by its
 *   sender with its seq and virtual arrival time.
 *
 * Everything is validated on arrival; a malformed message gets an error back (or, on a wire, is
 * dropped and reported) and changes nothing.
 */
import type { ClusterConfig, HostSpec } from '../sim/cluster-config';
import type { EventKey, KeyedEvent, NodeState, Packet, WireEnd } from '../sim/node';
import type { HostView } from '../ft/host';
import type { Probe } from './bench-probes';
import type { RuntimeOptions, RuntimeStats } from './runtime';
import type { FaultAction } from '../sim/script';
import type { WorldAction } from '../sim/conductor';

/** A cluster config that can cross a thread: the guest as ELF bytes instead of a machine factory. */
export type PortableConfig = Omit<ClusterConfig, 'makeMachine' | 'script'>;

export type ToWorker =
  | { t: 'init-host'; cfg: PortableConfig; spec: HostSpec; elf: Uint8Array }
  | { t: 'init-world'; cfg: PortableConfig; vms: string[] }
  | { t: 'add-end'; end: WireEnd; port: MessagePort }
  | { t: 'window'; id: number; endUs: number; expect: Record<number, number>; returnUs: Record<string, number> }
  | { t: 'set-cut'; id: number; wire: number; cut: boolean; key: EventKey; expect?: Record<number, number> }
  | { t: 'kill'; id: number }
  /** Not fail-stop: flip a bit of the guest's RAM (at a boundary). */
  | { t: 'flip'; id: number; addr: number }
  | { t: 'vmotion'; id: number; peer: string; epoch: number; key: EventKey }
  | { t: 'act'; id: number; action: WorldAction; key: EventKey }
  /** Free run from now on: the node on the real clock, µs since `originMs` (performance.timeOrigin + now()). */
  | { t: 'free-run'; originMs: number }
  /** Time travel: the node's state at this boundary; and a fresh node put back into one. */
  | { t: 'snapshot'; id: number }
  | { t: 'restore'; id: number; state: NodeState }
  /** A benchmark probe (bench-probes.ts), answered with its figures. */
  | { t: 'probe'; id: number; probe: Probe }
  /** The world's client history, for the checkers on the main thread; with `from`, only what a reader holding that many rows of each client lacks (World.historySince). */
  | { t: 'history'; id: number; from?: number[] };

export type FromWorker =
  | { t: 'done'; id: number; result: unknown }
  /** Free run, at most ~30 times a second: the node's trace events since the last report and its view. */
  | { t: 'free-report'; nowUs: number; trace: KeyedEvent[]; view: HostView | null }
  | { t: 'error'; id: number | null; error: string };

export class ProtocolError extends Error {
  override name = 'ProtocolError';
}

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const num = (o: Record<string, unknown>, k: string): number => {
  const v = o[k];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ProtocolError(`field ${k} must be a finite number, got ${JSON.stringify(v)}`);
  return v;
};
const key = (o: Record<string, unknown>): EventKey => {
  const v = o.key;
  if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) throw new ProtocolError('field key must be a non-empty array of numbers');
  return v as number[];
};

/** At most one count per client: whole numbers ≥ 0. */
function rowCounts(x: unknown, what: string): void {
  if (!Array.isArray(x) || x.length > 1000 || !x.every((n) => Number.isInteger(n) && n >= 0)) throw new ProtocolError(`${what} must be a list of row counts (whole numbers ≥ 0), one per client`);
}

/** Checks a control message to a worker; throws ProtocolError naming what is wrong. */
export function validateToWorker(x: unknown): ToWorker {
  if (!isObj(x) || typeof x.t !== 'string') throw new ProtocolError(`control message is not an object with a type: ${describe(x)}`);
  switch (x.t) {
    case 'init-host':
      if (!isObj(x.cfg) || !isObj(x.spec) || !(x.elf instanceof Uint8Array)) throw new ProtocolError('init-host needs cfg, spec and elf bytes');
      return x as unknown as ToWorker;
    case 'init-world':
      if (!isObj(x.cfg) || !Array.isArray(x.vms)) throw new ProtocolError('init-world needs cfg and vms');
      return x as unknown as ToWorker;
    case 'add-end':
      if (!isObj(x.end) || !(x.port instanceof MessagePort)) throw new ProtocolError('add-end needs an end and a MessagePort');
      num(x.end, 'wire');
      return x as unknown as ToWorker;
    case 'window': {
      num(x, 'id');
      num(x, 'endUs');
      if (!isObj(x.expect) || !Object.values(x.expect).every((v) => typeof v === 'number')) throw new ProtocolError('window needs expect: counts by wire');
      // Without it the window would not stop where its own sends could come back: refused, not guessed.
      if (!isObj(x.returnUs) || !Object.values(x.returnUs).every((v) => typeof v === 'number' && v >= 0)) throw new ProtocolError('window needs returnUs: delays by node');
      return x as unknown as ToWorker;
    }
    case 'set-cut':
      num(x, 'id');
      num(x, 'wire');
      if (typeof x.cut !== 'boolean') throw new ProtocolError('set-cut needs cut: boolean');
      key(x);
      return x as unknown as ToWorker;
    case 'probe':
      num(x, 'id');
      if (!isObj(x.probe) || typeof x.probe.probe !== 'string') throw new ProtocolError('probe needs a probe');
      return x as unknown as ToWorker;
    case 'free-run':
      num(x, 'originMs');
      return x as unknown as ToWorker;
    case 'restore':
      if (!isObj(x.state) || !Array.isArray(x.state.inbox) || !Array.isArray(x.state.ends)) throw new ProtocolError('restore needs a node state');
      num(x, 'id');
      return x as unknown as ToWorker;
    case 'flip':
      num(x, 'id');
      num(x, 'addr');
      return x as unknown as ToWorker;
    case 'history':
      num(x, 'id');
      if (x.from !== undefined) rowCounts(x.from, 'history from');
      return x as unknown as ToWorker;
    case 'snapshot':
    case 'kill':
      num(x, 'id');
      return x as unknown as ToWorker;
    case 'vmotion':
      num(x, 'id');
      num(x, 'epoch');
      if (typeof x.peer !== 'string') throw new ProtocolError('vmotion needs peer');
      key(x);
      return x as unknown as ToWorker;
    case 'act':
      num(x, 'id');
      if (!isObj(x.action) || typeof x.action.kind !== 'string') throw new ProtocolError('act needs an action');
      key(x);
      return x as unknown as ToWorker;
    default:
      throw new ProtocolError(`unknown control message type ${JSON.stringify(x.t)}`);
  }
}

export function validateFromWorker(x: unknown): FromWorker {
  if (!isObj(x) || (x.t !== 'done' && x.t !== 'error' && x.t !== 'free-report')) throw new ProtocolError(`worker message is not done, free-report or error: ${describe(x)}`);
  if (x.t === 'free-report') {
    num(x, 'nowUs');
    if (!Array.isArray(x.trace)) throw new ProtocolError('free-report needs trace: an array');
    return x as unknown as FromWorker;
  }
  if (x.t === 'done') num(x, 'id');
  else if (typeof x.error !== 'string') throw new ProtocolError('error message needs error: string');
  return x as unknown as FromWorker;
}

/** Checks a packet that arrived on a wire's port (the message inside is the host's to validate). */
export function validatePacket(x: unknown, wire: number): Packet {
  if (!isObj(x)) throw new ProtocolError(`packet on wire ${wire} is not an object: ${describe(x)}`);
  for (const k of ['wire', 'dir', 'seq', 'sentUs', 'deliverUs']) num(x, k);
  if (x.wire !== wire) throw new ProtocolError(`packet names wire ${String(x.wire)} on wire ${wire}'s port`);
  if (typeof x.from !== 'string' || typeof x.to !== 'string') throw new ProtocolError('packet needs from and to');
  if (x.channel !== 'log' && x.channel !== 'net' && x.channel !== 'disk') throw new ProtocolError(`packet on unknown channel ${JSON.stringify(x.channel)}`);
  if ((x.deliverUs as number) < (x.sentUs as number)) throw new ProtocolError('packet arrives before it was sent');
  return x as unknown as Packet;
}

/** The most spent buffers one packet may carry back. */
export const SPARES_MAX = 256;

/**
 * Takes the spent log-batch buffers a packet carries back to its sender's pool (node-server.ts)
 * off it, checked: an array of ArrayBuffers, at most SPARES_MAX. None: an empty array.
 */
export function takeSpares(x: unknown, wire: number): ArrayBuffer[] {
  if (!isObj(x) || !('spares' in x)) return [];
  const spares = x.spares;
  delete x.spares;
  if (!Array.isArray(spares) || spares.length > SPARES_MAX || !spares.every((b) => b instanceof ArrayBuffer)) {
    throw new ProtocolError(`packet on wire ${wire} carries spares that are not up to ${SPARES_MAX} ArrayBuffers`);
  }
  return spares as ArrayBuffer[];
}

function describe(x: unknown): string {
  try {
    return JSON.stringify(x)?.slice(0, 80) ?? String(x);
  } catch {
    return typeof x;
  }
}

// ── the page ↔ the world worker (the runtime) ───────────────────────────────────────────

/** How the page starts a run: the runtime's options (the guest as ELF bytes), and for tests a VM whose worker throws. */
export type StartOptions = Omit<RuntimeOptions, 'spawn'> & { faultyWorker?: string };

export type RuntimeQuery = 'now' | 'roles' | 'views' | 'trace' | 'events' | 'violations' | 'errors' | 'windows' | 'script' | 'history' | 'checkpoints';

export type RuntimeCommand =
  | { c: 'start'; id: number; o: StartOptions }
  | { c: 'run'; id: number; untilUs: number }
  | { c: 'step'; id: number }
  /** Windows until the next log batch is sent (or a virtual second with none): answers { found, nowUs }. */
  | { c: 'step-entry'; id: number }
  | { c: 'play'; id: number; pace: number }
  | { c: 'pause'; id: number }
  | { c: 'act'; id: number; action: FaultAction }
  | { c: 'free-run'; id: number }
  | { c: 'snapshot'; id: number }
  | { c: 'restore'; id: number; snap: number }
  /** Time travel back to `toUs` (lockstep): answers { fromUs, nowUs }, fromUs the checkpoint it ran on from. */
  | { c: 'travel'; id: number; toUs: number }
  | { c: 'query'; id: number; what: RuntimeQuery; beforeUs?: number }
  /**
   * The clients' history a reader holding `from` rows of each client lacks (World.historySince),
   * answered as { gen, start, rows }. `gen` counts the runs the history belongs to: a time travel
   * or restore starts a new one (its future may differ), and a reader of an older one gets it all.
   */
  | { c: 'history-since'; id: number; gen: number; from: number[] }
  | { c: 'dispose'; id: number };

export type RuntimeReply =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: string }
  | { stats: RuntimeStats };

const QUERIES: readonly string[] = ['now', 'roles', 'views', 'trace', 'events', 'violations', 'errors', 'windows', 'script', 'history', 'checkpoints'];
const ACTION_KINDS: readonly string[] = ['kill', 'vmotion', 'partition', 'cut', 'heal', 'send', 'load', 'flip'];

/** Checks a command from the page; throws ProtocolError naming what is wrong. */
export function validateRuntimeCommand(x: unknown): RuntimeCommand {
  if (!isObj(x) || typeof x.c !== 'string') throw new ProtocolError(`command is not an object with a name: ${describe(x)}`);
  num(x, 'id');
  switch (x.c) {
    case 'start':
      if (!isObj(x.o) || !(x.o.elf instanceof Uint8Array) || typeof x.o.guest !== 'string') throw new ProtocolError('start needs options with a guest and its ELF bytes');
      num(x.o, 'seed');
      break;
    case 'run':
      num(x, 'untilUs');
      break;
    case 'play':
      if (typeof x.pace !== 'number' || !(x.pace > 0)) throw new ProtocolError('play needs a pace above 0');
      break;
    case 'act':
      if (!isObj(x.action) || !ACTION_KINDS.includes(x.action.kind as string)) throw new ProtocolError(`act needs an action (${ACTION_KINDS.join(', ')})`);
      break;
    case 'restore':
      num(x, 'snap');
      break;
    case 'travel':
      num(x, 'toUs');
      break;
    case 'history-since':
      num(x, 'gen');
      rowCounts(x.from, 'history-since from');
      break;
    case 'query':
      if (!QUERIES.includes(x.what as string)) throw new ProtocolError(`unknown query ${JSON.stringify(x.what)}`);
      break;
    case 'step': case 'step-entry': case 'pause': case 'free-run': case 'snapshot': case 'dispose':
      break;
    default:
      throw new ProtocolError(`unknown command ${JSON.stringify(x.c)}`);
  }
  return x as unknown as RuntimeCommand;
}
