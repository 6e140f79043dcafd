import { describe, expect, it } from 'vitest';
import {
  diskRequestFromMachine, validateDiskMessage, validateDiskReply, validateDiskRequest, type DiskMessage,
} from './disk-messages';

const valid: DiskMessage[] = [
  { kind: 'disk-read', vm: 'A', id: 1, sector: 0, count: 1 },
  { kind: 'disk-write', vm: 'B', id: 2, sector: 3, count: 1, data: new Uint8Array(512) },
  { kind: 'tas-request', vm: 'C', epoch: 2 },
  { kind: 'disk-read-ok', vm: 'A', id: 1, data: new Uint8Array(512) },
  { kind: 'disk-write-ok', vm: 'A', id: 2 },
  { kind: 'disk-error', vm: 'A', id: 3, error: 'out-of-range', detail: 'blocks 9..9 are outside 0..7' },
  { kind: 'tas-reply', vm: 'B', epoch: 0, won: true, holder: 'B', reason: 'set' },
  { kind: 'tas-reply', vm: 'B', epoch: 1, won: false, holder: null, reason: 'stale-epoch' },
];

describe('validateDiskMessage', () => {
  it('accepts every variant, also after a structured clone (as across a thread)', () => {
    for (const m of valid) {
      expect(validateDiskMessage(m)).toEqual({ ok: true, value: m });
      expect(validateDiskMessage(structuredClone(m)).ok).toBe(true);
    }
  });

  const bad: [unknown, RegExp][] = [
    [null, /is null, expected an object/],
    [42, /number 42, expected an object/],
    [[1, 2], /an array/],
    [{ vm: 'A' }, /kind missing is not one of/],
    [{ kind: 'disk-format', vm: 'A' }, /kind "disk-format" is not one of/],
    [{ kind: 'disk-read', id: 1, sector: 0, count: 1 }, /disk-read: vm is missing/],
    [{ kind: 'disk-read', vm: '', id: 1, sector: 0, count: 1 }, /vm is "", expected a VM name/],
    [{ kind: 'disk-read', vm: 'A', id: 1.5, sector: 0, count: 1 }, /id is number 1.5, expected a non-negative integer/],
    [{ kind: 'disk-read', vm: 'A', id: 1, sector: -3, count: 1 }, /sector is number -3/],
    [{ kind: 'disk-read', vm: 'A', id: 1, sector: 0, count: '1' }, /count is "1"/],
    [{ kind: 'disk-write', vm: 'A', id: 1, sector: 0, count: 1, data: [0, 0] }, /data is an array, expected a Uint8Array/],
    [{ kind: 'disk-write', vm: 'A', id: 1, sector: 0, count: 1 }, /data is missing/],
    [{ kind: 'tas-request', vm: 'A' }, /epoch is missing/],
    [{ kind: 'disk-error', vm: 'A', id: 1, error: 'on-fire', detail: '' }, /error is "on-fire", expected one of/],
    [{ kind: 'tas-reply', vm: 'A', epoch: 0, won: 'yes', holder: null, reason: 'set' }, /won is "yes", expected a boolean/],
    [{ kind: 'tas-reply', vm: 'A', epoch: 0, won: true, holder: 5, reason: 'set' }, /holder is number 5/],
    [{ kind: 'tas-reply', vm: 'A', epoch: 0, won: true, holder: 'A', reason: 'because' }, /reason is "because"/],
  ];
  for (const [x, reason] of bad) {
    it(`rejects ${JSON.stringify(x)} with a clear reason`, () => {
      const v = validateDiskMessage(x);
      expect(v.ok).toBe(false);
      if (!v.ok) expect(v.error).toMatch(reason);
    });
  }

  it('direction validators refuse a message going the wrong way', () => {
    expect(validateDiskRequest(valid[0]).ok).toBe(true);
    expect(validateDiskRequest(valid[3])).toEqual({ ok: false, error: 'disk-read-ok is a reply, expected a request' });
    expect(validateDiskReply(valid[3]).ok).toBe(true);
    expect(validateDiskReply(valid[2])).toEqual({ ok: false, error: 'tas-request is a request, expected a reply' });
    expect(validateDiskReply({ kind: 'nope' }).ok).toBe(false);
  });
});

describe('diskRequestFromMachine', () => {
  it('turns the machine request into the channel message', () => {
    expect(diskRequestFromMachine('A', { id: 4, op: 'read', sector: 2, count: 3 })).toEqual({ kind: 'disk-read', vm: 'A', id: 4, sector: 2, count: 3 });
    const data = new Uint8Array(512);
    expect(diskRequestFromMachine('B', { id: 5, op: 'write', sector: 1, count: 1, data })).toEqual({ kind: 'disk-write', vm: 'B', id: 5, sector: 1, count: 1, data });
    // a write without data becomes a wrong-length write, which the disk server answers with an error
    expect(diskRequestFromMachine('B', { id: 6, op: 'write', sector: 1, count: 1 })).toMatchObject({ data: new Uint8Array(0) });
  });
});
