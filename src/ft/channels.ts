/**
 * The channels a VM host talks on, one validated message union per channel (docs/design.md §4,
 * STYLE.md habit 4). Every message is plain structured-clone data, so the same values travel over
 * the simulator's in-memory links and over MessagePorts between workers, and each is validated
 * where it arrives: a malformed message is rejected whole with a clear error, never half-applied.
 *
 *  - `log`:  the logging channel between primary and backup. Log batches (binary, log.ts) travel
 *            primary → backup; acks and resend requests travel back; heartbeats travel both ways
 *            and are never log entries, so flow control cannot starve them.
 *  - `net`:  Ethernet-like frames between the VM's NIC and the network switch (src/world).
 *  - `disk`: requests to the shared disk server and its replies. The union is the disk server's
 *            protocol (src/world/disk-messages.ts, which validates it where it arrives); the host
 *            states the part it speaks structurally, so src/ft does not import src/world.
 */

import type { MachineSnapshot } from '../machine/types';

export type ChannelName = 'log' | 'net' | 'disk';

export class ChannelError extends Error {
  override name = 'ChannelError';
}

// ── logging channel ─────────────────────────────────────────────────────────────────────────────

/** Backup → primary: cumulative acknowledgement plus where the backup's replay stands. */
export interface LogAck {
  type: 'ack';
  /** Every entry with seq ≤ ackSeq has been received (0: none yet). The Output Rule waits on this. */
  ackSeq: number;
  /** Every entry with seq ≤ appliedSeq has been replayed and left the backup's log buffer (flow control). */
  appliedSeq: number;
  /** The icount the backup has replayed to when it sent this (lag is measured from it). */
  backupIcount: number;
  /** The backup's measured replay speed, instructions per second of its own host time (0: not yet known). */
  replayIps: number;
}

/** Backup → primary: "I have everything before `fromSeq`; a later batch arrived: send from here." */
export interface LogResend {
  type: 'resend';
  fromSeq: number;
}

/** Either way: "I am alive." Carries the sender's icount and host time, for the UI and detection. */
export interface Heartbeat {
  type: 'heartbeat';
  icount: number;
  sentUs: number;
}

/** Primary → backup: one encoded batch of log entries (log.ts). */
export interface LogBatchMsg {
  type: 'log';
  bytes: ArrayBuffer;
}

/**
 * FT VMotion, primary → new backup, first on a new logging channel: the machine's state at the
 * icount where the new pair starts, and the test-and-set epoch of the new pair.
 */
export interface SnapshotMsg {
  type: 'snapshot';
  machine: MachineSnapshot;
  epoch: number;
}

export type LoggingMsg = LogBatchMsg | LogAck | LogResend | Heartbeat | SnapshotMsg;

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function bad(what: string): never {
  throw new ChannelError(`malformed logging-channel message: ${what}`);
}

/** Validates a message from the logging channel; throws ChannelError naming the fault. */
export function validateLoggingMsg(m: unknown): LoggingMsg {
  if (typeof m !== 'object' || m === null) bad(`${m === null ? 'null' : typeof m}, expected an object`);
  const x = m as Record<string, unknown>;
  switch (x.type) {
    case 'log':
      if (!(x.bytes instanceof ArrayBuffer)) bad('log batch bytes are not an ArrayBuffer');
      return { type: 'log', bytes: x.bytes };
    case 'ack':
      if (!isCount(x.ackSeq)) bad(`ack ackSeq ${String(x.ackSeq)}`);
      if (!isCount(x.appliedSeq) || x.appliedSeq > x.ackSeq) bad(`ack appliedSeq ${String(x.appliedSeq)} (ackSeq ${x.ackSeq})`);
      if (!isCount(x.backupIcount)) bad(`ack backupIcount ${String(x.backupIcount)}`);
      if (typeof x.replayIps !== 'number' || !Number.isFinite(x.replayIps) || x.replayIps < 0) bad(`ack replayIps ${String(x.replayIps)}`);
      return { type: 'ack', ackSeq: x.ackSeq, appliedSeq: x.appliedSeq, backupIcount: x.backupIcount, replayIps: x.replayIps };
    case 'resend':
      if (!isCount(x.fromSeq) || x.fromSeq < 1) bad(`resend fromSeq ${String(x.fromSeq)}`);
      return { type: 'resend', fromSeq: x.fromSeq };
    case 'heartbeat':
      if (!isCount(x.icount)) bad(`heartbeat icount ${String(x.icount)}`);
      if (typeof x.sentUs !== 'number' || !Number.isFinite(x.sentUs)) bad(`heartbeat sentUs ${String(x.sentUs)}`);
      return { type: 'heartbeat', icount: x.icount, sentUs: x.sentUs };
    case 'snapshot':
      return { type: 'snapshot', machine: checkSnapshotShape(x.machine), epoch: isCount(x.epoch) ? x.epoch : bad(`snapshot epoch ${String(x.epoch)}`) };
    default:
      return bad(`unknown type ${JSON.stringify(x.type)}`);
  }
}

