/**
 * The lockstep conductor's side of its nodes (conductor.ts): the handles it reaches them through —
 * in this thread (local-nodes.ts) or in workers (src/runtime/worker-nodes.ts) — and the whole
 * cluster's snapshot.
 */
import type { HostView } from '../ft/host';
import type { ChannelName } from '../ft/channels';
import type { SimLinkSettings } from './link';
import type { ScriptStep } from './script';
import type { HostSpec } from './cluster-config';
import type { BoundaryResult, EventKey, KeyedEvent, NodeState, WindowReport, WireEnd } from './node';

/** The whole cluster at a window boundary, as plain data (Conductor.snapshot / restore). */
export interface ClusterSnapshot {
  nowUs: number;
  nextSampleUs: number;
  scriptIndex: number;
  actionNo: number;
  started: boolean;
  windows: number;
  worldNext: number | null;
  worldSent: Record<number, number>;
  worldCuts: string[];
  userSteps: ScriptStep[];
  wires: { name: string; ends: [string, string]; channel: ChannelName; settings: SimLinkSettings; cut: boolean }[];
  hosts: { spec: HostSpec; view: HostView; nextUs: number | null; sent: Record<number, number> }[];
  traceLength: number;
  /** Node states by name (hosts that were killed have none). */
  nodes: Record<string, NodeState>;
}

export interface NodeHandle {
  snapshot(): Promise<NodeState>;
  restore(s: NodeState): Promise<void>;
  /**
   * Runs the node to `endUs` once it holds every message its peers have sent (`expect`, by wire),
   * stopping sooner where what it sends could come back (`returnUs`: the least delay from each
   * other running node back to it; the conductor's bound leaves the node's own sends to it).
   */
  runWindow(endUs: number, expect: Record<number, number>, returnUs: Record<string, number>): Promise<WindowReport>;
  addEnd(end: WireEnd): void;
  /** Cuts or heals `wire` once the node holds what its peers have sent (`expect`); returns what the cut lost. */
  setCut(wire: number, cut: boolean, key: EventKey, expect?: Record<number, number>): Promise<KeyedEvent[]>;
  /** Free run: the node runs on the real clock from now on (time 0 at wall time `originMs`). */
  freeRun?(originMs: number): void;
}

export interface HostHandle extends NodeHandle {
  kill(): Promise<HostView>;
  /** Not fail-stop: a bit of the guest's RAM flips, at a boundary. */
  flipRamBit(addr: number): Promise<void>;
  startVMotion(peer: string, epoch: number, key: EventKey): Promise<BoundaryResult>;
}

export type WorldAction =
  | { kind: 'load'; on: boolean }
  | { kind: 'send-one'; client: number }
  | { kind: 'partition'; spec: { kind: 'vm-clients' | 'vm-disk'; vm: string } | { kind: 'logging' } }
  | { kind: 'heal' }
  | { kind: 'add-vm'; vm: string }
  | { kind: 'reset-flag' };

export interface WorldHandle extends NodeHandle {
  /** A world action at a boundary; `reset-flag` answers the new epoch. */
  act(action: WorldAction, key: EventKey): Promise<BoundaryResult & { epoch?: number }>;
}

/** Makes the nodes: in this thread (tests) or in workers (src/runtime). */
export interface NodeFactory {
  world(): WorldHandle;
  host(spec: HostSpec): HostHandle;
}
