/* Disk driver: one request at a time, completion by interrupt, the caller sleeping in wfi. */
#include "lib.h"

static volatile int disk_done;
static volatile uint32_t disk_status;

static void disk_irq(void) {
  uint32_t st = REG32(DISK_BASE, DISK_STATUS);
  REG32(DISK_BASE, DISK_STATUS) = DISK_STATUS_DONE | DISK_STATUS_ERROR;   /* lower the line */
  disk_status = st;
  disk_done = 1;
}

void disk_init(void) {
  irq_register(IRQ_DISK, disk_irq);
  REG32(DISK_BASE, DISK_IER) = 1;
  irq_on();
}

static int disk_io(uint32_t cmd, uint32_t sector, const void *buf, uint32_t count) {
  disk_done = 0;
  REG32(DISK_BASE, DISK_SECTOR) = sector;
  REG32(DISK_BASE, DISK_DMA_ADDR) = (uint32_t)(uintptr_t)buf;
  REG32(DISK_BASE, DISK_COUNT) = count;
  barrier();
  REG32(DISK_BASE, DISK_CMD) = cmd;
  wait_flag(&disk_done);
  barrier();
  return (disk_status & DISK_STATUS_ERROR) ? -1 : 0;
}

int disk_read(uint32_t sector, void *buf, uint32_t count) {
  return disk_io(DISK_CMD_READ, sector, buf, count);
}

int disk_write(uint32_t sector, const void *buf, uint32_t count) {
  return disk_io(DISK_CMD_WRITE, sector, buf, count);
}
