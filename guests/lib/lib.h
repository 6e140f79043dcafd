/* The guest library: console, traps, timer, RNG, NIC, disk, and the request server loop. */
#ifndef LIB_H
#define LIB_H
#include <stdint.h>
#include <stddef.h>
#include "hw.h"
#include "proto.h"

/* exit.c / crt0.S */
void exit(int code) __attribute__((noreturn));

/* string.c: what the compiler may call even in a freestanding build */
void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);

/* uart.c */
void uart_putc(char c);
void uart_puts(const char *s);
void printf(const char *fmt, ...);   /* %d %u %x %s %c, optional zero pad and width: %08x */

/* trap.c: interrupt handlers by mip bit; any exception prints and exits with failure */
typedef void (*irq_handler_t)(void);
void irq_register(int bit, irq_handler_t handler);
/* Sleep until *flag is nonzero, in wfi, without missing a wake-up between test and wfi. */
void wait_flag(volatile int *flag);

/* timer.c */
uint64_t rdtime(void);          /* the time CSR (nondeterministic) */
uint64_t mtime_read(void);      /* CLINT mtime (nondeterministic) */
void timer_set(uint64_t deadline_us);
void timer_off(void);

/* rng */
static inline uint32_t rng_read(void) { return REG32(RNG_BASE, RNG_DATA); }

/* nic.c */
void nic_init(void);
int nic_recv(void *buf, uint32_t cap);   /* length, or -1 when nothing has arrived */
int nic_rx_ready(void);
void nic_send(const void *buf, uint32_t len);

/* disk.c: blocking, interrupt driven; 0 ok, -1 when the device reports ERROR (a rejected
 * request, or the host's disk failed it): the buffer then holds nothing new */
void disk_init(void);
int disk_read(uint32_t sector, void *buf, uint32_t count);
int disk_write(uint32_t sector, const void *buf, uint32_t count);

/* server.c: per-client duplicate detection and the request loop */
struct dedup_entry {
  uint32_t client;   /* client id + 1; 0 = empty */
  uint32_t seq;
  uint32_t value;
  uint32_t status;
};
struct server_ops {
  /* Optional: 0 when the state is loaded from disk (trying again if not), -1 when it cannot be.
   * Until it is, every request is answered STATUS_DISK_ERROR and the dedup table is not touched. */
  int (*ready)(void);
  /* Executes one fresh request (not a retry): fills reply->value and reply->status. A handler
   * whose disk write failed undoes its change and sets STATUS_DISK_ERROR: the reply is then not
   * recorded, so a retry executes again. */
  void (*handle)(const struct msg *req, struct msg *reply);
  /* Optional: makes the state durable after the dedup table has recorded the reply; 0 on success.
   * On failure it must restore the state (dedup table included) to what the disk holds. */
  int (*persist)(void);
};
void server_run(struct dedup_entry *table, uint32_t slots, const struct server_ops *ops) __attribute__((noreturn));

#endif
