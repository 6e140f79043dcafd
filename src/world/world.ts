/**
 * The world outside the virtual machines (docs/design.md §5): clients, the network switch and the shared
 * disk server, behind one facade that a host drives. The host is the deterministic simulator
 * (src/sim, virtual time) or the world worker (src/runtime, real time); the world cannot tell which.
 *
 * ## Driving contract
 * - The world never reads a clock and never schedules itself (STYLE.md habits 1, 2). Every call
 *   takes `nowUs`, the host's current time in µs; times must not go backwards.
 * - Every call returns what happened as data, `WorldEffect[]` (habit 5). The host carries out
 *   the effects: `to-vm` frames go to that VM's NIC, `disk-reply` messages go back to that VM's
 *   hypervisor — each over the host's own link, which adds delay, jitter and loss. The `client-*`
 *   and `dropped` effects are for the UI and the checkers; nothing needs to be done with them.
 * - `tick(nowUs)` runs the clients: retransmissions after the retry timeout, give-ups, and new
 *   operations while load is on. Call it whenever `nowUs >= nextDeadlineUs()`; calling it more
 *   often is harmless. After any call, `nextDeadlineUs()` may have moved (even to `nowUs`).
 * - `fromVm(vm, bytes, nowUs)`: a frame that VM transmitted has reached the switch (call it when
 *   the host's link delivers it). The switch routes it to a client, which takes the reply now.
 * - `diskRequest(vm, req, nowUs)`, `testAndSet(vm, epoch, nowUs)`, `diskMessage(vm, x, nowUs)`:
 *   a disk-channel request from that VM has reached the world. It is answered at once, in call
 *   order, unless the VM is cut from the disk server — then it is dropped and no reply comes
 *   (the FT layer times out and halts: split-brain protection, docs/design.md §4).
 * - Routing is decided when a frame or message passes the switch. If the host delays delivery and
 *   a link is cut meanwhile, it may re-check with `vmReachesClients(vm)` / `vmReachesDisk(vm)`.
 * - The FT layer reports who serves with `setServing(vm)` when a VM goes live, and new VMs made
 *   by FT VMotion with `addVm(vm)`; the flag for the new pair is cleared with `resetFlag(nowUs)`.
 * - Client ids are 1..clientCount (address CLIENT_ADDR_BASE + id).
 */
import type { DiskRequest } from '../machine/types';
import { Client, CLIENT_SETTINGS_DEFAULT, type ClientSettings, type ClientSnapshot, type DropReason, type WorkloadKind } from './client';
import { DiskServer, DISK_SERVER_BLOCKS_DEFAULT, type DiskServerSnapshot } from './disk-server';
import { diskRequestFromMachine, validateDiskRequest, type DiskReplyMsg, type DiskRequestMsg } from './disk-messages';
import { mergeOwnedHistories, type HistoryDelta, type HistoryEntry } from './history';
import { Network, type LinkSpec, type NetDropReason, type NetworkSnapshot, type NodeRef, type VmName } from './network';
import { deriveSeed } from './prng';
import { CLIENT_ADDR_BASE } from './wire';

export interface WorldSettings extends ClientSettings {
  clientCount: number;
  /** Clients invoke continuously (closed loop) while on; off: only sendOne(). */
  loadOn: boolean;
  /** Under load, the pause between a reply and the client's next request. */
  thinkTimeUs: number;
}

export const WORLD_SETTINGS_DEFAULT: WorldSettings = {
  ...CLIENT_SETTINGS_DEFAULT,
  clientCount: 3,
  loadOn: false,
  thinkTimeUs: 10_000,
};

export interface WorldConfig {
  seed: number;
  vms: VmName[];
  /** The VM that serves first (the primary), or null. */
  serving: VmName | null;
  diskBlocks?: number;
  settings?: Partial<WorldSettings>;
  /** The host's time at creation; with load on, clients make their first request then. Default 0. */
  startUs?: number;
}

