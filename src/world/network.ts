/**
 * The network switch (docs/design.md §5): decides, for each frame or disk message, *to whom* it goes or
 * *why* it is dropped, and counts drops by reason. It never delays or loses at random — delay,
 * jitter and loss belong to the link that carries the frame (the simulator's, or real time in the
 * browser) — so every decision here is a pure function of the partition picture and who serves.
 *
 * Nodes: VMs by name ('A', 'B', …), clients by address (CLIENT_ADDR_BASE + id), the disk server.
 * Client frames addressed to SERVICE_ADDR go to the VM that serves now; the FT layer says which
 * with setServing() when a VM goes live (docs/design.md §4, go-live: "the network learns its address").
 * VM frames go to the client address in their dst. Any VM may send: the switch does not enforce
 * "one server" — the FT protocol does, and the simulator's checker verifies it.
 *
 * Partitions are per link class: a VM cut from the clients, a VM cut from the disk server, and the
 * logging channel between the VMs (carried by the simulator/runtime, recorded here so one place
 * holds the whole partition picture).
 */
import { NIC_MTU_BYTES } from '../machine/memmap';
import { CLIENT_ADDR_BASE, SERVICE_ADDR } from './wire';

export type VmName = string;

export type NodeRef =
  | { kind: 'vm'; vm: VmName }
  | { kind: 'client'; addr: number }
  | { kind: 'disk' };

export type NetDropReason =
  | 'partitioned' // a cut link between the two ends
  | 'no-server' // a client frame for SERVICE_ADDR while no VM serves
  | 'unknown-destination' // dst is not a node this network knows
  | 'unknown-source' // sent by a VM or client not attached to the network
  | 'oversize' // longer than NIC_MTU_BYTES
  | 'runt'; // too short to carry a dst address

export const NET_DROP_REASONS: readonly NetDropReason[] = [
  'partitioned', 'no-server', 'unknown-destination', 'unknown-source', 'oversize', 'runt',
];

export type Route =
  | { kind: 'deliver'; to: NodeRef }
  | { kind: 'drop'; reason: NetDropReason; detail: string };

/** A class of link the UI can cut and heal. */
export type LinkSpec =
  | { kind: 'vm-clients'; vm: VmName }
  | { kind: 'vm-disk'; vm: VmName }
  | { kind: 'logging' };

export interface NetworkSnapshot {
  vms: VmName[];
  clientAddrs: number[];
  serving: VmName | null;
  cutFromClients: VmName[];
  cutFromDisk: VmName[];
  loggingCut: boolean;
  drops: Record<NetDropReason, number>;
  delivered: number;
}

export class NetworkError extends Error {
  override name = 'NetworkError';
}

/** The 16-bit dst address at offset 0 of every frame (src/world/wire.ts). */
const DST_BYTES = 2;

export class Network {
  private vms = new Set<VmName>();
  private clientAddrs = new Set<number>();
  private serving: VmName | null = null;
  private cutFromClients = new Set<VmName>();
  private cutFromDisk = new Set<VmName>();
  private logging = false;
  private drops: Record<NetDropReason, number> = zeroDrops();
  private delivered = 0;

  addVm(vm: VmName): void {
    this.vms.add(vm);
  }

  /** A VM that left (crashed and removed by the UI): frames to or from it are unknown. */
  removeVm(vm: VmName): void {
    this.vms.delete(vm);
    if (this.serving === vm) this.serving = null;
  }

  addClient(addr: number): void {
    this.clientAddrs.add(addr);
  }

  /** The VM that receives SERVICE_ADDR traffic from now on; null: none (requests are dropped). */
  setServing(vm: VmName | null): void {
    if (vm !== null && !this.vms.has(vm)) throw new NetworkError(`setServing: VM ${vm} is not attached to the network`);
    this.serving = vm;
  }

  /**
   * A VM's announce reached the switch (the gratuitous ARP of a takeover: "the service address is
   * here now"): it serves from now on, unless it is cut from the clients — an announce travels the
   * same wire as its frames. Returns whether who serves changed, or null when it was dropped.
   */
  announce(vm: VmName): boolean | null {
    if (!this.vms.has(vm)) {
      this.drop('unknown-source', `VM ${vm} is not attached`);
      return null;
    }
    if (this.cutFromClients.has(vm)) {
      this.drop('partitioned', `VM ${vm} is cut from the clients`);
      return null;
    }
    const changed = this.serving !== vm;
    this.serving = vm;
    return changed;
  }

  get servingVm(): VmName | null {
    return this.serving;
  }

  get loggingCut(): boolean {
    return this.logging;
  }

  partition(link: LinkSpec): void {
    this.setCut(link, true);
  }

  /** Heals one link, or every link when called with none. */
  heal(link?: LinkSpec): void {
    if (link) {
      this.setCut(link, false);
      return;
    }
    this.cutFromClients.clear();
    this.cutFromDisk.clear();
    this.logging = false;
  }

  isCut(link: LinkSpec): boolean {
    switch (link.kind) {
      case 'vm-clients': return this.cutFromClients.has(link.vm);
      case 'vm-disk': return this.cutFromDisk.has(link.vm);
      case 'logging': return this.logging;
    }
  }

  /** Every cut link, for the UI and for snapshots. */
  cuts(): LinkSpec[] {
    const out: LinkSpec[] = [];
    for (const vm of [...this.cutFromClients].sort()) out.push({ kind: 'vm-clients', vm });
    for (const vm of [...this.cutFromDisk].sort()) out.push({ kind: 'vm-disk', vm });
    if (this.logging) out.push({ kind: 'logging' });
    return out;
  }

