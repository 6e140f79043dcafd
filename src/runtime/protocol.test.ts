/** Every message that crosses a thread is validated: a malformed one is refused with a clear error. */
import { describe, expect, it } from 'vitest';
import { ProtocolError, SPARES_MAX, takeSpares, validateFromWorker, validatePacket, validateRuntimeCommand, validateToWorker } from './protocol';

describe('runtime protocol', () => {
  it('takes spent batch buffers off a packet, and refuses spares that are not ArrayBuffers', () => {
    const packet = () => ({ wire: 3, dir: 1, seq: 1, from: 'B', to: 'A', channel: 'log', sentUs: 0, deliverUs: 50, msg: { type: 'ack' } });
    const bufs = [new ArrayBuffer(44), new ArrayBuffer(72)];
    const p: Record<string, unknown> = { ...packet(), spares: bufs };
    expect(takeSpares(p, 3)).toEqual(bufs);
    expect('spares' in p).toBe(false);
    expect(validatePacket(p, 3).seq).toBe(1);
    expect(takeSpares(packet(), 3)).toEqual([]);
    expect(() => takeSpares({ ...packet(), spares: [new Uint8Array(4)] }, 3)).toThrow(/spares that are not/);
    expect(() => takeSpares({ ...packet(), spares: 'many' }, 3)).toThrow(ProtocolError);
    expect(() => takeSpares({ ...packet(), spares: new Array(SPARES_MAX + 1).fill(new ArrayBuffer(4)) }, 3)).toThrow(/up to 256/);
  });

  it('takes well-formed control messages', () => {
    expect(validateToWorker({ t: 'window', id: 1, endUs: 500, expect: { 0: 3 }, returnUs: { B: 50 } }).t).toBe('window');
    expect(validateToWorker({ t: 'set-cut', id: 2, wire: 4, cut: true, key: [100, 0, 1] }).t).toBe('set-cut');
    expect(validateToWorker({ t: 'free-run', originMs: 12.5 }).t).toBe('free-run');
    expect(validateToWorker({ t: 'history', id: 3, from: [0, 12] }).t).toBe('history');
    expect(() => validateToWorker({ t: 'history', id: 3, from: [0.5] })).toThrow(/history from must be a list of row counts/);
    const ch = new MessageChannel();
    expect(validateToWorker({ t: 'add-end', end: { wire: 0 }, port: ch.port1 }).t).toBe('add-end');
    ch.port1.close();
    ch.port2.close();
  });

  it('refuses unknown, shapeless or half-filled control messages, naming what is wrong', () => {
    expect(() => validateToWorker(null)).toThrow(ProtocolError);
    expect(() => validateToWorker({ t: 'reboot' })).toThrow(/unknown control message type "reboot"/);
    expect(() => validateToWorker({ t: 'window', id: 1, endUs: 'soon', expect: {}, returnUs: {} })).toThrow(/endUs must be a finite number/);
    expect(() => validateToWorker({ t: 'window', id: 1, endUs: 500, expect: {}, returnUs: { B: 'far' } })).toThrow(/returnUs: delays by node/);
    expect(() => validateToWorker({ t: 'window', id: 1, endUs: 500, expect: {} })).toThrow(/returnUs: delays by node/);
    expect(validateToWorker({ t: 'window', id: 1, endUs: 500, expect: {}, returnUs: { B: 50, world: Infinity } }).t).toBe('window');
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

describe('commands from the page to the world worker', () => {
  it('takes well-formed commands and refuses the rest, naming what is wrong', () => {
    expect(validateRuntimeCommand({ c: 'run', id: 1, untilUs: 5e5 }).c).toBe('run');
    expect(validateRuntimeCommand({ c: 'act', id: 2, action: { kind: 'kill', vm: 'primary' } }).c).toBe('act');
    expect(validateRuntimeCommand({ c: 'start', id: 3, o: { guest: 'counter', seed: 1, elf: new Uint8Array(4) } }).c).toBe('start');
    expect(() => validateRuntimeCommand({ c: 'start', id: 3, o: { guest: 'counter', seed: 1 } })).toThrow(/ELF bytes/);
    expect(() => validateRuntimeCommand({ c: 'act', id: 4, action: { kind: 'explode' } })).toThrow(/act needs an action/);
    expect(() => validateRuntimeCommand({ c: 'play', id: 5, pace: 0 })).toThrow(/pace above 0/);
    expect(() => validateRuntimeCommand({ c: 'query', id: 6, what: 'secrets' })).toThrow(/unknown query/);
    expect(() => validateRuntimeCommand({ c: 'run', untilUs: 1 })).toThrow(/id/);
    expect(() => validateRuntimeCommand({ c: 'teleport', id: 7 })).toThrow(/unknown command "teleport"/);
    expect(validateRuntimeCommand({ c: 'travel', id: 8, toUs: 1.5e6 }).c).toBe('travel');
    expect(() => validateRuntimeCommand({ c: 'travel', id: 9 })).toThrow(/toUs/);
    expect(() => validateRuntimeCommand({ c: 'travel', id: 10, toUs: 'yesterday' })).toThrow(/toUs/);
    expect(validateRuntimeCommand({ c: 'query', id: 11, what: 'checkpoints' }).c).toBe('query');
    expect(validateRuntimeCommand({ c: 'history-since', id: 12, gen: 0, from: [3, 0, 7] }).c).toBe('history-since');
    expect(() => validateRuntimeCommand({ c: 'history-since', id: 13, gen: 0 })).toThrow(/history-since from must be a list of row counts/);
    expect(() => validateRuntimeCommand({ c: 'history-since', id: 14, gen: 0, from: [1, -2] })).toThrow(/row counts/);
    expect(() => validateRuntimeCommand({ c: 'history-since', id: 15, from: [] })).toThrow(/gen/);
  });
});
