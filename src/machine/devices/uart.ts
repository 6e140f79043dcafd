/**
 * UART: the subset of a 16550 that a console needs (byte registers at byte offsets).
 *
 *   off  reg       access
 *   0    RBR/THR   r: pop one received byte (0 when empty); w: transmit a byte
 *                  (with LCR.DLAB set: divisor latch low, stored and otherwise ignored)
 *   1    IER       rw  bit0 ERBFI: interrupt (mip bit 16) while received data is waiting
 *                  (with LCR.DLAB set: divisor latch high)
 *   2    IIR/FCR   r: 0x04 receive data available (when ERBFI and data), else 0x01 none pending;
 *                  w: FCR, ignored (the receive queue is always a FIFO)
 *   3    LCR       rw  stored; bit7 DLAB selects the divisor latch at 0/1
 *   4    MCR       rw  stored
 *   5    LSR       r   THRE|TEMT always (transmission is instantaneous), DR when data is waiting
 *   7    SCR       rw  scratch
 *
 * Transmit batching: bytes are collected and handed to the sink as one {kind:'console'} output at
 * a '\n' or when CONSOLE_BATCH_BYTES are pending: points fixed by the guest's instruction stream,
 * never by where the host happens to end a run, so a primary and a backup that split their runs
 * differently still cut the console into the same outputs at the same icounts. Bytes waiting for
 * their newline are device state (snapshot, hash). A host that stops for good (the `vm` command)
 * calls `flush` to see a last unterminated line. The output carries the icount of its LAST byte: every byte of the batch was produced by
 * then, so an FT primary that holds the output until the log is acknowledged up to that icount
 * never releases text that depended on a nondeterministic event the backup has not yet seen
 * (docs/design.md §4, Output Rule).
 */
import {
  IRQ_UART, UART_BASE, UART_IER, UART_IER_ERBFI, UART_IIR, UART_LCR, UART_LSR, UART_LSR_DR,
  UART_LSR_TEMT, UART_LSR_THRE, UART_MCR, UART_RBR, UART_SCR, UART_SIZE,
} from '../memmap';
import type { MmioDevice } from '../bus';
import { bytesField, countField, DeviceStateError, u32Field, type DeviceHost } from './device';

const NAME = 'uart';
const UART_LCR_DLAB = 0x80;
const UART_IIR_NONE = 0x01;
const UART_IIR_RDA = 0x04;
/** Longest console output; a guest printing without newlines still gets its text out. */
export const CONSOLE_BATCH_BYTES = 256;
/** Receive queue capacity; further bytes are dropped and counted, as a real FIFO overruns. */
export const UART_RX_QUEUE_BYTES = 4096;

export interface UartState {
  ier: number;
  lcr: number;
  mcr: number;
  scr: number;
  dll: number;
  dlm: number;
  rx: Uint8Array;
  rxOverrun: number;
}

export class Uart implements MmioDevice {
  readonly name = NAME;
  readonly base = UART_BASE;
  readonly size = UART_SIZE;
  private s: UartState = { ier: 0, lcr: 0, mcr: 0, scr: 0, dll: 0, dlm: 0, rx: new Uint8Array(0), rxOverrun: 0 };
  private tx = new Uint8Array(CONSOLE_BATCH_BYTES);
  private txLength = 0;
  private txLastIcount = 0;

  constructor(private readonly host: DeviceHost) {}

  load(offset: number, size: 1 | 2 | 4): number | null {
    if (size !== 1) return null;
    const dlab = (this.s.lcr & UART_LCR_DLAB) !== 0;
    switch (offset) {
      case UART_RBR: return dlab ? this.s.dll : this.popRx();
      case UART_IER: return dlab ? this.s.dlm : this.s.ier;
      case UART_IIR: return this.interruptPending() ? UART_IIR_RDA : UART_IIR_NONE;
      case UART_LCR: return this.s.lcr;
      case UART_MCR: return this.s.mcr;
      case UART_LSR: return UART_LSR_THRE | UART_LSR_TEMT | (this.s.rx.length > 0 ? UART_LSR_DR : 0);
      case 6: return 0; // MSR: no modem lines
      case UART_SCR: return this.s.scr;
      default: return null;
    }
  }

