/**
 * The shared disk server (docs/design.md §5): 512-byte blocks that every VM of the pair reads and
 * writes, plus the test-and-set flag that decides who may go live (docs/design.md §4; the paper's
 * "atomic test-and-set operation on the shared storage", Scales et al. §2.3).
 *
 * Requests are answered strictly in arrival order: each call is handled completely before it
 * returns, so the order of calls is the order of effects. Bad requests (out of range, wrong data
 * length) get an error reply, never a throw. A VM cut from the disk server never gets here: the
 * network drops its requests, its test-and-set goes unanswered and its FT layer halts — the
 * split-brain protection the lecture shows.
 *
 * Storage is sparse: blocks never written read as zeros and cost nothing.
 */
import { DISK_BLOCK_BYTES } from '../machine/memmap';
import type { DiskErrorCode, DiskReplyMsg, DiskRequestMsg, TasReason } from './disk-messages';
import { assertNever } from './disk-messages';

export const DISK_SERVER_BLOCKS_DEFAULT = 2048; // 1 MiB

/** Test-and-set attempts and flag resets, for the UI's disk-server panel. */
export type FlagEvent =
  | { kind: 'tas'; vm: string; epoch: number; atUs: number; won: boolean; reason: TasReason }
  | { kind: 'reset'; atUs: number; epoch: number };

export interface DiskServerStats {
  reads: number;
  writes: number;
  errors: number;
  blocksRead: number;
  blocksWritten: number;
}

export interface DiskServerSnapshot {
  blockCount: number;
  /** [sector, 512 bytes] for every block ever written, by sector. */
  blocks: [number, Uint8Array][];
  holder: string | null;
  epoch: number;
  flagLog: FlagEvent[];
  stats: DiskServerStats;
}

export class DiskServerError extends Error {
  override name = 'DiskServerError';
}

type TasReply = Extract<DiskReplyMsg, { kind: 'tas-reply' }>;

export class DiskServer {
  readonly blockCount: number;
  private blocks = new Map<number, Uint8Array>();
  private holder: string | null = null;
  private epoch = 0;
  private flagLog: FlagEvent[] = [];
  private stats: DiskServerStats = zeroStats();

  constructor(blockCount = DISK_SERVER_BLOCKS_DEFAULT) {
    if (!Number.isSafeInteger(blockCount) || blockCount < 1) {
      throw new DiskServerError(`block count ${blockCount} must be a positive integer`);
    }
    this.blockCount = blockCount;
  }

  /** Answers one request. Never throws for a bad request: it answers with 'disk-error'. */
  handle(req: DiskRequestMsg, nowUs: number): DiskReplyMsg {
    switch (req.kind) {
      case 'disk-read': return this.read(req);
      case 'disk-write': return this.write(req);
      case 'tas-request': return this.testAndSet(req.vm, req.epoch, nowUs);
      default: return assertNever(req);
    }
  }

  /**
   * Test-and-set: wins if the flag is clear (and sets it) or the caller already holds it; loses if
   * another VM holds it or the request is from an epoch since replaced by resetFlag().
   */
  testAndSet(vm: string, epoch: number, nowUs: number): TasReply {
    const reason = this.tasOutcome(vm, epoch);
    const won = reason === 'set' || reason === 'already-holder';
    if (reason === 'set') this.holder = vm;
    this.flagLog.push({ kind: 'tas', vm, epoch, atUs: nowUs, won, reason });
    return { kind: 'tas-reply', vm, epoch: this.epoch, won, holder: this.holder, reason };
  }

  /** Clears the flag for a new pair made by FT VMotion; returns the new pair's epoch. */
  resetFlag(nowUs: number): number {
    this.holder = null;
    this.epoch += 1;
    this.flagLog.push({ kind: 'reset', atUs: nowUs, epoch: this.epoch });
    return this.epoch;
  }

  flag(): { holder: string | null; epoch: number } {
    return { holder: this.holder, epoch: this.epoch };
  }

  flagEvents(): FlagEvent[] {
    return this.flagLog.map((e) => ({ ...e }));
  }

  counters(): DiskServerStats {
    return { ...this.stats };
  }

