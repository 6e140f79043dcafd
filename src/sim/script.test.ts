import { describe, expect, it } from 'vitest';
import { describeAction, parseScript, parseTimeUs, ScriptError } from './script';

describe('fault scripts', () => {
  it('parses every action, sorted by time, keeping the order of equal times', () => {
    const steps = parseScript('heal at 2s; kill primary at 1s; cut B disk at 1s; vmotion at 1.5s; kill C at 1.8s; cut A clients at 3s; partition logging at 250ms');
    expect(steps.map((s) => [s.atUs, s.action])).toEqual([
      [250_000, { kind: 'partition', what: 'logging' }],
      [1_000_000, { kind: 'kill', vm: 'primary' }],
      [1_000_000, { kind: 'cut', vm: 'B', from: 'disk' }],
      [1_500_000, { kind: 'vmotion' }],
      [1_800_000, { kind: 'kill', vm: 'C' }],
      [2_000_000, { kind: 'heal' }],
      [3_000_000, { kind: 'cut', vm: 'A', from: 'clients' }],
    ]);
  });

  it('rejects unknown actions, bad times and VMs that do not exist yet', () => {
    expect(() => parseScript('explode at 1s')).toThrow(/unknown action "explode"/);
    expect(() => parseScript('kill primary at soon')).toThrow(ScriptError);
    expect(() => parseScript('kill primary')).toThrow(/ACTION at TIME/);
    expect(() => parseScript('kill C at 1s')).toThrow(/no VM C/);
    expect(() => parseScript('vmotion at 2s; kill C at 1s')).toThrow(/no VM C/);
    expect(parseTimeUs('1.02s')).toBe(1_020_000);
  });

  it('the load switch is an action, written back as it is read', () => {
    const steps = parseScript('load off at 1s; load on at 2s');
    expect(steps.map((s) => s.action)).toEqual([{ kind: 'load', on: false }, { kind: 'load', on: true }]);
    expect(steps.map((s) => describeAction(s.action))).toEqual(['load off', 'load on']);
    expect(() => parseScript('load maybe at 1s')).toThrow(/unknown action "load maybe"/);
  });

  it('a bit flip names a VM and a hex address, and is written back as it is read', () => {
    const [step] = parseScript('flip primary 0x80F00000 at 1s');
    expect(step.action).toEqual({ kind: 'flip', vm: 'primary', addr: 0x80f00000 });
    expect(describeAction(step.action)).toBe('flip primary 0x80f00000');
    expect(() => parseScript('flip C 0x80000000 at 1s')).toThrow(/no VM C/);
    expect(() => parseScript('flip A 12 at 1s')).toThrow(/unknown action/);
  });
});
