/** What a simulated cluster is made of: its guest, clients, speeds, links, faults. */
import type { GuestMachine } from '../machine/types';
import type { FtSettings } from '../ft/settings';
import { VmHost } from '../ft/host';
import { World } from '../world/world';
import { Prng, type PrngState } from './prng';
import type { WorkloadKind } from '../world/client';
import type { SimLinkSettings } from './link';
import type { ScriptStep } from './script';

export interface ClusterConfig {
  seed: number;
  /** Builds one guest machine; called once per VM, so all start identical. */
  makeMachine: () => GuestMachine;
  /** Client workload, or null for a guest without clients. */
  workload: WorkloadKind | null;
  clients: number;
  /** Between a reply and a client's next request. */
  thinkTimeUs: number;
  primarySpeedIps: number;
  /** The backup's speed, and every later VM's (FT VMotion starts backups). */
  backupSpeedIps: number;
  /** FT settings; `speedIps` defaults to primarySpeedIps. */
  ft: Partial<FtSettings>;
  loggingLink: Partial<SimLinkSettings>;
  netLink: Partial<SimLinkSettings>;
  diskLink: Partial<SimLinkSettings>;
  /** Host scheduling quantum: one slice runs at most this much virtual time of instructions. */
  hostSliceUs: number;
  /** Each slice takes ±this fraction longer or shorter, as real hosts do (seeded). */
  hostSpeedJitter: number;
  sampleEveryUs: number;
  /** Keep every event in `trace` (tests). Off, events only stream to the checkers and `listeners`. */
  keepTrace: boolean;
  /** The serving VM wanting to run but making no progress this long, with nothing cut, is a wedge. */
  livenessLimitUs: number;
  /** Fault script (script.ts), applied at its virtual times. */
  script: ScriptStep[];
  /** Clients invoke continuously from the start; off, only `clientSend` makes requests. */
  load: boolean;
}

export const CLUSTER_DEFAULTS: Omit<ClusterConfig, 'seed' | 'makeMachine'> = {
  workload: null,
  clients: 0,
  thinkTimeUs: 5_000,
  primarySpeedIps: 4_000_000,
  backupSpeedIps: 4_000_000,
  ft: {},
  loggingLink: { delayUs: 50, jitterUs: 20, inOrder: true },
  netLink: { delayUs: 200, jitterUs: 100, inOrder: false },
  diskLink: { delayUs: 150, jitterUs: 50, inOrder: true },
  hostSliceUs: 1_000,
  hostSpeedJitter: 0.02,
  sampleEveryUs: 20_000,
  keepTrace: true,
  livenessLimitUs: 1_000_000,
  script: [],
  load: true,
};


/** What a new VM host is: enough for any thread to build it the way the simulator does. */
export interface HostSpec {
  name: string;
  index: number;
  role: 'primary' | 'backup';
  peer: string;
  awaitSnapshot: boolean;
  startUs: number;
  speedIps: number;
}

/**
 * A VM host as the cluster makes it, from the seed alone: its guest RNG and its slice-time jitter
 * are streams named after it, so a worker builds the very host the simulator does.
 */
export function buildHost(cfg: ClusterConfig, ft: FtSettings, spec: HostSpec, machine: GuestMachine = cfg.makeMachine()): VmHost {
  const root = new Prng(cfg.seed);
  const jitterRng = root.fork(`host ${spec.name} speed`);
  const jitter = cfg.hostSpeedJitter;
  const speedIps = spec.speedIps;
  return new VmHost({
    name: spec.name, role: spec.role, peer: spec.peer, awaitSnapshot: spec.awaitSnapshot, startUs: spec.startUs,
    machine,
    rng: root.fork(`guest rng ${spec.name}`),
    settings: ft,
    pacing: {
      sliceInstructions: Math.max(1, Math.floor((speedIps * cfg.hostSliceUs) / 1e6)),
      nominalIps: speedIps,
      sliceUs: (retired) => ((retired * 1e6) / speedIps) * (1 + jitter * (2 * jitterRng.nextFloat() - 1)),
      snapshot: () => jitterRng.snapshot(),
      restore: (s: PrngState) => jitterRng.restore(s),
    },
  });
}

/** The world as the cluster makes it: clients and disk server seeded from the run's seed, VMs `vms`, A serving. */
export function buildWorld(cfg: ClusterConfig, vms: string[]): World {
  const world = new World({
    seed: new Prng(cfg.seed).fork('world').nextU32(),
    vms: [],
    serving: null,
    settings: { clientCount: cfg.workload ? cfg.clients : 0, workload: cfg.workload ?? 'counter', loadOn: false, thinkTimeUs: cfg.thinkTimeUs },
  });
  for (const vm of vms) world.addVm(vm);
  if (vms.includes('A')) world.setServing('A');
  return world;
}
