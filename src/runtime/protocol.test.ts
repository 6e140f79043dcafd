/** Every message that crosses a thread is validated: a malformed one is refused with a clear error. */
import { describe, expect, it } from 'vitest';
import { ProtocolError, validateFromWorker, validatePacket, validateToWorker } from './protocol';

describe('runtime protocol', () => {
  it('takes well-formed control messages', () => {
    expect(validateToWorker({ t: 'window', id: 1, endUs: 500, expect: { 0: 3 } }).t).toBe('window');
    expect(validateToWorker({ t: 'set-cut', id: 2, wire: 4, cut: true, key: [100, 0, 1] }).t).toBe('set-cut');
    expect(validateToWorker({ t: 'free-run', originMs: 12.5 }).t).toBe('free-run');
    const ch = new MessageChannel();
    expect(validateToWorker({ t: 'add-end', end: { wire: 0 }, port: ch.port1 }).t).toBe('add-end');
    ch.port1.close();
    ch.port2.close();
  });

  it('refuses unknown, shapeless or half-filled control messages, naming what is wrong', () => {
    expect(() => validateToWorker(null)).toThrow(ProtocolError);
    expect(() => validateToWorker({ t: 'reboot' })).toThrow(/unknown control message type "reboot"/);
    expect(() => validateToWorker({ t: 'window', id: 1, endUs: 'soon', expect: {} })).toThrow(/endUs must be a finite number/);
    expect(() => validateToWorker({ t: 'set-cut', id: 1, wire: 0, cut: 'yes', key: [1] })).toThrow(/cut: boolean/);
    expect(() => validateToWorker({ t: 'set-cut', id: 1, wire: 0, cut: true, key: [] })).toThrow(/key must be a non-empty array/);
    expect(() => validateToWorker({ t: 'add-end', end: { wire: 0 }, port: {} })).toThrow(/MessagePort/);
    expect(() => validateToWorker({ t: 'init-host', cfg: {}, spec: {}, elf: [1, 2] })).toThrow(/elf bytes/);
  });

  it('checks what workers answer', () => {
    expect(validateFromWorker({ t: 'done', id: 3, result: null }).t).toBe('done');
    expect(() => validateFromWorker({ t: 'done' })).toThrow(/id/);
    expect(() => validateFromWorker({ t: 'free-report', nowUs: 1 })).toThrow(/trace/);
    expect(() => validateFromWorker('hello')).toThrow(ProtocolError);
  });

  it('refuses a packet that is malformed, on the wrong wire, or arrives before it was sent', () => {
    const p = { wire: 2, dir: 0, seq: 1, from: 'A', to: 'B', channel: 'log', sentUs: 10, deliverUs: 60, msg: {} };
    expect(validatePacket(p, 2).seq).toBe(1);
    expect(() => validatePacket(p, 3)).toThrow(/names wire 2 on wire 3/);
    expect(() => validatePacket({ ...p, channel: 'smoke' }, 2)).toThrow(/unknown channel/);
    expect(() => validatePacket({ ...p, deliverUs: 5 }, 2)).toThrow(/arrives before it was sent/);
    expect(() => validatePacket({ ...p, seq: NaN }, 2)).toThrow(/seq/);
    expect(() => validatePacket(undefined, 2)).toThrow(/not an object/);
  });
});