export type WorldEffect =
  | { kind: 'to-vm'; vm: VmName; bytes: Uint8Array; client: number; seq: number; attempt: number }
  | { kind: 'disk-reply'; vm: VmName; reply: DiskReplyMsg }
  | { kind: 'dropped'; what: 'client-frame' | 'vm-frame' | 'disk-request'; from: NodeRef; reason: NetDropReason | 'invalid'; detail: string }
  | { kind: 'client-invoked'; client: number; seq: number; op: number; key: number; arg: number; atUs: number }
  | { kind: 'client-retried'; client: number; seq: number; attempt: number; atUs: number }
  | { kind: 'client-gave-up'; client: number; seq: number; attempts: number; atUs: number }
  | { kind: 'client-completed'; client: number; seq: number; op: number; key: number; arg: number; result: number; status: number; invokeUs: number; returnUs: number; attempts: number; fromVm: VmName }
  | { kind: 'client-dropped-duplicate'; client: number; seq: number; reason: DropReason; value: number; status: number; sameResult: boolean | null; fromVm: VmName; atUs: number }
  | { kind: 'client-malformed'; client: number; fromVm: VmName; reason: string; atUs: number }
  /** The switch learned from an announce that `vm` serves the service address now. */
  | { kind: 'serving'; vm: VmName; atUs: number };

export interface WorldSnapshot {
  seed: number;
  settings: WorldSettings;
  clients: ClientSnapshot[];
  /** Under load, when each client (index id-1) invokes next; null: not scheduled. */
  nextInvokeUs: (number | null)[];
  network: NetworkSnapshot;
  disk: DiskServerSnapshot;
}

export class WorldError extends Error {
  override name = 'WorldError';
}

export class World {
  readonly network = new Network();
  readonly disk: DiskServer;
  private readonly seed: number;
  private settings: WorldSettings;
  /** clients[id - 1]; clients beyond clientCount are kept (their history counts) but idle. */
  private clients: Client[] = [];
  private nextInvokeUs: (number | null)[] = [];

  constructor(config: WorldConfig) {
    this.seed = config.seed >>> 0;
    this.disk = new DiskServer(config.diskBlocks ?? DISK_SERVER_BLOCKS_DEFAULT);
    this.settings = checkWorldSettings({ ...WORLD_SETTINGS_DEFAULT, ...config.settings });
    for (const vm of config.vms) this.network.addVm(vm);
    this.network.setServing(config.serving);
    this.growClients(this.settings.clientCount);
    if (this.settings.loadOn) this.scheduleIdleClients(config.startUs ?? 0);
  }

  // ── settings ────────────────────────────────────────────────────────────────────────────────

  currentSettings(): WorldSettings {
    return { ...this.settings };
  }

  /** Changes settings; client settings apply to each client's next send. */
  configure(patch: Partial<WorldSettings>, nowUs: number): void {
    const next = checkWorldSettings({ ...this.settings, ...patch });
    for (const c of this.clients) c.configure(clientSettingsOf(next));
    this.settings = next;
    this.growClients(next.clientCount);
    if (next.loadOn) this.scheduleIdleClients(nowUs);
    else this.nextInvokeUs.fill(null);
  }

  setLoad(on: boolean, nowUs: number): void {
    this.configure({ loadOn: on }, nowUs);
  }

  setWorkload(workload: WorkloadKind, nowUs: number): void {
    this.configure({ workload }, nowUs);
  }

  // ── clients ─────────────────────────────────────────────────────────────────────────────────

  /** One request from client `id` now (the UI's send button); nothing if it is still waiting. */
  sendOne(id: number, nowUs: number): WorldEffect[] {
    const client = this.activeClient(id);
    return client ? this.invoke(client, nowUs) : [];
  }

  /** Retransmissions, give-ups, and new requests under load. */
  tick(nowUs: number): WorldEffect[] {
    const effects: WorldEffect[] = [];
    for (const client of this.activeClients()) {
      effects.push(...this.runDue(client, nowUs));
      const at = this.nextInvokeUs[client.id - 1];
      if (this.settings.loadOn && !client.busy && at !== null && at <= nowUs) {
        this.nextInvokeUs[client.id - 1] = null;
        effects.push(...this.invoke(client, nowUs));
      }
    }
    return effects;
  }

