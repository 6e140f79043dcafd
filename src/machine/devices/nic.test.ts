import { describe, expect, it } from 'vitest';
import { Nic } from './nic';
import { Memory } from '../memory';
import { FakeDeviceHost } from '../testing/fake-host';
import {
  IRQ_NIC, NIC_CTRL, NIC_DESC_BYTES, NIC_ID, NIC_IER, NIC_ISR, NIC_ISR_RX, NIC_ISR_TX, NIC_MTU_BYTES,
  NIC_RX_BASE, NIC_RX_DROPPED, NIC_RX_HEAD, NIC_RX_SIZE, NIC_RX_TAIL, NIC_TX_BASE, NIC_TX_DROPPED,
  NIC_TX_HEAD, NIC_TX_SIZE, NIC_TX_TAIL, RAM_BASE,
} from '../memmap';

const RX_RING = RAM_BASE + 0x1000;
const TX_RING = RAM_BASE + 0x2000;
const BUFS = RAM_BASE + 0x4000;
const BUF_BYTES = 2048;

function setup(ringSize = 4): { host: FakeDeviceHost; mem: Memory; nic: Nic } {
  const host = new FakeDeviceHost();
  const mem = new Memory(RAM_BASE, 64 * 1024);
  const nic = new Nic(mem, host);
  for (let i = 0; i < ringSize; i++) {
    writeDesc(mem, RX_RING + i * NIC_DESC_BYTES, BUFS + i * BUF_BYTES, BUF_BYTES, 0, 0);
  }
  nic.store(NIC_RX_BASE, 4, RX_RING);
  nic.store(NIC_RX_SIZE, 4, ringSize);
  nic.store(NIC_TX_BASE, 4, TX_RING);
  nic.store(NIC_TX_SIZE, 4, ringSize);
  nic.store(NIC_IER, 4, NIC_ISR_RX | NIC_ISR_TX);
  nic.store(NIC_CTRL, 4, 3);
  return { host, mem, nic };
}

function writeDesc(mem: Memory, at: number, addr: number, cap: number, len: number, flags: number): void {
  const b = new Uint8Array(16);
  const v = new DataView(b.buffer);
  [addr, cap, len, flags].forEach((x, i) => v.setUint32(i * 4, x >>> 0, true));
  mem.write(at, b);
}

function readDesc(mem: Memory, at: number): number[] {
  const v = new DataView(mem.read(at, 16).buffer);
  return [0, 1, 2, 3].map((i) => v.getUint32(i * 4, true));
}

describe('Nic receive', () => {
  it('fills descriptors head..tail-1, sets len and DONE, raises RX', () => {
    const { host, mem, nic } = setup();
    expect(nic.load(NIC_ID, 4)).toBe(0x4e49_4331);
    expect(nic.deliverPacket(new Uint8Array([1]))).toBe('dropped-no-descriptor');
    nic.store(NIC_RX_TAIL, 4, 2);
    expect(nic.deliverPacket(new Uint8Array([1, 2, 3]))).toBe('delivered');
    expect(readDesc(mem, RX_RING).slice(2)).toEqual([3, 1]);
    expect([...mem.read(BUFS, 3)]).toEqual([1, 2, 3]);
    expect(nic.load(NIC_RX_HEAD, 4)).toBe(1);
    expect(host.level(IRQ_NIC)).toBe(true);
    expect(nic.load(NIC_ISR, 4)).toBe(NIC_ISR_RX);
    nic.store(NIC_ISR, 4, NIC_ISR_RX);
    expect(host.level(IRQ_NIC)).toBe(false);
    expect(nic.deliverPacket(new Uint8Array([4]))).toBe('delivered');
    expect(nic.deliverPacket(new Uint8Array([5]))).toBe('dropped-no-descriptor');
    expect(nic.load(NIC_RX_DROPPED, 4)).toBe(2);
  });

  it('drops oversize packets, packets while RX is off, and packets for bad descriptors, counting each', () => {
    const { mem, nic } = setup();
    nic.store(NIC_RX_TAIL, 4, 3);
    expect(nic.deliverPacket(new Uint8Array(NIC_MTU_BYTES + 1))).toBe('dropped-oversize');
    writeDesc(mem, RX_RING, 0x1000, BUF_BYTES, 0, 0); // buffer outside RAM
    expect(nic.deliverPacket(new Uint8Array(10))).toBe('dropped-no-descriptor');
    writeDesc(mem, RX_RING, BUFS, 4, 0, 0); // buffer too small
    expect(nic.deliverPacket(new Uint8Array(10))).toBe('dropped-oversize');
    nic.store(NIC_CTRL, 4, 2);
    expect(nic.deliverPacket(new Uint8Array(10))).toBe('dropped-rx-off');
    expect(nic.load(NIC_RX_DROPPED, 4)).toBe(4);
    expect(nic.load(NIC_RX_HEAD, 4)).toBe(0);
    nic.store(NIC_CTRL, 4, 3);
    nic.store(NIC_RX_BASE, 4, 0x10); // ring itself outside RAM
    nic.store(NIC_RX_TAIL, 4, 1);
    expect(nic.deliverPacket(new Uint8Array(10))).toBe('dropped-no-descriptor');
  });
});

