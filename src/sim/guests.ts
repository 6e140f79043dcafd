/**
 * The shipped guest programs (public/guests/*.elf) as machine factories for the simulator, plus
 * the per-guest defaults a run needs: which client workload talks to it and how often to hash.
 */
import { Machine } from '../machine/machine';
import type { WorkloadKind } from '../world/client';
import type { ClusterConfig } from './cluster';

export const GUEST_NAMES = ['counter', 'kv', 'ticker', 'bench'] as const;
export type GuestName = (typeof GUEST_NAMES)[number];

export function isGuestName(s: string): s is GuestName {
  return (GUEST_NAMES as readonly string[]).includes(s);
}

/** The factory builds a fresh machine from the ELF bytes each call (read them once). */
export function machineFactory(elf: Uint8Array): () => Machine {
  return () => Machine.fromElf(elf);
}

/** The workload whose requests the guest serves (null: no clients). */
export function guestWorkload(name: GuestName): WorkloadKind | null {
  return name === 'counter' ? 'counter' : name === 'kv' ? 'kv' : null;
}

const HASH_INTERVAL_INSTRUCTIONS: Record<GuestName, number> = { counter: 20_000, kv: 20_000, ticker: 5_000, bench: 1_000_000 };

/**
 * Cluster settings for a guest: the I/O guests idle most of the time, so they hash every 20k
 * instructions (the ticker, idler still, every 5k); the compute guest every 1M.
 */
export function guestClusterConfig(name: GuestName, elf: Uint8Array, seed: number, clients = 3): Partial<ClusterConfig> & Pick<ClusterConfig, 'seed' | 'makeMachine'> {
  const workload = guestWorkload(name);
  return {
    seed,
    makeMachine: machineFactory(elf),
    workload,
    clients: workload ? clients : 0,
    ft: { hashIntervalInstructions: HASH_INTERVAL_INSTRUCTIONS[name] },
  };
}

/**
 * Cluster settings for any RV32 ELF (the `sim` command's --elf, the app's upload): clients only
 * with a workload, a hash every 100k instructions.
 */
export function elfClusterConfig(elf: Uint8Array, seed: number, workload: WorkloadKind | null, clients = 3): Partial<ClusterConfig> & Pick<ClusterConfig, 'seed' | 'makeMachine'> {
  return { seed, makeMachine: machineFactory(elf), workload, clients: workload ? clients : 0, ft: { hashIntervalInstructions: 100_000 } };
}