  /** A client's frame: to the serving VM if it is for SERVICE_ADDR and the link is up. */
  routeFromClient(srcAddr: number, bytes: Uint8Array): Route {
    const bad = this.checkFrame(bytes);
    if (bad) return bad;
    if (!this.clientAddrs.has(srcAddr)) return this.drop('unknown-source', `client address ${srcAddr} is not attached`);
    const dst = readDst(bytes);
    if (dst !== SERVICE_ADDR) return this.drop('unknown-destination', `client frame for address ${dst}`);
    if (this.serving === null) return this.drop('no-server', 'no VM serves the service address');
    if (this.cutFromClients.has(this.serving)) {
      return this.drop('partitioned', `VM ${this.serving} is cut from the clients`);
    }
    return this.deliver({ kind: 'vm', vm: this.serving });
  }

  /** A VM's frame: to the client address in its dst, if the VM's client link is up. */
  routeFromVm(vm: VmName, bytes: Uint8Array): Route {
    const bad = this.checkFrame(bytes);
    if (bad) return bad;
    if (!this.vms.has(vm)) return this.drop('unknown-source', `VM ${vm} is not attached`);
    if (this.cutFromClients.has(vm)) return this.drop('partitioned', `VM ${vm} is cut from the clients`);
    const dst = readDst(bytes);
    if (dst < CLIENT_ADDR_BASE || !this.clientAddrs.has(dst)) {
      return this.drop('unknown-destination', `VM ${vm} sent a frame to address ${dst}`);
    }
    return this.deliver({ kind: 'client', addr: dst });
  }

  /** A disk request (or test-and-set) from a VM reaches the disk server only over an uncut link. */
  routeToDisk(vm: VmName): Route {
    if (!this.vms.has(vm)) return this.drop('unknown-source', `VM ${vm} is not attached`);
    if (this.cutFromDisk.has(vm)) return this.drop('partitioned', `VM ${vm} is cut from the disk server`);
    return this.deliver({ kind: 'disk' });
  }

  /** The disk server's reply: checked again when it leaves, the link may have been cut meanwhile. */
  routeFromDisk(vm: VmName): Route {
    if (!this.vms.has(vm)) return this.drop('unknown-destination', `VM ${vm} is not attached`);
    if (this.cutFromDisk.has(vm)) return this.drop('partitioned', `VM ${vm} is cut from the disk server`);
    return this.deliver({ kind: 'vm', vm });
  }

  /** Whether a frame already routed to `vm` may still be delivered (the link may be cut since). */
  vmReachesClients(vm: VmName): boolean {
    return this.vms.has(vm) && !this.cutFromClients.has(vm);
  }

  vmReachesDisk(vm: VmName): boolean {
    return this.vms.has(vm) && !this.cutFromDisk.has(vm);
  }

  dropCounts(): Record<NetDropReason, number> {
    return { ...this.drops };
  }

  deliveredCount(): number {
    return this.delivered;
  }

  snapshot(): NetworkSnapshot {
    return {
      vms: [...this.vms].sort(),
      clientAddrs: [...this.clientAddrs].sort((a, b) => a - b),
      serving: this.serving,
      cutFromClients: [...this.cutFromClients].sort(),
      cutFromDisk: [...this.cutFromDisk].sort(),
      loggingCut: this.logging,
      drops: { ...this.drops },
      delivered: this.delivered,
    };
  }

  restore(s: NetworkSnapshot): void {
    this.vms = new Set(s.vms);
    this.clientAddrs = new Set(s.clientAddrs);
    this.serving = s.serving;
    this.cutFromClients = new Set(s.cutFromClients);
    this.cutFromDisk = new Set(s.cutFromDisk);
    this.logging = s.loggingCut;
    this.drops = { ...zeroDrops(), ...s.drops };
    this.delivered = s.delivered;
  }

  private setCut(link: LinkSpec, cut: boolean): void {
    switch (link.kind) {
      case 'vm-clients': setMember(this.cutFromClients, link.vm, cut); return;
      case 'vm-disk': setMember(this.cutFromDisk, link.vm, cut); return;
      case 'logging': this.logging = cut; return;
    }
  }

  /** Size checks common to every frame: a switch reads the dst, and no NIC sends past its MTU. */
  private checkFrame(bytes: Uint8Array): Route | null {
    if (bytes.length > NIC_MTU_BYTES) return this.drop('oversize', `frame is ${bytes.length} bytes, MTU is ${NIC_MTU_BYTES}`);
    if (bytes.length < DST_BYTES) return this.drop('runt', `frame is ${bytes.length} bytes, too short for a dst address`);
    return null;
  }

  private drop(reason: NetDropReason, detail: string): Route {
    this.drops[reason] += 1;
    return { kind: 'drop', reason, detail };
  }

  private deliver(to: NodeRef): Route {
    this.delivered += 1;
    return { kind: 'deliver', to };
  }
}

function readDst(bytes: Uint8Array): number {
  return bytes[0] | (bytes[1] << 8);
}

function setMember<T>(set: Set<T>, item: T, present: boolean): void {
  if (present) set.add(item);
  else set.delete(item);
}

function zeroDrops(): Record<NetDropReason, number> {
  const out = {} as Record<NetDropReason, number>;
  for (const r of NET_DROP_REASONS) out[r] = 0;
  return out;
}