describe('Nic transmit', () => {
  it('sends head..tail-1 on the doorbell, copying the bytes at that icount', () => {
    const { host, mem, nic } = setup();
    mem.write(BUFS, new Uint8Array([7, 8, 9]));
    writeDesc(mem, TX_RING, BUFS, BUF_BYTES, 3, 0);
    writeDesc(mem, TX_RING + 16, BUFS, BUF_BYTES, 2, 0);
    host.icountNow = 500;
    nic.store(NIC_TX_TAIL, 4, 2);
    mem.write(BUFS, new Uint8Array([0, 0, 0])); // later reuse of the buffer must not change what was sent
    expect(host.outputs).toHaveLength(2);
    expect(host.outputs[0]).toMatchObject({ kind: 'net-tx', icount: 500 });
    expect([...(host.outputs[0] as { bytes: Uint8Array }).bytes]).toEqual([7, 8, 9]);
    expect([...(host.outputs[1] as { bytes: Uint8Array }).bytes]).toEqual([7, 8]);
    expect(readDesc(mem, TX_RING)[3]).toBe(1);
    expect(nic.load(NIC_TX_HEAD, 4)).toBe(2);
    expect(nic.load(NIC_ISR, 4)).toBe(NIC_ISR_TX);
    expect(host.level(IRQ_NIC)).toBe(true);
  });

  it('counts bad descriptors instead of throwing, and waits for TX enable', () => {
    const { host, mem, nic } = setup();
    writeDesc(mem, TX_RING, 0x20, BUF_BYTES, 3, 0); // outside RAM
    writeDesc(mem, TX_RING + 16, BUFS, BUF_BYTES, NIC_MTU_BYTES + 1, 0);
    writeDesc(mem, TX_RING + 32, BUFS, BUF_BYTES, 5, 0);
    nic.store(NIC_CTRL, 4, 1);
    nic.store(NIC_TX_TAIL, 4, 3);
    expect(host.outputs).toHaveLength(0);
    nic.store(NIC_CTRL, 4, 3);
    expect(host.outputs).toHaveLength(1);
    expect(nic.load(NIC_TX_DROPPED, 4)).toBe(2);
    expect(nic.load(NIC_TX_HEAD, 4)).toBe(3);
    nic.store(NIC_TX_BASE, 4, 0xffff_fff0); // ring outside RAM
    nic.store(NIC_TX_TAIL, 4, 1);
    expect(nic.load(NIC_TX_DROPPED, 4)).toBe(3);
  });

  it('snapshots and restores ring state exactly', () => {
    const { mem, nic, host } = setup();
    nic.store(NIC_RX_TAIL, 4, 3);
    nic.deliverPacket(new Uint8Array([1]));
    const snap = structuredClone(nic.snapshot());
    const other = new Nic(mem, host);
    other.restore(snap);
    expect(other.snapshot()).toEqual(nic.snapshot());
    expect(other.load(NIC_RX_HEAD, 4)).toBe(1);
    expect(() => other.restore({ ...snap, rxHead: 'x' })).toThrow(/rxHead/);
  });
});

describe('Nic DMA without a bounce buffer (the "break it" switch)', () => {
  it('dmaAhead lands bytes in a free descriptor\'s buffer and nothing else; deliverPacket completes it later', () => {
    const { host, mem, nic } = setup();
    nic.store(NIC_RX_TAIL, 4, 2); // descriptors 0 and 1 are the device's to fill
    expect(nic.dmaAhead(new Uint8Array([7, 8]), 0)).toBe(true);
    expect(nic.dmaAhead(new Uint8Array([9]), 1)).toBe(true);
    expect(nic.dmaAhead(new Uint8Array([1]), 2)).toBe(false); // not a free descriptor
    expect([...mem.read(BUFS, 2)]).toEqual([7, 8]);
    expect([...mem.read(BUFS + BUF_BYTES, 1)]).toEqual([9]);
    expect(readDesc(mem, RX_RING).slice(2)).toEqual([0, 0]); // no length, no DONE
    expect(nic.load(NIC_RX_HEAD, 4)).toBe(0);
    expect(host.level(IRQ_NIC)).toBe(false);
    expect(nic.deliverPacket(new Uint8Array([7, 8]))).toBe('delivered');
    expect(readDesc(mem, RX_RING).slice(2)).toEqual([2, 1]);
    expect(host.level(IRQ_NIC)).toBe(true);
  });

  it('refuses with the receiver off or bytes over the buffer\'s capacity', () => {
    const { nic } = setup();
    nic.store(NIC_RX_TAIL, 4, 2);
    expect(nic.dmaAhead(new Uint8Array(BUF_BYTES + 1), 0)).toBe(false);
    nic.store(NIC_CTRL, 4, 2);
    expect(nic.dmaAhead(new Uint8Array([1]), 0)).toBe(false);
  });
});
