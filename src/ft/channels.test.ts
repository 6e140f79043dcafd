import { describe, expect, it } from 'vitest';
import { ChannelError, NET_FRAME_BYTES_MAX, validateFrame, validateLoggingMsg } from './channels';

describe('logging-channel messages', () => {
  it('accepts each well-formed message and returns a clean copy', () => {
    const ack = { type: 'ack', ackSeq: 3, appliedSeq: 2, backupIcount: 99, replayIps: 4e6, extra: 'dropped' };
    expect(validateLoggingMsg(ack)).toEqual({ type: 'ack', ackSeq: 3, appliedSeq: 2, backupIcount: 99, replayIps: 4e6 });
    expect(validateLoggingMsg({ type: 'resend', fromSeq: 7 })).toEqual({ type: 'resend', fromSeq: 7 });
    expect(validateLoggingMsg({ type: 'heartbeat', icount: 5, sentUs: 1.5 })).toEqual({ type: 'heartbeat', icount: 5, sentUs: 1.5 });
    const bytes = new ArrayBuffer(8);
    expect(validateLoggingMsg({ type: 'log', bytes }).type).toBe('log');
  });

  it('rejects junk with a message naming the fault', () => {
    const ok = { type: 'ack', ackSeq: 3, appliedSeq: 2, backupIcount: 99, replayIps: 0 };
    expect(() => validateLoggingMsg({ ...ok, ackSeq: -1 })).toThrow(/ackSeq/);
    expect(() => validateLoggingMsg({ ...ok, appliedSeq: 4 })).toThrow(/appliedSeq/);
    expect(() => validateLoggingMsg({ ...ok, replayIps: NaN })).toThrow(/replayIps/);
    expect(() => validateLoggingMsg({ type: 'resend', fromSeq: 0 })).toThrow(/fromSeq/);
    expect(() => validateLoggingMsg({ type: 'log', bytes: new Uint8Array(4) })).toThrow(/ArrayBuffer/);
    expect(() => validateLoggingMsg({ type: 'nope' })).toThrow(ChannelError);
    expect(() => validateLoggingMsg(null)).toThrow(ChannelError);
    expect(() => validateLoggingMsg('ack')).toThrow(ChannelError);
  });
});

describe('frames', () => {
  it('takes bytes up to a jumbo frame and refuses empty, oversize or non-byte frames', () => {
    expect(validateFrame(new Uint8Array(24)).length).toBe(24);
    expect(validateFrame(new Uint8Array(NET_FRAME_BYTES_MAX)).length).toBe(NET_FRAME_BYTES_MAX);
    expect(() => validateFrame(new Uint8Array(NET_FRAME_BYTES_MAX + 1))).toThrow(/oversize/);
    expect(() => validateFrame(new Uint8Array(0))).toThrow(/empty/);
    expect(() => validateFrame([1, 2, 3])).toThrow(ChannelError);
  });
});
