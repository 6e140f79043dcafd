/**
 * Block disk: 512-byte blocks, one request in flight, DMA and a completion interrupt.
 *
 *   off   reg        access
 *   0x00  ID         r   0x4449534b 'DISK'
 *   0x04  BLOCKS     r   number of blocks (constructor option, default 2048 = 1 MiB)
 *   0x08  CMD        w   1 READ, 2 WRITE: start a request from SECTOR, DMA_ADDR, COUNT
 *   0x0c  SECTOR     rw  first block
 *   0x10  DMA_ADDR   rw  guest address of the data
 *   0x14  COUNT      rw  blocks, 1..8
 *   0x18  STATUS     rw  bit0 BUSY, bit1 DONE, bit2 ERROR (rejected CMD or failed request);
 *                        write 1 to DONE/ERROR to clear
 *   0x1c  REQ_ID     r   id of the last request started (ids count up from 1)
 *   0x20  DONE_ID    r   id of the last request completed, successfully or not
 *   0x24  IER        rw  bit0: interrupt (mip bit 18) while DONE or ERROR is set
 *
 * A CMD write while BUSY, or with a bad count, range or DMA address, sets ERROR (and raises the
 * interrupt if enabled) and starts nothing: the guest's mistake, reported to the guest.
 * A WRITE copies its data out of guest memory at the CMD instruction (the bounce buffer, FT paper
 * §3.4) and leaves the machine as a {kind:'disk'} output. The host answers later with
 * `completeDisk(id, data?, failed?)`; a read's data is DMA'd into guest memory at that instruction.
 * A failed completion (the host's disk reported an I/O error) DMAs nothing and sets ERROR instead
 * of DONE — BUSY cleared, DONE_ID = id, the same interrupt — so the guest's driver sees the
 * failure where it looks for the outcome. A completion for the wrong id, with the wrong length, or
 * with data on a failed completion is the host's mistake: DiskCompletionError.
 */
import {
  DISK_BASE, DISK_BLOCK_BYTES, DISK_BLOCKS, DISK_CMD, DISK_CMD_READ, DISK_CMD_WRITE, DISK_COUNT,
  DISK_COUNT_MAX, DISK_DMA_ADDR, DISK_DONE_ID, DISK_ID, DISK_IER, DISK_REQ_ID, DISK_SECTOR, DISK_SIZE,
  DISK_STATUS, DISK_STATUS_BUSY, DISK_STATUS_DONE, DISK_STATUS_ERROR, IRQ_DISK,
} from '../memmap';
import type { Memory } from '../memory';
import type { MmioDevice } from '../bus';
import type { DiskRequest } from '../types';
import { DeviceStateError, countField, u32Field, type DeviceHost } from './device';

const NAME = 'disk';
const DISK_ID_VALUE = 0x4449_534b;
export const DISK_BLOCKS_DEFAULT = 2048;

/** The host completed a request that is not in flight, or with data of the wrong size. */
export class DiskCompletionError extends Error {
  override name = 'DiskCompletionError';
}

/** The request in flight, kept whole so a backup going live can re-issue it (docs/design.md §4). */
export interface InflightRequest {
  id: number;
  op: 'read' | 'write';
  sector: number;
  count: number;
  dmaAddr: number;
  data: Uint8Array | null; // write: the bounced data
}

export interface DiskState {
  blocks: number;
  sector: number;
  dmaAddr: number;
  count: number;
  status: number;
  reqId: number;
  doneId: number;
  ier: number;
  inflight: InflightRequest | null;
}

export class Disk implements MmioDevice {
  readonly name = NAME;
  readonly base = DISK_BASE;
  readonly size = DISK_SIZE;
  private s: DiskState;

  constructor(private readonly mem: Memory, private readonly host: DeviceHost, blocks = DISK_BLOCKS_DEFAULT) {
    if (!Number.isInteger(blocks) || blocks <= 0 || blocks > 0xffff_ffff) throw new RangeError(`disk blocks ${blocks} is not a positive u32`);
    this.s = { blocks, sector: 0, dmaAddr: 0, count: 1, status: 0, reqId: 0, doneId: 0, ier: 0, inflight: null };
  }

  get blocks(): number {
    return this.s.blocks;
  }

  load(offset: number, size: 1 | 2 | 4): number | null {
    if (size !== 4) return null;
    const s = this.s;
    switch (offset) {
      case DISK_ID: return DISK_ID_VALUE;
      case DISK_BLOCKS: return s.blocks;
      case DISK_CMD: return 0;
      case DISK_SECTOR: return s.sector;
      case DISK_DMA_ADDR: return s.dmaAddr;
      case DISK_COUNT: return s.count;
      case DISK_STATUS: return s.status;
      case DISK_REQ_ID: return s.reqId >>> 0;
      case DISK_DONE_ID: return s.doneId >>> 0;
      case DISK_IER: return s.ier;
      default: return null;
    }
  }

  store(offset: number, size: 1 | 2 | 4, value: number): boolean {
    if (size !== 4) return false;
    const v = value >>> 0;
    const s = this.s;
    switch (offset) {
      case DISK_CMD: this.start(v); return true;
      case DISK_SECTOR: s.sector = v; return true;
      case DISK_DMA_ADDR: s.dmaAddr = v; return true;
      case DISK_COUNT: s.count = v; return true;
      case DISK_STATUS: s.status &= ~(v & (DISK_STATUS_DONE | DISK_STATUS_ERROR)); this.updateIrq(); return true;
      case DISK_IER: s.ier = v & 1; this.updateIrq(); return true;
      case DISK_ID: case DISK_BLOCKS: case DISK_REQ_ID: case DISK_DONE_ID: return true; // read-only
      default: return false;
    }
  }

