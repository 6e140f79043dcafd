import { describe, expect, it } from 'vitest';
import { Disk, DiskCompletionError } from './disk';
import { Memory } from '../memory';
import { FakeDeviceHost } from '../testing/fake-host';
import {
  DISK_BLOCKS, DISK_CMD, DISK_CMD_READ, DISK_CMD_WRITE, DISK_COUNT, DISK_DMA_ADDR, DISK_DONE_ID, DISK_ID,
  DISK_IER, DISK_REQ_ID, DISK_SECTOR, DISK_STATUS, DISK_STATUS_BUSY, DISK_STATUS_DONE, DISK_STATUS_ERROR,
  IRQ_DISK, RAM_BASE,
} from '../memmap';
import type { MachineOutput } from '../types';

const BUF = RAM_BASE + 0x1000;

function setup(blocks?: number): { host: FakeDeviceHost; mem: Memory; disk: Disk } {
  const host = new FakeDeviceHost();
  const mem = new Memory(RAM_BASE, 64 * 1024);
  const disk = new Disk(mem, host, blocks);
  disk.store(DISK_IER, 4, 1);
  return { host, mem, disk };
}

function issue(disk: Disk, cmd: number, sector: number, count: number, dma = BUF): void {
  disk.store(DISK_SECTOR, 4, sector);
  disk.store(DISK_COUNT, 4, count);
  disk.store(DISK_DMA_ADDR, 4, dma);
  disk.store(DISK_CMD, 4, cmd);
}