  /** The earliest time tick() has work, or null if none is pending. */
  nextDeadlineUs(): number | null {
    let next: number | null = null;
    for (const client of this.activeClients()) {
      const retry = client.nextDeadlineUs();
      const invoke = this.settings.loadOn && !client.busy ? this.nextInvokeUs[client.id - 1] : null;
      for (const t of [retry, invoke]) if (t !== null && (next === null || t < next)) next = t;
    }
    return next;
  }

  /** A frame transmitted by `vm` reaches the switch. */
  fromVm(vm: VmName, bytes: Uint8Array, nowUs: number): WorldEffect[] {
    const route = this.network.routeFromVm(vm, bytes);
    if (route.kind === 'drop') {
      return [{ kind: 'dropped', what: 'vm-frame', from: { kind: 'vm', vm }, reason: route.reason, detail: route.detail }];
    }
    if (route.to.kind !== 'client') throw new WorldError(`VM frame routed to ${route.to.kind}`);
    const client = this.clients[route.to.addr - CLIENT_ADDR_BASE - 1];
    if (!client) throw new WorldError(`VM frame routed to address ${route.to.addr}, which has no client`);
    return this.deliverReply(client, vm, bytes, nowUs);
  }

  /** A VM's announce reached the switch (Network.announce); the world effect says who serves now. */
  announce(vm: VmName, nowUs: number): WorldEffect[] {
    const changed = this.network.announce(vm);
    if (changed === null) return [{ kind: 'dropped', what: 'vm-frame', from: { kind: 'vm', vm }, reason: 'partitioned', detail: `VM ${vm}'s announce: cut from the clients` }];
    return changed ? [{ kind: 'serving', vm, atUs: nowUs }] : [];
  }

  /**
   * A net-channel message that crossed a thread from VM `vm`: a frame (bytes) or the hypervisor's
   * announce (`{type: 'announce'}`); anything else is dropped as invalid.
   */
  netMessage(vm: VmName, x: unknown, nowUs: number): WorldEffect[] {
    if (x instanceof Uint8Array) return this.fromVm(vm, x, nowUs);
    if (typeof x === 'object' && x !== null && (x as { type?: unknown }).type === 'announce') return this.announce(vm, nowUs);
    return [{ kind: 'dropped', what: 'vm-frame', from: { kind: 'vm', vm }, reason: 'invalid', detail: `net message is ${x === null ? 'null' : typeof x}, expected a frame or an announce` }];
  }

  /** Every client's operations merged in invocation order, for the linearizability checker. */
  history(): HistoryEntry[] {
    return mergeOwnedHistories(this.clients.map((c) => c.history()));
  }

  /**
   * What a reader holding each client's first `from[i]` operations lacks: by client, the rows from
   * there on (`start[i]` the row `rows[i]` starts at, at most the client's count). A row is final
   * once it returned or a later one exists (a client has one operation outstanding, its newest), so
   * a reader asks again from its final rows and gets the provisional one again: `historyCursor`.
   */
  historySince(from: readonly number[]): HistoryDelta {
    const start = this.clients.map((c, i) => Math.min(Math.max(0, Math.floor(from[i] ?? 0)), c.operationCount()));
    return { start, rows: this.clients.map((c, i) => c.historyFrom(start[i])) };
  }

  /** Bytes the clients' operation logs hold: what the world keeps per operation (Client.retainedBytes). */
  retainedBytes(): number {
    return this.clients.reduce((n, c) => n + c.retainedBytes(), 0);
  }

  client(id: number): Client | null {
    return this.clients[id - 1] ?? null;
  }

  allClients(): readonly Client[] {
    return this.clients;
  }

  // ── disk server ─────────────────────────────────────────────────────────────────────────────

  /** A disk request as it left VM `vm`'s machine (src/machine/types.ts). */
  diskRequest(vm: VmName, req: DiskRequest, nowUs: number): WorldEffect[] {
    return this.toDisk(vm, diskRequestFromMachine(vm, req), nowUs);
  }

  testAndSet(vm: VmName, epoch: number, nowUs: number): WorldEffect[] {
    return this.toDisk(vm, { kind: 'tas-request', vm, epoch }, nowUs);
  }

