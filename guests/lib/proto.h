/* The service protocol: mirrors src/world/wire.ts (fixed 24-byte little-endian frames).
 * Keep the two in step. */
#ifndef PROTO_H
#define PROTO_H
#include <stdint.h>

#define FRAME_BYTES      24
#define SERVICE_ADDR     1
#define CLIENT_ADDR_BASE 100

#define MSG_REQUEST 1
#define MSG_REPLY   2

#define OP_COUNTER_INC 1
#define OP_COUNTER_GET 2
#define OP_KV_GET      3
#define OP_KV_PUT      4

#define STATUS_OK          0
#define STATUS_NOT_FOUND   1
#define STATUS_BAD_REQUEST 2
/* The server's disk failed (read at boot, or the write that would make the request durable):
 * the request was not applied and is not remembered, so a retry with the same seq runs again. */
#define STATUS_DISK_ERROR  3

struct msg {
  uint16_t dst;
  uint16_t src;
  uint8_t type;
  uint8_t op;
  uint16_t client;
  uint32_t seq;
  uint32_t key;
  uint32_t value;
  uint32_t status;
};
_Static_assert(sizeof(struct msg) == FRAME_BYTES, "struct msg must match wire.ts FRAME_BYTES");

#endif
