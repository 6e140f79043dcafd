/** What a simulated cluster is made of: its guest, clients, speeds, links, faults. */
import type { GuestMachine } from '../machine/types';
import type { FtSettings } from '../ft/settings';
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

