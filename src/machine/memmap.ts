/**
 * The guest computer's physical memory map and device register layout (docs/design.md §3).
 * Addresses follow QEMU's `virt` board where it has the device. `guests/lib/hw.h` mirrors this
 * file for the C guests; keep the two in step.
 */

export const RAM_BASE = 0x8000_0000;
export const RAM_SIZE_DEFAULT = 16 * 1024 * 1024;

/** Core-local interruptor: the timer. 64-bit registers are two 32-bit words, low word first. */
export const CLINT_BASE = 0x0200_0000;
export const CLINT_SIZE = 0x1_0000;
export const CLINT_MSIP = 0x0000;
export const CLINT_MTIMECMP = 0x4000; // +0 low, +4 high
export const CLINT_MTIME = 0xbff8; // +0 low, +4 high; a read is nondeterministic (host time)
/** mtime counts microseconds of host time. */
export const TIMEBASE_HZ = 1_000_000;

/** 16550 UART subset; byte-wide registers at byte offsets. */
export const UART_BASE = 0x1000_0000;
export const UART_SIZE = 0x100;
export const UART_RBR = 0; // read: receive buffer
export const UART_THR = 0; // write: transmit holding
export const UART_IER = 1; // bit0: receive-data-available interrupt enable
export const UART_IIR = 2; // read: interrupt identification; write: FCR (ignored)
export const UART_LCR = 3;
export const UART_MCR = 4;
export const UART_LSR = 5;
export const UART_SCR = 7;
export const UART_LSR_DR = 0x01; // data ready
export const UART_LSR_THRE = 0x20; // transmit holding register empty (always: output is immediate)
export const UART_LSR_TEMT = 0x40; // transmitter empty (always)
export const UART_IER_ERBFI = 0x01;

/** NIC with descriptor rings in guest memory; 32-bit registers. See src/machine/devices/nic.ts. */
export const NIC_BASE = 0x1000_1000;
export const NIC_SIZE = 0x100;
export const NIC_ID = 0x00; // RO 0x4e494331 'NIC1'
export const NIC_CTRL = 0x04; // bit0 RX enable, bit1 TX enable
export const NIC_ISR = 0x08; // bit0 RX done, bit1 TX done; write 1 to clear
export const NIC_IER = 0x0c; // same bits: interrupt enable
export const NIC_RX_BASE = 0x10; // guest address of the RX descriptor ring
export const NIC_RX_SIZE = 0x14; // descriptors in the RX ring (power of two, ≤ 256)
export const NIC_RX_HEAD = 0x18; // RO: next descriptor the device will fill
export const NIC_RX_TAIL = 0x1c; // guest: one past the last descriptor the device may fill
export const NIC_TX_BASE = 0x20;
export const NIC_TX_SIZE = 0x24;
export const NIC_TX_HEAD = 0x28; // RO: next descriptor the device will send
export const NIC_TX_TAIL = 0x2c; // guest write = doorbell: send descriptors head..tail-1 now
export const NIC_RX_DROPPED = 0x30; // RO: packets dropped (no free descriptor, or too big)
export const NIC_TX_DROPPED = 0x34; // RO: transmit descriptors not sent (bad length or address)
export const NIC_ISR_RX = 0x1;
export const NIC_ISR_TX = 0x2;
/** Descriptor: 16 bytes {addr u32, cap u32, len u32, flags u32}; flags bit0 = DONE (set by device). */
export const NIC_DESC_BYTES = 16;
export const NIC_DESC_DONE = 0x1;
export const NIC_MTU_BYTES = 1514;

/** Block disk: 512-byte blocks, one request in flight, DMA and a completion interrupt. */
export const DISK_BASE = 0x1000_2000;
export const DISK_SIZE = 0x100;
export const DISK_ID = 0x00; // RO 0x4449534b 'DISK'
export const DISK_BLOCKS = 0x04; // RO: number of blocks
export const DISK_CMD = 0x08; // write 1 = READ, 2 = WRITE: starts a request from the registers below
export const DISK_SECTOR = 0x0c;
export const DISK_DMA_ADDR = 0x10;
export const DISK_COUNT = 0x14; // blocks, 1..8
export const DISK_STATUS = 0x18; // bit0 BUSY, bit1 DONE, bit2 ERROR; write 1 to DONE/ERROR to clear
export const DISK_REQ_ID = 0x1c; // RO: id of the last request started
export const DISK_DONE_ID = 0x20; // RO: id of the last request completed
export const DISK_IER = 0x24; // bit0: completion interrupt enable
export const DISK_CMD_READ = 1;
export const DISK_CMD_WRITE = 2;
export const DISK_STATUS_BUSY = 0x1;
export const DISK_STATUS_DONE = 0x2;
export const DISK_STATUS_ERROR = 0x4;
export const DISK_BLOCK_BYTES = 512;
export const DISK_COUNT_MAX = 8;

/** Hardware RNG: every read of DATA is a nondeterministic 32-bit value. */
export const RNG_BASE = 0x1000_3000;
export const RNG_SIZE = 0x100;
export const RNG_DATA = 0x00;
export const RNG_STATUS = 0x04; // RO: bit0 ready (always 1)

/**
 * Interrupts. MTIP/MSIP are the standard machine timer/software bits. Device interrupts use the
 * platform-defined local interrupt bits (privileged spec §3.1.9: mip/mie bits 16 and up are for
 * platform use), so no PLIC is needed: mcause = 0x8000_0000 | bit.
 */
export const IRQ_MSIP = 3;
export const IRQ_MTIP = 7;
export const IRQ_UART = 16;
export const IRQ_NIC = 17;
export const IRQ_DISK = 18;
