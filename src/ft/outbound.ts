/**
 * Which effects are messages, and on which channel (STYLE.md 12: one vocabulary — an effect is an
 * event, and some events are also sends). The simulator and the vm worker both route with this.
 */
import type { FtEffect } from './effects';
import type { ChannelMsg, HostDiskRequest } from './channels';

/** The message an effect puts on a channel, if it is one (the rest are events only). */
export function outbound(vm: string, e: FtEffect): ChannelMsg | null {
  switch (e.ev) {
    case 'log-sent':
      return { channel: 'log', msg: { type: 'log', bytes: e.bytes } };
    case 'ack-sent':
      return { channel: 'log', msg: e.ack };
    case 'resend-requested':
      return { channel: 'log', msg: { type: 'resend', fromSeq: e.fromSeq } };
    case 'heartbeat-sent':
      return { channel: 'log', msg: e.hb };
    case 'snapshot-sent':
      return { channel: 'log', msg: { type: 'snapshot', machine: e.snapshot, epoch: e.epoch } };
    case 'went-live':
    case 'announce':
      return { channel: 'net', msg: { type: 'announce' } };
    case 'tas-requested':
      return { channel: 'disk', msg: { kind: 'tas-request', vm, epoch: e.epoch } };
    case 'output-released':
      if (e.out.kind === 'net-tx') return { channel: 'net', msg: e.out.bytes };
      if (e.out.kind === 'disk') return { channel: 'disk', msg: diskRequestOf(vm, e.out.req) };
      return null;
    default:
      return null;
  }
}

function diskRequestOf(vm: string, req: { id: number; op: 'read' | 'write'; sector: number; count: number; data?: Uint8Array }): HostDiskRequest {
  if (req.op === 'read') return { kind: 'disk-read', vm, id: req.id, sector: req.sector, count: req.count };
  return { kind: 'disk-write', vm, id: req.id, sector: req.sector, count: req.count, data: req.data ?? new Uint8Array(0) };
}