  store(offset: number, size: 1 | 2 | 4, value: number): boolean {
    if (size !== 1) return false;
    const v = value & 0xff;
    const dlab = (this.s.lcr & UART_LCR_DLAB) !== 0;
    switch (offset) {
      case 0: if (dlab) this.s.dll = v; else this.transmit(v); return true;
      case UART_IER:
        if (dlab) this.s.dlm = v;
        else { this.s.ier = v & UART_IER_ERBFI; this.updateIrq(); }
        return true;
      case UART_IIR: return true; // FCR
      case UART_LCR: this.s.lcr = v; return true;
      case UART_MCR: this.s.mcr = v; return true;
      case UART_LSR: case 6: return true; // read-only status, writes ignored as on a 16550
      case UART_SCR: this.s.scr = v; return true;
      default: return false;
    }
  }

  /** Host: bytes arrive on the receive line now. */
  deliverUart(bytes: Uint8Array): void {
    const room = UART_RX_QUEUE_BYTES - this.s.rx.length;
    const taken = bytes.subarray(0, Math.max(0, room));
    this.s.rxOverrun += bytes.length - taken.length;
    const rx = new Uint8Array(this.s.rx.length + taken.length);
    rx.set(this.s.rx);
    rx.set(taken, this.s.rx.length);
    this.s.rx = rx;
    this.updateIrq();
  }

  /** Hand pending transmit bytes to the sink: at a newline, a full batch, or a host's final stop. */
  flush(): void {
    if (this.txLength === 0) return;
    const bytes = this.tx.slice(0, this.txLength);
    this.txLength = 0;
    this.host.emit({ kind: 'console', icount: this.txLastIcount, bytes });
  }

  snapshot(): Record<string, unknown> {
    return { ...this.s, rx: this.s.rx.slice(), tx: this.tx.slice(0, this.txLength), txLastIcount: this.txLastIcount };
  }

  restore(state: Record<string, unknown>): void {
    const s = Uart.parse(state);
    const tx = bytesField(NAME, state, 'tx');
    if (tx.length >= CONSOLE_BATCH_BYTES) throw new DeviceStateError(`${NAME} state: tx holds ${tx.length} bytes, at most ${CONSOLE_BATCH_BYTES - 1} wait`);
    const txLastIcount = countField(NAME, state, 'txLastIcount');
    this.s = s;
    this.tx.set(tx);
    this.txLength = tx.length;
    this.txLastIcount = txLastIcount;
    this.updateIrq();
  }

  static parse(state: Record<string, unknown>): UartState {
    const rx = bytesField(NAME, state, 'rx');
    return {
      ier: u32Field(NAME, state, 'ier') & UART_IER_ERBFI,
      lcr: u32Field(NAME, state, 'lcr') & 0xff,
      mcr: u32Field(NAME, state, 'mcr') & 0xff,
      scr: u32Field(NAME, state, 'scr') & 0xff,
      dll: u32Field(NAME, state, 'dll') & 0xff,
      dlm: u32Field(NAME, state, 'dlm') & 0xff,
      rx: rx.slice(0, UART_RX_QUEUE_BYTES),
      rxOverrun: countField(NAME, state, 'rxOverrun'),
    };
  }

  private transmit(byte: number): void {
    this.tx[this.txLength++] = byte;
    this.txLastIcount = this.host.icount();
    if (byte === 0x0a || this.txLength === CONSOLE_BATCH_BYTES) this.flush();
  }

  private popRx(): number {
    if (this.s.rx.length === 0) return 0;
    const byte = this.s.rx[0];
    this.s.rx = this.s.rx.slice(1);
    this.updateIrq();
    return byte;
  }

  private interruptPending(): boolean {
    return (this.s.ier & UART_IER_ERBFI) !== 0 && this.s.rx.length > 0;
  }

  private updateIrq(): void {
    this.host.setIrq(IRQ_UART, this.interruptPending());
  }
}