describe('Disk', () => {
  it('identifies itself and its size', () => {
    const { disk } = setup();
    expect(disk.load(DISK_ID, 4)).toBe(0x4449_534b);
    expect(disk.load(DISK_BLOCKS, 4)).toBe(2048);
    expect(setup(16).disk.load(DISK_BLOCKS, 4)).toBe(16);
  });

  it('bounces write data out at the CMD instruction and completes with an interrupt', () => {
    const { host, mem, disk } = setup();
    mem.write(BUF, new Uint8Array(1024).fill(0xab));
    host.icountNow = 1234;
    issue(disk, DISK_CMD_WRITE, 5, 2);
    mem.write(BUF, new Uint8Array(1024)); // the guest reusing its buffer changes nothing sent
    expect(disk.load(DISK_STATUS, 4)).toBe(DISK_STATUS_BUSY);
    expect(disk.load(DISK_REQ_ID, 4)).toBe(1);
    const out = host.outputs[0] as Extract<MachineOutput, { kind: 'disk' }>;
    expect(out.icount).toBe(1234);
    expect(out.req).toMatchObject({ id: 1, op: 'write', sector: 5, count: 2 });
    expect(out.req.data!.every((b) => b === 0xab)).toBe(true);
    expect(disk.pendingRequest()?.data?.length).toBe(1024);
    expect(host.level(IRQ_DISK)).toBe(false);
    disk.completeDisk(1);
    expect(disk.load(DISK_STATUS, 4)).toBe(DISK_STATUS_DONE);
    expect(disk.load(DISK_DONE_ID, 4)).toBe(1);
    expect(host.level(IRQ_DISK)).toBe(true);
    disk.store(DISK_STATUS, 4, DISK_STATUS_DONE);
    expect(host.level(IRQ_DISK)).toBe(false);
    expect(disk.pendingRequest()).toBeNull();
  });

  it('DMAs read data into guest memory at completion', () => {
    const { host, mem, disk } = setup();
    issue(disk, DISK_CMD_READ, 0, 1);
    expect(host.outputs[0]).toMatchObject({ kind: 'disk', req: { id: 1, op: 'read', sector: 0, count: 1 } });
    expect((host.outputs[0] as { req: { data?: Uint8Array } }).req.data).toBeUndefined();
    disk.completeDisk(1, new Uint8Array(512).fill(7));
    expect([...mem.read(BUF, 4)]).toEqual([7, 7, 7, 7]);
  });

  it('a failed read DMAs nothing and shows ERROR, not DONE, with the completion interrupt', () => {
    const { host, mem, disk } = setup();
    mem.write(BUF, new Uint8Array(512).fill(9));
    issue(disk, DISK_CMD_READ, 0, 1);
    disk.completeDisk(1, undefined, true);
    expect(disk.load(DISK_STATUS, 4)).toBe(DISK_STATUS_ERROR);
    expect(disk.load(DISK_DONE_ID, 4)).toBe(1);
    expect(host.level(IRQ_DISK)).toBe(true);
    expect(mem.read(BUF, 512).every((b) => b === 9)).toBe(true);
    expect(disk.pendingRequest()).toBeNull();
    disk.store(DISK_STATUS, 4, DISK_STATUS_ERROR);
    expect(host.level(IRQ_DISK)).toBe(false);
  });

  it('a failed write shows ERROR; the next request starts clean and can succeed', () => {
    const { host, disk } = setup();
    issue(disk, DISK_CMD_WRITE, 2, 1);
    disk.completeDisk(1, undefined, true);
    expect(disk.load(DISK_STATUS, 4)).toBe(DISK_STATUS_ERROR);
    expect(host.level(IRQ_DISK)).toBe(true);
    issue(disk, DISK_CMD_WRITE, 2, 1);
    expect(disk.load(DISK_STATUS, 4)).toBe(DISK_STATUS_BUSY);
    disk.completeDisk(2);
    expect(disk.load(DISK_STATUS, 4)).toBe(DISK_STATUS_DONE);
  });

  it('a failed completion that carries data is a host mistake and changes nothing', () => {
    const { disk } = setup();
    issue(disk, DISK_CMD_READ, 0, 1);
    expect(() => disk.completeDisk(1, new Uint8Array(512), true)).toThrow(/failed completion carries none/);
    expect(disk.load(DISK_STATUS, 4)).toBe(DISK_STATUS_BUSY);
    disk.completeDisk(1, new Uint8Array(0), true); // empty data is the same as none
    expect(disk.load(DISK_STATUS, 4)).toBe(DISK_STATUS_ERROR);
  });

  it('throws a typed error for a wrong id or length, changing nothing', () => {
    const { mem, disk } = setup();
    expect(() => disk.completeDisk(1)).toThrow(DiskCompletionError);
    issue(disk, DISK_CMD_READ, 0, 1);
    expect(() => disk.completeDisk(2, new Uint8Array(512))).toThrow(/request 1 is in flight/);
    expect(() => disk.completeDisk(1, new Uint8Array(511))).toThrow(/511 bytes, expected 512/);
    expect(() => disk.completeDisk(1)).toThrow(DiskCompletionError);
    expect(disk.load(DISK_STATUS, 4)).toBe(DISK_STATUS_BUSY);
    expect(mem.read(BUF, 1)[0]).toBe(0);
    issue(disk, DISK_CMD_WRITE, 0, 1);
    expect(disk.load(DISK_STATUS, 4)).toBe(DISK_STATUS_BUSY | DISK_STATUS_ERROR); // second request while busy
    disk.completeDisk(1, new Uint8Array(512));
    issue(disk, DISK_CMD_WRITE, 0, 1);
    expect(() => disk.completeDisk(2, new Uint8Array(512))).toThrow(/carries none/);
  });

  it('rejects a bad request with ERROR and an interrupt, emitting nothing', () => {
    const { host, disk } = setup(8);
    issue(disk, DISK_CMD_READ, 7, 2); // past the end
    issue(disk, DISK_CMD_READ, 0, 9); // too many blocks
    issue(disk, DISK_CMD_READ, 0, 0);
    issue(disk, DISK_CMD_READ, 0, 1, 0x100); // DMA outside RAM
    issue(disk, 3, 0, 1);
    expect(host.outputs).toHaveLength(0);
    expect(disk.load(DISK_STATUS, 4)).toBe(DISK_STATUS_ERROR);
    expect(host.level(IRQ_DISK)).toBe(true);
    expect(disk.load(DISK_REQ_ID, 4)).toBe(0);
  });

  it('restores an in-flight request, which can then complete', () => {
    const { mem, host, disk } = setup();
    issue(disk, DISK_CMD_WRITE, 3, 1);
    const snap = structuredClone(disk.snapshot());
    const other = new Disk(mem, host);
    other.restore(snap);
    expect(other.pendingRequest()).toMatchObject({ id: 1, op: 'write', sector: 3 });
    other.completeDisk(1);
    expect(other.load(DISK_DONE_ID, 4)).toBe(1);
    expect(() => other.restore({ ...snap, inflight: { ...(snap.inflight as object), op: 'erase' } })).toThrow(/op/);
  });
});

describe('Disk DMA without a bounce buffer (the "break it" switch)', () => {
  it('dmaAhead lands a read\'s data while the request is in flight; the completion still comes later', () => {
    const { host, mem, disk } = setup();
    issue(disk, DISK_CMD_READ, 3, 1);
    const data = new Uint8Array(512).fill(0x5a);
    expect(disk.dmaAhead(2, data)).toBe(false); // not the request in flight
    expect(disk.dmaAhead(1, data.subarray(0, 100))).toBe(false); // wrong length
    expect(disk.dmaAhead(1, data)).toBe(true);
    expect([...mem.read(BUF, 4)]).toEqual([0x5a, 0x5a, 0x5a, 0x5a]);
    expect(disk.load(DISK_STATUS, 4)! & DISK_STATUS_BUSY).toBe(DISK_STATUS_BUSY);
    expect(host.level(IRQ_DISK)).toBe(false);
    disk.completeDisk(1, data);
    expect(disk.load(DISK_DONE_ID, 4)).toBe(1);
  });

  it('refuses for a write', () => {
    const { disk } = setup();
    issue(disk, DISK_CMD_WRITE, 3, 1);
    expect(disk.dmaAhead(1, new Uint8Array(512))).toBe(false);
  });
});