/** The outline of a machine snapshot; the machine's restore() checks the rest before changing anything. */
function checkSnapshotShape(m: unknown): MachineSnapshot {
  const s = m as Partial<MachineSnapshot> | null;
  if (typeof s !== 'object' || s === null) bad('snapshot without a machine state');
  if (!isCount(s.icount)) bad(`snapshot icount ${String(s.icount)}`);
  if (!(s.ram instanceof ArrayBuffer) || !(s.cpu instanceof ArrayBuffer)) bad('snapshot RAM or CPU state is not an ArrayBuffer');
  if (typeof s.devices !== 'object' || s.devices === null || typeof s.config !== 'object' || s.config === null) bad('snapshot without devices or config');
  return s as MachineSnapshot;
}

// ── network channel ─────────────────────────────────────────────────────────────────────────────

/** The largest frame a VM accepts or sends: a jumbo frame. Larger ones are refused at the host. */
export const NET_FRAME_BYTES_MAX = 9_216;

/** Validates a frame from the network; throws ChannelError. */
export function validateFrame(m: unknown): Uint8Array {
  if (!(m instanceof Uint8Array)) throw new ChannelError(`malformed frame: ${m === null ? 'null' : typeof m}, expected bytes`);
  if (m.length === 0 || m.length > NET_FRAME_BYTES_MAX) {
    throw new ChannelError(`oversize or empty frame: ${m.length} bytes (1..${NET_FRAME_BYTES_MAX} allowed)`);
  }
  return m;
}

// ── disk channel (the disk server's protocol, as the host speaks it) ────────────────────────────

/** Host → disk server. */
export type HostDiskRequest =
  | { kind: 'disk-read'; vm: string; id: number; sector: number; count: number }
  | { kind: 'disk-write'; vm: string; id: number; sector: number; count: number; data: Uint8Array }
  | { kind: 'tas-request'; vm: string; epoch: number };

/** Disk server → host, already validated by the disk protocol's validator where it arrived. */
export type HostDiskReply =
  | { kind: 'disk-read-ok'; vm: string; id: number; data: Uint8Array }
  | { kind: 'disk-write-ok'; vm: string; id: number }
  | { kind: 'disk-error'; vm: string; id: number; error: string; detail: string }
  | { kind: 'tas-reply'; vm: string; epoch: number; won: boolean; holder: string | null; reason: string };

/** A message on one of the host's channels. */
/** VM → switch on the net channel: the hypervisor (not the guest) announces the service address. */
export interface AnnounceMsg {
  type: 'announce';
}

export type ChannelMsg = { channel: 'log'; msg: LoggingMsg } | { channel: 'net'; msg: Uint8Array | AnnounceMsg } | { channel: 'disk'; msg: HostDiskRequest | HostDiskReply };

/**
 * One end of a two-ended link, as a host's transport sees it. Twins: the simulator's in-memory
 * link (src/sim/link.ts: delay, jitter, loss, reorder, partition, messages in flight as data) and
 * the MessagePort link in src/runtime. `nowUs` stamps the send (virtual time in the simulator and
 * in lockstep, host time in free run).
 */
export interface LinkEnd<M> {
  send(msg: M, nowUs: number): void;
}
