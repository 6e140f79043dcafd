/* The guest machine's memory map and device registers: mirrors src/machine/memmap.ts.
 * Keep the two in step. */
#ifndef HW_H
#define HW_H
#include <stdint.h>

#define RAM_BASE 0x80000000u

#define CLINT_BASE      0x02000000u
#define CLINT_MSIP      0x0000u
#define CLINT_MTIMECMP  0x4000u   /* +0 low, +4 high */
#define CLINT_MTIME     0xbff8u   /* +0 low, +4 high: host time in µs (nondeterministic) */
#define TIMEBASE_HZ     1000000u

#define UART_BASE  0x10000000u
#define UART_RBR   0
#define UART_THR   0
#define UART_IER   1
#define UART_IIR   2
#define UART_LCR   3
#define UART_MCR   4
#define UART_LSR   5
#define UART_SCR   7
#define UART_LSR_DR    0x01
#define UART_LSR_THRE  0x20
#define UART_LSR_TEMT  0x40
#define UART_IER_ERBFI 0x01

#define NIC_BASE        0x10001000u
#define NIC_ID          0x00
#define NIC_CTRL        0x04   /* bit0 RX enable, bit1 TX enable */
#define NIC_ISR         0x08   /* write 1 to clear */
#define NIC_IER         0x0c
#define NIC_RX_BASE     0x10
#define NIC_RX_SIZE     0x14
#define NIC_RX_HEAD     0x18
#define NIC_RX_TAIL     0x1c
#define NIC_TX_BASE     0x20
#define NIC_TX_SIZE     0x24
#define NIC_TX_HEAD     0x28
#define NIC_TX_TAIL     0x2c
#define NIC_RX_DROPPED  0x30
#define NIC_TX_DROPPED  0x34
#define NIC_ISR_RX      0x1
#define NIC_ISR_TX      0x2
#define NIC_CTRL_RX     0x1
#define NIC_CTRL_TX     0x2
#define NIC_DESC_DONE   0x1
#define NIC_MTU_BYTES   1514

struct nic_desc {             /* 16 bytes, in guest memory */
  uint32_t addr;
  uint32_t cap;
  uint32_t len;
  uint32_t flags;
};

#define DISK_BASE      0x10002000u
#define DISK_ID        0x00
#define DISK_BLOCKS    0x04
#define DISK_CMD       0x08
#define DISK_SECTOR    0x0c
#define DISK_DMA_ADDR  0x10
#define DISK_COUNT     0x14
#define DISK_STATUS    0x18
#define DISK_REQ_ID    0x1c
#define DISK_DONE_ID   0x20
#define DISK_IER       0x24
#define DISK_CMD_READ  1
#define DISK_CMD_WRITE 2
#define DISK_STATUS_BUSY  0x1
#define DISK_STATUS_DONE  0x2
#define DISK_STATUS_ERROR 0x4
#define DISK_BLOCK_BYTES  512
#define DISK_COUNT_MAX    8

#define RNG_BASE    0x10003000u
#define RNG_DATA    0x00
#define RNG_STATUS  0x04

/* mip/mie bits (privileged spec 3.1.9; 16 and up are platform interrupts). */
#define IRQ_MSIP  3
#define IRQ_MTIP  7
#define IRQ_UART  16
#define IRQ_NIC   17
#define IRQ_DISK  18

#define MSTATUS_MIE 0x8u

#define REG32(base, off) (*(volatile uint32_t *)((base) + (off)))
#define REG8(base, off)  (*(volatile uint8_t *)((base) + (off)))

#define csr_read(name) ({ uint32_t v_; __asm__ volatile("csrr %0, " #name : "=r"(v_)); v_; })
#define csr_write(name, v) __asm__ volatile("csrw " #name ", %0" :: "r"((uint32_t)(v)))
#define csr_set(name, v) __asm__ volatile("csrs " #name ", %0" :: "r"((uint32_t)(v)))
#define csr_clear(name, v) __asm__ volatile("csrc " #name ", %0" :: "r"((uint32_t)(v)))

static inline void barrier(void) { __asm__ volatile("" ::: "memory"); }
static inline void irq_on(void) { csr_set(mstatus, MSTATUS_MIE); }
static inline void irq_off(void) { csr_clear(mstatus, MSTATUS_MIE); }
static inline void wfi(void) { __asm__ volatile("wfi" ::: "memory"); }

#endif
