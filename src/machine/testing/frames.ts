/**
 * The service frame as the guests see it (guests/lib/proto.h), for guest tests. src/machine may
 * not import src/world (DESIGN.md §2), so this is a third copy of the layout in src/world/wire.ts;
 * the guest tests fail if either drifts from the C side.
 */
export const FRAME_BYTES = 24;
export const SERVICE_ADDR = 1;
export const CLIENT_ADDR_BASE = 100;
export const MSG_REQUEST = 1;
export const MSG_REPLY = 2;
export const OP_COUNTER_INC = 1;
export const OP_COUNTER_GET = 2;
export const OP_KV_GET = 3;
export const OP_KV_PUT = 4;
export const STATUS_OK = 0;
export const STATUS_NOT_FOUND = 1;

export interface Frame {
  dst: number; src: number; type: number; op: number; client: number;
  seq: number; key: number; value: number; status: number;
}

export function encodeFrame(m: Frame): Uint8Array {
  const b = new Uint8Array(FRAME_BYTES);
  const v = new DataView(b.buffer);
  v.setUint16(0, m.dst, true);
  v.setUint16(2, m.src, true);
  v.setUint8(4, m.type);
  v.setUint8(5, m.op);
  v.setUint16(6, m.client, true);
  v.setUint32(8, m.seq >>> 0, true);
  v.setUint32(12, m.key >>> 0, true);
  v.setUint32(16, m.value >>> 0, true);
  v.setUint32(20, m.status >>> 0, true);
  return b;
}

export function decodeFrame(b: Uint8Array): Frame {
  if (b.length !== FRAME_BYTES) throw new Error(`frame is ${b.length} bytes, expected ${FRAME_BYTES}`);
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return {
    dst: v.getUint16(0, true), src: v.getUint16(2, true), type: v.getUint8(4), op: v.getUint8(5),
    client: v.getUint16(6, true), seq: v.getUint32(8, true), key: v.getUint32(12, true),
    value: v.getUint32(16, true), status: v.getUint32(20, true),
  };
}