  /** Host: the request in flight, or null. A backup going live re-issues it. */
  pendingRequest(): DiskRequest | null {
    const r = this.s.inflight;
    if (r === null) return null;
    const req: DiskRequest = { id: r.id, op: r.op, sector: r.sector, count: r.count };
    if (r.data !== null) req.data = r.data.slice();
    return req;
  }

  /**
   * Host: request `id` finished now. For a read, `data` is count*512 bytes to DMA into the guest.
   * With `failed`, the request failed: no data, nothing DMA'd, STATUS shows ERROR instead of DONE.
   */
  completeDisk(id: number, data?: Uint8Array, failed = false): void {
    const r = this.s.inflight;
    if (r === null) throw new DiskCompletionError(`disk completion for request ${id}, but no request is in flight`);
    if (r.id !== id) throw new DiskCompletionError(`disk completion for request ${id}, but request ${r.id} is in flight`);
    if (failed) {
      if (data !== undefined && data.length !== 0) {
        throw new DiskCompletionError(`disk ${r.op} ${id} failed with ${data.length} bytes of data; a failed completion carries none`);
      }
    } else if (r.op === 'read') {
      const expected = r.count * DISK_BLOCK_BYTES;
      if (data === undefined || data.length !== expected) {
        throw new DiskCompletionError(`disk read ${id} completed with ${data?.length ?? 'no'} bytes, expected ${expected}`);
      }
      this.mem.write(r.dmaAddr, data); // range checked when the request started
    } else if (data !== undefined && data.length !== 0) {
      throw new DiskCompletionError(`disk write ${id} completed with ${data.length} bytes of data; a write completion carries none`);
    }
    this.s.inflight = null;
    this.s.doneId = id;
    this.s.status = (this.s.status & ~DISK_STATUS_BUSY) | (failed ? DISK_STATUS_ERROR : DISK_STATUS_DONE);
    this.updateIrq();
  }

  /**
   * "Break it" (no bounce buffer): DMA a read's data into guest memory now, while request `id` is
   * still in flight; the completion (status, DONE_ID, interrupt) waits for completeDisk. Returns
   * whether it landed (false: `id` is not the read in flight, or the length is wrong).
   */
  dmaAhead(id: number, data: Uint8Array): boolean {
    const r = this.s.inflight;
    if (r === null || r.id !== id || r.op !== 'read' || data.length !== r.count * DISK_BLOCK_BYTES) return false;
    this.mem.write(r.dmaAddr, data);
    return true;
  }

  snapshot(): Record<string, unknown> {
    const r = this.s.inflight;
    return { ...this.s, inflight: r === null ? null : { ...r, data: r.data === null ? null : r.data.slice() } };
  }

  restore(state: Record<string, unknown>): void {
    this.s = Disk.parse(state);
    this.updateIrq();
  }

  static parse(state: Record<string, unknown>): DiskState {
    const u = (k: string): number => u32Field(NAME, state, k);
    return {
      blocks: u('blocks'), sector: u('sector'), dmaAddr: u('dmaAddr'), count: u('count'),
      status: u('status') & 7, reqId: countField(NAME, state, 'reqId'), doneId: countField(NAME, state, 'doneId'),
      ier: u('ier') & 1, inflight: Disk.parseInflight(state.inflight),
    };
  }

  private static parseInflight(v: unknown): InflightRequest | null {
    if (v === null) return null;
    if (typeof v !== 'object' || v === undefined) throw new DeviceStateError('disk state: inflight must be an object or null');
    const r = v as Record<string, unknown>;
    const op = r.op;
    if (op !== 'read' && op !== 'write') throw new DeviceStateError(`disk state: inflight.op must be read or write`);
    const data = r.data;
    if (op === 'write' ? !(data instanceof Uint8Array) : data !== null) throw new DeviceStateError('disk state: inflight.data does not match op');
    const req: InflightRequest = {
      id: countField(NAME, r, 'id'), op, sector: u32Field(NAME, r, 'sector'), count: u32Field(NAME, r, 'count'),
      dmaAddr: u32Field(NAME, r, 'dmaAddr'), data: data === null ? null : (data as Uint8Array).slice(),
    };
    if (req.data !== null && req.data.length !== req.count * DISK_BLOCK_BYTES) throw new DeviceStateError('disk state: inflight.data has the wrong length');
    return req;
  }

  private start(cmd: number): void {
    const s = this.s;
    const op = cmd === DISK_CMD_READ ? 'read' : cmd === DISK_CMD_WRITE ? 'write' : null;
    const bytes = s.count * DISK_BLOCK_BYTES;
    const valid = op !== null && (s.status & DISK_STATUS_BUSY) === 0
      && s.count >= 1 && s.count <= DISK_COUNT_MAX
      && s.sector + s.count <= s.blocks
      && this.mem.contains(s.dmaAddr, bytes);
    if (!valid) {
      s.status |= DISK_STATUS_ERROR;
      this.updateIrq();
      return;
    }
    const id = ++s.reqId;
    const data = op === 'write' ? this.mem.read(s.dmaAddr, bytes) : null;
    s.inflight = { id, op, sector: s.sector, count: s.count, dmaAddr: s.dmaAddr, data };
    s.status = (s.status & ~(DISK_STATUS_DONE | DISK_STATUS_ERROR)) | DISK_STATUS_BUSY;
    this.updateIrq();
    const req: DiskRequest = { id, op, sector: s.sector, count: s.count };
    if (data !== null) req.data = data.slice();
    this.host.emit({ kind: 'disk', icount: this.host.icount(), req });
  }

  private updateIrq(): void {
    const s = this.s;
    this.host.setIrq(IRQ_DISK, s.ier !== 0 && (s.status & (DISK_STATUS_DONE | DISK_STATUS_ERROR)) !== 0);
  }
}
