/* The request loop shared by the counter and kv servers.
 *
 * Clients retry a request with the same seq until answered (docs/design.md §5), and after a failover the
 * new primary may see a request it already executed. So each client's last seq and reply are
 * kept: a request with that seq is answered from the table without executing again, an older seq
 * is stale and ignored, a newer one is executed. Seqs start at 1, so seq 0 means "none yet". The table is open-addressed by client id. */
#include "lib.h"

static struct dedup_entry *find(struct dedup_entry *table, uint32_t slots, uint32_t client) {
  uint32_t key = client + 1;
  for (uint32_t i = 0, at = (client * 2654435761u) % slots; i < slots; i++, at = (at + 1) % slots) {
    if (table[at].client == key) return &table[at];
    if (table[at].client == 0) {
      table[at] = (struct dedup_entry){ key, 0, 0, 0 };
      return &table[at];
    }
  }
  return &table[client % slots];   /* full: evict, the oldest client loses its dedup entry */
}

static void reply_to(const struct msg *req, uint32_t value, uint32_t status) {
  struct msg r = *req;
  r.dst = req->src;
  r.src = SERVICE_ADDR;
  r.type = MSG_REPLY;
  r.value = value;
  r.status = status;
  nic_send(&r, sizeof r);
}

static void serve_one(struct dedup_entry *table, uint32_t slots, const struct server_ops *ops, const struct msg *req) {
  if (ops->ready && ops->ready() != 0) { reply_to(req, 0, STATUS_DISK_ERROR); return; }
  struct dedup_entry *e = find(table, slots, req->client);
  if (e->seq != 0 && req->seq == e->seq) { reply_to(req, e->value, e->status); return; }
  if (e->seq != 0 && req->seq < e->seq) return;   /* stale retry of something already superseded */
  struct msg reply = *req;
  reply.value = 0;
  reply.status = STATUS_OK;
  ops->handle(req, &reply);
  if (reply.status == STATUS_DISK_ERROR) { reply_to(req, 0, STATUS_DISK_ERROR); return; }   /* not applied */
  e->seq = req->seq;
  e->value = reply.value;
  e->status = reply.status;
  /* Durable before anyone hears about it; a failed persist has rolled e back with the rest. */
  if (ops->persist && ops->persist() != 0) { reply_to(req, 0, STATUS_DISK_ERROR); return; }
  reply_to(req, reply.value, reply.status);
}

void server_run(struct dedup_entry *table, uint32_t slots, const struct server_ops *ops) {
  static struct msg req;
  for (;;) {
    int n = nic_recv(&req, sizeof req);
    if (n < 0) {
      irq_off();
      if (!nic_rx_ready()) wfi();   /* idle until a packet (or anything else) arrives */
      irq_on();
      continue;
    }
    if (n != FRAME_BYTES || req.type != MSG_REQUEST || req.dst != SERVICE_ADDR) continue;
    serve_one(table, slots, ops, &req);
  }
}
