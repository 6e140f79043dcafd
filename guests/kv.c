/* kv: a key/value server (docs/design.md §3). OP_KV_PUT stores value under key; OP_KV_GET returns it
 * (STATUS_NOT_FOUND if never put).
 *
 * The data is a hash table of fixed 16-byte slots in disk blocks 1..KV_TABLE_BLOCKS (32 slots per
 * block, linear probing). The whole table is read into memory at boot; a put updates the memory copy
 * and writes its slot's block through, waiting for completion, before replying. The dedup table
 * lives in memory only (a retried put after a full restart re-puts the same value: harmless unless
 * another client wrote the key in between).
 *
 * Disk errors: if the table cannot be read, the server says so on the console and answers
 * STATUS_DISK_ERROR, trying the read again on each request. A put whose block write fails is undone
 * in memory, reported on the console, and answered STATUS_DISK_ERROR. */
#include "lib/lib.h"

#define KV_TABLE_BLOCKS 16
#define KV_FIRST_BLOCK 1
#define SLOTS_PER_BLOCK (DISK_BLOCK_BYTES / sizeof(struct kv_slot))
#define KV_SLOTS (KV_TABLE_BLOCKS * SLOTS_PER_BLOCK)
#define DEDUP_SLOTS 64

struct kv_slot {
  uint32_t used;
  uint32_t key;
  uint32_t value;
  uint32_t reserved;
};

static struct kv_slot table[KV_SLOTS] __attribute__((aligned(16)));
static struct dedup_entry dedup[DEDUP_SLOTS];
static int loaded;

/* The slot holding key, or the empty slot where it would go, or -1 when the table is full. */
static int lookup(uint32_t key) {
  uint32_t at = (key * 2654435761u) % KV_SLOTS;
  for (uint32_t i = 0; i < KV_SLOTS; i++, at = (at + 1) % KV_SLOTS) {
    if (!table[at].used || table[at].key == key) return (int)at;
  }
  return -1;
}

static void put(const struct msg *req, struct msg *reply) {
  int at = lookup(req->key);
  if (at < 0) { reply->status = STATUS_BAD_REQUEST; return; }
  struct kv_slot old = table[at];
  table[at] = (struct kv_slot){ 1, req->key, req->value, 0 };
  uint32_t block = (uint32_t)at / SLOTS_PER_BLOCK;
  if (disk_write(KV_FIRST_BLOCK + block, &table[block * SLOTS_PER_BLOCK], 1) != 0) {
    table[at] = old;   /* the disk did not take it, so the put did not happen */
    printf("kv: disk write of block %u failed, put of key %u not applied\n", KV_FIRST_BLOCK + block, req->key);
    reply->status = STATUS_DISK_ERROR;
    return;
  }
  reply->value = req->value;
}

static void handle(const struct msg *req, struct msg *reply) {
  if (req->op == OP_KV_PUT) { put(req, reply); return; }
  if (req->op != OP_KV_GET) { reply->status = STATUS_BAD_REQUEST; return; }
  int at = lookup(req->key);
  if (at < 0 || !table[at].used) { reply->status = STATUS_NOT_FOUND; return; }
  reply->value = table[at].value;
}

static int load(void) {
  for (uint32_t b = 0; b < KV_TABLE_BLOCKS; b += DISK_COUNT_MAX) {
    if (disk_read(KV_FIRST_BLOCK + b, &table[b * SLOTS_PER_BLOCK], DISK_COUNT_MAX) != 0) {
      printf("kv: disk read of blocks %u-%u failed, answering disk-error until it works\n",
             KV_FIRST_BLOCK + b, KV_FIRST_BLOCK + b + DISK_COUNT_MAX - 1);
      return -1;
    }
  }
  uint32_t keys = 0;
  for (uint32_t i = 0; i < KV_SLOTS; i++) keys += table[i].used ? 1 : 0;
  loaded = 1;
  printf("kv: %u keys from disk\n", keys);
  return 0;
}

static int ready(void) {
  return loaded ? 0 : load();
}

static const struct server_ops ops = { ready, handle, 0 };

int main(void) {
  disk_init();
  nic_init();
  load();
  server_run(dedup, DEDUP_SLOTS, &ops);
}