  /** A disk-channel message that crossed a thread from VM `vm`: validated before it is applied. */
  diskMessage(vm: VmName, x: unknown, nowUs: number): WorldEffect[] {
    const v = validateDiskRequest(x);
    const from: NodeRef = { kind: 'vm', vm };
    if (!v.ok) return [{ kind: 'dropped', what: 'disk-request', from, reason: 'invalid', detail: v.error }];
    if (v.value.vm !== vm) {
      return [{ kind: 'dropped', what: 'disk-request', from, reason: 'invalid', detail: `message names VM ${v.value.vm} on VM ${vm}'s channel` }];
    }
    return this.toDisk(vm, v.value, nowUs);
  }

  /** Clears the test-and-set flag for a new pair (FT VMotion); returns the new epoch. */
  resetFlag(nowUs: number): number {
    return this.disk.resetFlag(nowUs);
  }

  // ── network ─────────────────────────────────────────────────────────────────────────────────

  addVm(vm: VmName): void {
    this.network.addVm(vm);
  }

  setServing(vm: VmName | null): void {
    this.network.setServing(vm);
  }

  partition(link: LinkSpec): void {
    this.network.partition(link);
  }

  heal(link?: LinkSpec): void {
    this.network.heal(link);
  }

  vmReachesClients(vm: VmName): boolean {
    return this.network.vmReachesClients(vm);
  }

  vmReachesDisk(vm: VmName): boolean {
    return this.network.vmReachesDisk(vm);
  }

  // ── snapshot ────────────────────────────────────────────────────────────────────────────────

  snapshot(): WorldSnapshot {
    return {
      seed: this.seed,
      settings: { ...this.settings },
      clients: this.clients.map((c) => c.snapshot()),
      nextInvokeUs: [...this.nextInvokeUs],
      network: this.network.snapshot(),
      disk: this.disk.snapshot(),
    };
  }

  restore(s: WorldSnapshot): void {
    if (s.seed >>> 0 !== this.seed) throw new WorldError(`snapshot seed ${s.seed} differs from this world's seed ${this.seed}`);
    if (s.nextInvokeUs.length !== s.clients.length) throw new WorldError('snapshot has a schedule entry per client missing');
    const settings = checkWorldSettings({ ...s.settings });
    const clients = s.clients.map((cs, i) => {
      if (cs.id !== i + 1) throw new WorldError(`snapshot client ${i} has id ${cs.id}, expected ${i + 1}`);
      const c = new Client(cs.id, deriveSeed(this.seed, cs.id), cs.settings);
      c.restore(cs);
      return c;
    });
    this.disk.restore(s.disk); // throws before anything changed if the disk does not fit
    this.network.restore(s.network);
    this.settings = settings;
    this.clients = clients;
    this.nextInvokeUs = [...s.nextInvokeUs];
  }

  // ── internals ───────────────────────────────────────────────────────────────────────────────

  private growClients(count: number): void {
    while (this.clients.length < count) {
      const id = this.clients.length + 1;
      const c = new Client(id, deriveSeed(this.seed, id), clientSettingsOf(this.settings));
      this.clients.push(c);
      this.nextInvokeUs.push(null);
      this.network.addClient(c.addr);
    }
  }

  private activeClients(): Client[] {
    return this.clients.slice(0, this.settings.clientCount);
  }

  private activeClient(id: number): Client | null {
    return Number.isInteger(id) && id >= 1 && id <= this.settings.clientCount ? this.clients[id - 1] : null;
  }

  /** Under load, an idle client with nothing scheduled (load just started, client just added) starts now. */
  private scheduleIdleClients(nowUs: number): void {
    for (const c of this.activeClients()) {
      if (!c.busy && this.nextInvokeUs[c.id - 1] === null) this.nextInvokeUs[c.id - 1] = nowUs;
    }
  }

  private invoke(client: Client, nowUs: number): WorldEffect[] {
    const frame = client.invoke(nowUs);
    if (!frame) return [];
    const r = client.operation(frameSeq(frame))!;
    const invoked: WorldEffect = { kind: 'client-invoked', client: client.id, seq: r.seq, op: r.op, key: r.key, arg: r.arg, atUs: nowUs };
    return [invoked, this.sendFrame(client, frame, r.seq, 1)];
  }

