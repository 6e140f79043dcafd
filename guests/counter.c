/* counter: the lecture's increment server (DESIGN.md §3).
 *
 * OP_COUNTER_INC adds one and replies with the new value; OP_COUNTER_GET replies with the value.
 * Disk block 0 holds the value and the per-client dedup table, written through (and the write's
 * completion awaited) before the reply goes out, so a server booted on the same disk continues
 * from it, retries included. A fresh, all-zero disk means value 0 and no clients. */
#include "lib/lib.h"

#define DEDUP_SLOTS 31

struct counter_block {
  uint32_t value;
  uint32_t reserved[3];
  struct dedup_entry table[DEDUP_SLOTS];
};
_Static_assert(sizeof(struct counter_block) <= DISK_BLOCK_BYTES, "state must fit block 0");

static union {
  struct counter_block s;
  uint8_t bytes[DISK_BLOCK_BYTES];
} block __attribute__((aligned(16)));

static void handle(const struct msg *req, struct msg *reply) {
  if (req->op == OP_COUNTER_INC) reply->value = ++block.s.value;
  else if (req->op == OP_COUNTER_GET) reply->value = block.s.value;
  else reply->status = STATUS_BAD_REQUEST;
}

static void persist(void) {
  while (disk_write(0, block.bytes, 1) != 0) {}   /* an error is a lost race with nothing: retry */
}

static const struct server_ops ops = { handle, persist };

int main(void) {
  disk_init();
  nic_init();
  if (disk_read(0, block.bytes, 1) != 0) memset(block.bytes, 0, sizeof block.bytes);
  printf("counter: value %u from disk\n", block.s.value);
  server_run(block.s.table, DEDUP_SLOTS, &ops);
}
