/**
 * NIC: a network card with receive and transmit descriptor rings in guest memory (32-bit registers).
 *
 *   off   reg          access
 *   0x00  ID           r   0x4e494331 'NIC1'
 *   0x04  CTRL         rw  bit0 RX enable, bit1 TX enable
 *   0x08  ISR          rw  bit0 RX done, bit1 TX done; write 1 to clear
 *   0x0c  IER          rw  same bits; the interrupt (mip bit 17) is (ISR & IER) != 0
 *   0x10  RX_BASE      rw  guest address of the RX ring (writing it resets RX_HEAD and RX_TAIL)
 *   0x14  RX_SIZE      rw  descriptors in the RX ring, a power of two ≤ 256 (else the ring is off)
 *   0x18  RX_HEAD      r   next descriptor the device fills
 *   0x1c  RX_TAIL      rw  one past the last descriptor the device may fill (mod RX_SIZE);
 *                          the device fills while RX_HEAD != RX_TAIL, so a ring of N holds N-1
 *   0x20..0x2c         TX_BASE, TX_SIZE, TX_HEAD, TX_TAIL: the same for transmit;
 *                          a TX_TAIL write is the doorbell: descriptors TX_HEAD..TX_TAIL-1 are sent now
 *   0x30  RX_DROPPED   r   received packets dropped (RX off, no descriptor, too big, bad address)
 *   0x34  TX_DROPPED   r   transmit descriptors not sent (length 0 or > MTU, bad address)
 *
 * Descriptor (16 bytes, little-endian): {addr u32, cap u32, len u32, flags u32}; the device sets
 * flags bit0 DONE after filling (RX) or sending (TX); the guest clears it when it reposts.
 *
 * All DMA happens at one instruction: a TX doorbell copies every packet out of guest memory right
 * then (the bounce buffer of the FT paper §3.4, so a guest that reuses its buffer later cannot
 * change what was sent), and `deliverPacket` copies a packet in at the icount the host chose.
 * A bad guest address drops the packet and counts it; it never throws into the host.
 */
import {
  IRQ_NIC, NIC_BASE, NIC_CTRL, NIC_DESC_BYTES, NIC_DESC_DONE, NIC_ID, NIC_IER, NIC_ISR, NIC_ISR_RX,
  NIC_ISR_TX, NIC_MTU_BYTES, NIC_RX_BASE, NIC_RX_DROPPED, NIC_RX_HEAD, NIC_RX_SIZE, NIC_RX_TAIL,
  NIC_SIZE, NIC_TX_BASE, NIC_TX_DROPPED, NIC_TX_HEAD, NIC_TX_SIZE, NIC_TX_TAIL,
} from '../memmap';
import type { Memory } from '../memory';
import type { MmioDevice } from '../bus';
import type { PacketDelivery } from '../types';
import { countField, u32Field, type DeviceHost } from './device';

const NAME = 'nic';
const NIC_ID_VALUE = 0x4e49_4331;
const NIC_CTRL_RX = 0x1;
const NIC_CTRL_TX = 0x2;
const NIC_RING_MAX = 256;

export interface NicState {
  ctrl: number;
  isr: number;
  ier: number;
  rxBase: number;
  rxSize: number;
  rxHead: number;
  rxTail: number;
  txBase: number;
  txSize: number;
  txHead: number;
  txTail: number;
  rxDropped: number;
  txDropped: number;
}

interface Descriptor {
  addr: number;
  cap: number;
  len: number;
  flags: number;
}

function ringUsable(size: number): boolean {
  return size > 0 && size <= NIC_RING_MAX && (size & (size - 1)) === 0;
}

export class Nic implements MmioDevice {
  readonly name = NAME;
  readonly base = NIC_BASE;
  readonly size = NIC_SIZE;
  private s: NicState = Nic.resetState();

  constructor(private readonly mem: Memory, private readonly host: DeviceHost) {}

  static resetState(): NicState {
    return {
      ctrl: 0, isr: 0, ier: 0, rxBase: 0, rxSize: 0, rxHead: 0, rxTail: 0,
      txBase: 0, txSize: 0, txHead: 0, txTail: 0, rxDropped: 0, txDropped: 0,
    };
  }