  private runDue(client: Client, nowUs: number): WorldEffect[] {
    const due = client.due(nowUs);
    if (due.gaveUp) {
      if (this.settings.loadOn) this.nextInvokeUs[client.id - 1] = nowUs + this.settings.thinkTimeUs;
      return [{ kind: 'client-gave-up', client: client.id, seq: due.gaveUp.seq, attempts: due.gaveUp.attempts, atUs: nowUs }];
    }
    const effects: WorldEffect[] = [];
    for (const frame of due.frames) {
      const seq = frameSeq(frame);
      const attempt = client.operation(seq)!.attempts;
      effects.push({ kind: 'client-retried', client: client.id, seq, attempt, atUs: nowUs });
      effects.push(this.sendFrame(client, frame, seq, attempt));
    }
    return effects;
  }

  private sendFrame(client: Client, bytes: Uint8Array, seq: number, attempt: number): WorldEffect {
    const route = this.network.routeFromClient(client.addr, bytes);
    if (route.kind === 'drop') {
      return { kind: 'dropped', what: 'client-frame', from: { kind: 'client', addr: client.addr }, reason: route.reason, detail: route.detail };
    }
    if (route.to.kind !== 'vm') throw new WorldError(`client frame routed to ${route.to.kind}`);
    return { kind: 'to-vm', vm: route.to.vm, bytes, client: client.id, seq, attempt };
  }

  private deliverReply(client: Client, vm: VmName, bytes: Uint8Array, nowUs: number): WorldEffect[] {
    const outcome = client.onReply(bytes, nowUs);
    switch (outcome.kind) {
      case 'completed': {
        const r = outcome.record;
        if (this.settings.loadOn) this.nextInvokeUs[client.id - 1] = nowUs + this.settings.thinkTimeUs;
        return [{
          kind: 'client-completed', client: client.id, seq: r.seq, op: r.op, key: r.key, arg: r.arg,
          result: r.result ?? 0, status: r.status ?? 0, invokeUs: r.invokeUs, returnUs: nowUs, attempts: r.attempts, fromVm: vm,
        }];
      }
      case 'duplicate':
      case 'stale': {
        const d = outcome.drop;
        return [{
          kind: 'client-dropped-duplicate', client: client.id, seq: d.seq, reason: d.reason, value: d.value,
          status: d.status, sameResult: d.sameResult, fromVm: vm, atUs: nowUs,
        }];
      }
      case 'malformed':
        return [{ kind: 'client-malformed', client: client.id, fromVm: vm, reason: outcome.reason, atUs: nowUs }];
    }
  }

  private toDisk(vm: VmName, req: DiskRequestMsg, nowUs: number): WorldEffect[] {
    const route = this.network.routeToDisk(vm);
    if (route.kind === 'drop') {
      return [{ kind: 'dropped', what: 'disk-request', from: { kind: 'vm', vm }, reason: route.reason, detail: route.detail }];
    }
    return [{ kind: 'disk-reply', vm, reply: this.disk.handle(req, nowUs) }];
  }
}

/** The seq field of a request frame (offset 8, src/world/wire.ts). */
function frameSeq(frame: Uint8Array): number {
  return new DataView(frame.buffer, frame.byteOffset, frame.byteLength).getUint32(8, true);
}

function clientSettingsOf(s: WorldSettings): ClientSettings {
  return {
    workload: s.workload, retryTimeoutUs: s.retryTimeoutUs, giveUpAfterAttempts: s.giveUpAfterAttempts,
    kvKeys: s.kvKeys, kvPutPercent: s.kvPutPercent,
  };
}

function checkWorldSettings(s: WorldSettings): WorldSettings {
  if (!Number.isInteger(s.clientCount) || s.clientCount < 0) throw new WorldError(`client count ${s.clientCount} must be an integer ≥ 0`);
  if (!(s.thinkTimeUs >= 0)) throw new WorldError(`think time ${s.thinkTimeUs} µs must be ≥ 0`);
  if (typeof s.loadOn !== 'boolean') throw new WorldError(`loadOn must be a boolean`);
  return s;
}
