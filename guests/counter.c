/* counter: the lecture's increment server (docs/design.md §3).
 *
 * OP_COUNTER_INC adds one and replies with the new value; OP_COUNTER_GET replies with the value.
 * Disk block 0 holds the value and the per-client dedup table, written through (and the write's
 * completion awaited) before the reply goes out, so a server booted on the same disk continues
 * from it, retries included. A fresh, all-zero disk means value 0 and no clients.
 *
 * Disk errors: if block 0 cannot be read, the server has no state to serve from; it says so on
 * the console and answers STATUS_DISK_ERROR, trying the read again on each request. If the write
 * after a request fails, the block goes back to its last durable contents (the increment and the
 * dedup record undone), the console says so, and the client gets STATUS_DISK_ERROR. */
#include "lib/lib.h"

#define DEDUP_SLOTS 31

struct counter_block {
  uint32_t value;
  uint32_t reserved[3];
  struct dedup_entry table[DEDUP_SLOTS];
};
_Static_assert(sizeof(struct counter_block) <= DISK_BLOCK_BYTES, "state must fit block 0");

union counter_image {
  struct counter_block s;
  uint8_t bytes[DISK_BLOCK_BYTES];
};

static union counter_image block __attribute__((aligned(16)));
static union counter_image durable;   /* block 0 as the disk last confirmed it */
static int loaded;

static void handle(const struct msg *req, struct msg *reply) {
  if (req->op == OP_COUNTER_INC) reply->value = ++block.s.value;
  else if (req->op == OP_COUNTER_GET) reply->value = block.s.value;
  else reply->status = STATUS_BAD_REQUEST;
}

static int persist(void) {
  if (disk_write(0, block.bytes, 1) == 0) {
    durable = block;
    return 0;
  }
  block = durable;
  printf("counter: disk write failed, request not applied (value stays %u)\n", block.s.value);
  return -1;
}

static int load(void) {
  if (disk_read(0, block.bytes, 1) != 0) {
    printf("counter: disk read failed, answering disk-error until it works\n");
    return -1;
  }
  durable = block;
  loaded = 1;
  printf("counter: value %u from disk\n", block.s.value);
  return 0;
}

static int ready(void) {
  return loaded ? 0 : load();
}

static const struct server_ops ops = { ready, handle, persist };

int main(void) {
  disk_init();
  nic_init();
  load();
  server_run(block.s.table, DEDUP_SLOTS, &ops);
}
