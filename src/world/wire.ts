/**
 * The service protocol: what clients and guest servers put inside a network frame. Fixed 24-byte
 * little-endian messages so a small C guest can parse them without a library. `guests/lib/proto.h`
 * mirrors this file; keep the two in step.
 *
 *   off size field
 *    0   2   dst     node address the frame goes to
 *    2   2   src     node address it came from
 *    4   1   type    MSG_REQUEST | MSG_REPLY
 *    5   1   op      OP_*
 *    6   2   client  client id (the one who invoked the operation)
 *    8   4   seq     client's sequence number; a retry repeats it
 *   12   4   key     kv key (unused by the counter)
 *   16   4   value   request: argument (kv put); reply: result
 *   20   4   status  reply: STATUS_*
 */

export const FRAME_BYTES = 24;
/** The service address: the network routes it to whichever VM serves now. */
export const SERVICE_ADDR = 1;
/** Client i has address CLIENT_ADDR_BASE + i. */
export const CLIENT_ADDR_BASE = 100;

export const MSG_REQUEST = 1;
export const MSG_REPLY = 2;

export const OP_COUNTER_INC = 1;
export const OP_COUNTER_GET = 2;
export const OP_KV_GET = 3;
export const OP_KV_PUT = 4;

export const STATUS_OK = 0;
export const STATUS_NOT_FOUND = 1;
export const STATUS_BAD_REQUEST = 2;
/** The server's disk failed: the request was not applied, and a retry with the same seq runs again. */
export const STATUS_DISK_ERROR = 3;

export interface ServiceMessage {
  dst: number;
  src: number;
  type: typeof MSG_REQUEST | typeof MSG_REPLY;
  op: number;
  client: number;
  seq: number;
  key: number;
  value: number;
  status: number;
}

export function encodeMessage(m: ServiceMessage): Uint8Array {
  const bytes = new Uint8Array(FRAME_BYTES);
  const v = new DataView(bytes.buffer);
  v.setUint16(0, m.dst, true);
  v.setUint16(2, m.src, true);
  v.setUint8(4, m.type);
  v.setUint8(5, m.op);
  v.setUint16(6, m.client, true);
  v.setUint32(8, m.seq >>> 0, true);
  v.setUint32(12, m.key >>> 0, true);
  v.setUint32(16, m.value >>> 0, true);
  v.setUint32(20, m.status >>> 0, true);
  return bytes;
}

export class WireError extends Error {
  override name = 'WireError';
}

/** Parses a frame; throws WireError naming what is wrong. */
export function decodeMessage(bytes: Uint8Array): ServiceMessage {
  if (bytes.length !== FRAME_BYTES) {
    throw new WireError(`frame is ${bytes.length} bytes, expected ${FRAME_BYTES}`);
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const type = v.getUint8(4);
  if (type !== MSG_REQUEST && type !== MSG_REPLY) throw new WireError(`unknown message type ${type}`);
  return {
    dst: v.getUint16(0, true),
    src: v.getUint16(2, true),
    type,
    op: v.getUint8(5),
    client: v.getUint16(6, true),
    seq: v.getUint32(8, true),
    key: v.getUint32(12, true),
    value: v.getUint32(16, true),
    status: v.getUint32(20, true),
  };
}