  /** A copy of one block, zeros if never written (for tests and the UI). */
  peekBlock(sector: number): Uint8Array {
    if (!Number.isSafeInteger(sector) || sector < 0 || sector >= this.blockCount) {
      throw new DiskServerError(`sector ${sector} is outside 0..${this.blockCount - 1}`);
    }
    const block = this.blocks.get(sector);
    return block ? new Uint8Array(block) : new Uint8Array(DISK_BLOCK_BYTES);
  }

  snapshot(): DiskServerSnapshot {
    const sectors = [...this.blocks.keys()].sort((a, b) => a - b);
    return {
      blockCount: this.blockCount,
      blocks: sectors.map((s) => [s, new Uint8Array(this.blocks.get(s)!)]),
      holder: this.holder,
      epoch: this.epoch,
      flagLog: this.flagEvents(),
      stats: this.counters(),
    };
  }

  restore(s: DiskServerSnapshot): void {
    if (s.blockCount !== this.blockCount) {
      throw new DiskServerError(`snapshot has ${s.blockCount} blocks, this disk server has ${this.blockCount}`);
    }
    for (const [sector, data] of s.blocks) {
      if (sector < 0 || sector >= this.blockCount || data.length !== DISK_BLOCK_BYTES) {
        throw new DiskServerError(`snapshot block ${sector} (${data.length} bytes) does not fit this disk`);
      }
    }
    this.blocks = new Map(s.blocks.map(([sector, data]) => [sector, new Uint8Array(data)]));
    this.holder = s.holder;
    this.epoch = s.epoch;
    this.flagLog = s.flagLog.map((e) => ({ ...e }));
    this.stats = { ...s.stats };
  }

  private tasOutcome(vm: string, epoch: number): TasReason {
    if (epoch !== this.epoch) return 'stale-epoch';
    if (this.holder === null) return 'set';
    return this.holder === vm ? 'already-holder' : 'held';
  }

  private read(req: Extract<DiskRequestMsg, { kind: 'disk-read' }>): DiskReplyMsg {
    const bad = this.checkRange(req.sector, req.count);
    if (bad) return this.error(req, bad.code, bad.detail);
    const data = new Uint8Array(req.count * DISK_BLOCK_BYTES);
    for (let i = 0; i < req.count; i++) {
      const block = this.blocks.get(req.sector + i);
      if (block) data.set(block, i * DISK_BLOCK_BYTES);
    }
    this.stats.reads += 1;
    this.stats.blocksRead += req.count;
    return { kind: 'disk-read-ok', vm: req.vm, id: req.id, data };
  }

  private write(req: Extract<DiskRequestMsg, { kind: 'disk-write' }>): DiskReplyMsg {
    const bad = this.checkRange(req.sector, req.count);
    if (bad) return this.error(req, bad.code, bad.detail);
    const expected = req.count * DISK_BLOCK_BYTES;
    if (req.data.length !== expected) {
      return this.error(req, 'bad-length', `write of ${req.count} blocks carries ${req.data.length} bytes, expected ${expected}`);
    }
    for (let i = 0; i < req.count; i++) {
      this.blocks.set(req.sector + i, req.data.slice(i * DISK_BLOCK_BYTES, (i + 1) * DISK_BLOCK_BYTES));
    }
    this.stats.writes += 1;
    this.stats.blocksWritten += req.count;
    return { kind: 'disk-write-ok', vm: req.vm, id: req.id };
  }

  private checkRange(sector: number, count: number): { code: DiskErrorCode; detail: string } | null {
    if (!Number.isSafeInteger(count) || count < 1) return { code: 'bad-request', detail: `count ${count} must be ≥ 1` };
    if (!Number.isSafeInteger(sector) || sector < 0 || sector + count > this.blockCount) {
      return { code: 'out-of-range', detail: `blocks ${sector}..${sector + count - 1} are outside 0..${this.blockCount - 1}` };
    }
    return null;
  }

  private error(req: { vm: string; id: number }, error: DiskErrorCode, detail: string): DiskReplyMsg {
    this.stats.errors += 1;
    return { kind: 'disk-error', vm: req.vm, id: req.id, error, detail };
  }
}

function zeroStats(): DiskServerStats {
  return { reads: 0, writes: 0, errors: 0, blocksRead: 0, blocksWritten: 0 };
}
