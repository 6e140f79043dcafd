/* NIC driver: RX and TX descriptor rings in guest memory (src/machine/devices/nic.ts).
 * RX: the device fills descriptors RX_HEAD..RX_TAIL-1 and sets DONE; we take them in order,
 * clear DONE and hand each back by advancing RX_TAIL. TX: fill the descriptor at our tail and
 * write TX_TAIL; the device sends synchronously at that store. */
#include "lib.h"

#define RX_SLOTS 8
#define TX_SLOTS 4
#define BUF_BYTES 1536

static struct nic_desc rx_ring[RX_SLOTS] __attribute__((aligned(16)));
static struct nic_desc tx_ring[TX_SLOTS] __attribute__((aligned(16)));
static uint8_t rx_bufs[RX_SLOTS][BUF_BYTES] __attribute__((aligned(16)));
static uint8_t tx_bufs[TX_SLOTS][BUF_BYTES] __attribute__((aligned(16)));
static uint32_t rx_next;   /* next descriptor we expect the device to fill */
static uint32_t tx_next;   /* next descriptor we fill */

static void nic_irq(void) {
  REG32(NIC_BASE, NIC_ISR) = NIC_ISR_RX | NIC_ISR_TX;   /* the main loop looks at the ring itself */
}

void nic_init(void) {
  for (uint32_t i = 0; i < RX_SLOTS; i++) {
    rx_ring[i] = (struct nic_desc){ (uint32_t)(uintptr_t)rx_bufs[i], BUF_BYTES, 0, 0 };
  }
  REG32(NIC_BASE, NIC_RX_BASE) = (uint32_t)(uintptr_t)rx_ring;
  REG32(NIC_BASE, NIC_RX_SIZE) = RX_SLOTS;
  REG32(NIC_BASE, NIC_RX_TAIL) = RX_SLOTS - 1;   /* all but one: head == tail means full */
  REG32(NIC_BASE, NIC_TX_BASE) = (uint32_t)(uintptr_t)tx_ring;
  REG32(NIC_BASE, NIC_TX_SIZE) = TX_SLOTS;
  irq_register(IRQ_NIC, nic_irq);
  REG32(NIC_BASE, NIC_IER) = NIC_ISR_RX;
  REG32(NIC_BASE, NIC_CTRL) = NIC_CTRL_RX | NIC_CTRL_TX;
}

int nic_rx_ready(void) {
  barrier();
  return (rx_ring[rx_next].flags & NIC_DESC_DONE) != 0;
}

int nic_recv(void *buf, uint32_t cap) {
  if (!nic_rx_ready()) return -1;
  struct nic_desc *d = &rx_ring[rx_next];
  uint32_t len = d->len < cap ? d->len : cap;
  memcpy(buf, rx_bufs[rx_next], len);
  d->len = 0;
  d->flags = 0;
  barrier();
  REG32(NIC_BASE, NIC_RX_TAIL) = rx_next;   /* the slot before rx_next+1 is free again */
  rx_next = (rx_next + 1) % RX_SLOTS;
  return (int)len;
}

void nic_send(const void *buf, uint32_t len) {
  if (len > BUF_BYTES) len = BUF_BYTES;
  memcpy(tx_bufs[tx_next], buf, len);
  tx_ring[tx_next] = (struct nic_desc){ (uint32_t)(uintptr_t)tx_bufs[tx_next], BUF_BYTES, len, 0 };
  tx_next = (tx_next + 1) % TX_SLOTS;
  barrier();
  REG32(NIC_BASE, NIC_TX_TAIL) = tx_next;   /* doorbell */
}