  load(offset: number, size: 1 | 2 | 4): number | null {
    if (size !== 4) return null;
    const s = this.s;
    switch (offset) {
      case NIC_ID: return NIC_ID_VALUE;
      case NIC_CTRL: return s.ctrl;
      case NIC_ISR: return s.isr;
      case NIC_IER: return s.ier;
      case NIC_RX_BASE: return s.rxBase;
      case NIC_RX_SIZE: return s.rxSize;
      case NIC_RX_HEAD: return s.rxHead;
      case NIC_RX_TAIL: return s.rxTail;
      case NIC_TX_BASE: return s.txBase;
      case NIC_TX_SIZE: return s.txSize;
      case NIC_TX_HEAD: return s.txHead;
      case NIC_TX_TAIL: return s.txTail;
      case NIC_RX_DROPPED: return s.rxDropped >>> 0;
      case NIC_TX_DROPPED: return s.txDropped >>> 0;
      default: return null;
    }
  }

  store(offset: number, size: 1 | 2 | 4, value: number): boolean {
    if (size !== 4) return false;
    const v = value >>> 0;
    const s = this.s;
    switch (offset) {
      case NIC_CTRL: s.ctrl = v & (NIC_CTRL_RX | NIC_CTRL_TX); this.sendPending(); return true;
      case NIC_ISR: s.isr &= ~v; this.updateIrq(); return true;
      case NIC_IER: s.ier = v & (NIC_ISR_RX | NIC_ISR_TX); this.updateIrq(); return true;
      case NIC_RX_BASE: s.rxBase = v; s.rxHead = s.rxTail = 0; return true;
      case NIC_RX_SIZE: s.rxSize = v; s.rxHead = s.rxTail = 0; return true;
      case NIC_RX_TAIL: s.rxTail = ringUsable(s.rxSize) ? v & (s.rxSize - 1) : 0; return true;
      case NIC_TX_BASE: s.txBase = v; s.txHead = s.txTail = 0; return true;
      case NIC_TX_SIZE: s.txSize = v; s.txHead = s.txTail = 0; return true;
      case NIC_TX_TAIL:
        s.txTail = ringUsable(s.txSize) ? v & (s.txSize - 1) : 0;
        this.sendPending();
        return true;
      case NIC_ID: case NIC_RX_HEAD: case NIC_TX_HEAD: case NIC_RX_DROPPED: case NIC_TX_DROPPED:
        return true; // read-only, writes ignored
      default:
        return false;
    }
  }

  /** Host: a packet arrives now. DMA it into the next free RX descriptor and raise RX. */
  deliverPacket(bytes: Uint8Array): PacketDelivery {
    const s = this.s;
    if ((s.ctrl & NIC_CTRL_RX) === 0 || !ringUsable(s.rxSize)) return this.dropRx('dropped-rx-off');
    if (bytes.length > NIC_MTU_BYTES) return this.dropRx('dropped-oversize');
    if (s.rxHead === s.rxTail) return this.dropRx('dropped-no-descriptor');
    const descAddr = (s.rxBase + s.rxHead * NIC_DESC_BYTES) >>> 0;
    const desc = this.readDescriptor(descAddr);
    // A descriptor the guest placed outside RAM, or whose buffer is: nothing we can fill.
    if (desc === null || !this.mem.contains(desc.addr, bytes.length)) return this.dropRx('dropped-no-descriptor');
    if (bytes.length > desc.cap) return this.dropRx('dropped-oversize');
    this.mem.write(desc.addr, bytes);
    this.writeDescriptorTail(descAddr, bytes.length, desc.flags | NIC_DESC_DONE);
    s.rxHead = (s.rxHead + 1) & (s.rxSize - 1);
    s.isr |= NIC_ISR_RX;
    this.updateIrq();
    return 'delivered';
  }

  /**
   * "Break it" (no bounce buffer): DMA a packet's bytes into the buffer of the free RX descriptor
   * `ahead` places past RX_HEAD, now, and nothing else — the descriptor, RX_HEAD and the interrupt
   * wait for deliverPacket. Returns whether the bytes landed (false: no such free descriptor, or
   * its buffer cannot take them).
   */
  dmaAhead(bytes: Uint8Array, ahead: number): boolean {
    const s = this.s;
    if ((s.ctrl & NIC_CTRL_RX) === 0 || !ringUsable(s.rxSize) || bytes.length > NIC_MTU_BYTES) return false;
    const free = (s.rxTail - s.rxHead) & (s.rxSize - 1);
    if (ahead < 0 || ahead >= free) return false;
    const desc = this.readDescriptor((s.rxBase + ((s.rxHead + ahead) & (s.rxSize - 1)) * NIC_DESC_BYTES) >>> 0);
    if (desc === null || bytes.length > desc.cap || !this.mem.contains(desc.addr, bytes.length)) return false;
    this.mem.write(desc.addr, bytes);
    return true;
  }

  snapshot(): Record<string, unknown> {
    return { ...this.s };
  }

  restore(state: Record<string, unknown>): void {
    this.s = Nic.parse(state);
    this.updateIrq();
  }

  static parse(state: Record<string, unknown>): NicState {
    const u = (k: keyof NicState): number => u32Field(NAME, state, k);
    return {
      ctrl: u('ctrl'), isr: u('isr'), ier: u('ier'),
      rxBase: u('rxBase'), rxSize: u('rxSize'), rxHead: u('rxHead'), rxTail: u('rxTail'),
      txBase: u('txBase'), txSize: u('txSize'), txHead: u('txHead'), txTail: u('txTail'),
      rxDropped: countField(NAME, state, 'rxDropped'), txDropped: countField(NAME, state, 'txDropped'),
    };
  }

  /** Sends descriptors TX_HEAD..TX_TAIL-1, each copied out of guest memory at this instruction. */
  private sendPending(): void {
    const s = this.s;
    if ((s.ctrl & NIC_CTRL_TX) === 0 || !ringUsable(s.txSize)) return;
    let sent = false;
    while (s.txHead !== s.txTail) {
      this.sendOne((s.txBase + s.txHead * NIC_DESC_BYTES) >>> 0);
      s.txHead = (s.txHead + 1) & (s.txSize - 1);
      sent = true;
    }
    if (sent) {
      s.isr |= NIC_ISR_TX;
      this.updateIrq();
    }
  }

  private sendOne(descAddr: number): void {
    const desc = this.readDescriptor(descAddr);
    if (desc === null) { this.s.txDropped++; return; }
    const lengthOk = desc.len > 0 && desc.len <= NIC_MTU_BYTES;
    if (lengthOk && this.mem.contains(desc.addr, desc.len)) {
      const bytes = this.mem.read(desc.addr, desc.len);
      this.host.emit({ kind: 'net-tx', icount: this.host.icount(), bytes });
    } else {
      this.s.txDropped++;
    }
    // DONE even for a dropped packet, so a guest waiting on its descriptor does not hang.
    this.writeDescriptorTail(descAddr, desc.len, desc.flags | NIC_DESC_DONE);
  }

  private readDescriptor(addr: number): Descriptor | null {
    if ((addr & 3) !== 0 || !this.mem.contains(addr, NIC_DESC_BYTES)) return null;
    const b = this.mem.read(addr, NIC_DESC_BYTES);
    const v = new DataView(b.buffer);
    return { addr: v.getUint32(0, true), cap: v.getUint32(4, true), len: v.getUint32(8, true), flags: v.getUint32(12, true) };
  }

  /** Writes a descriptor's len and flags words (the device-owned half). */
  private writeDescriptorTail(addr: number, len: number, flags: number): void {
    const b = new Uint8Array(8);
    const v = new DataView(b.buffer);
    v.setUint32(0, len >>> 0, true);
    v.setUint32(4, flags >>> 0, true);
    this.mem.write(addr + 8, b);
  }

  private dropRx(reason: PacketDelivery): PacketDelivery {
    this.s.rxDropped++;
    return reason;
  }

  private updateIrq(): void {
    this.host.setIrq(IRQ_NIC, (this.s.isr & this.s.ier) !== 0);
  }
}
