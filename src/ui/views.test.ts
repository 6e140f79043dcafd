import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { blankHostView, type HostView } from '../ft/host-types';
import { cardViews, CodeReader, lagInstructionsOf, syncOf } from './views';
import { parseElf } from '../machine/elf';

const view = (o: Partial<HostView> & Pick<HostView, 'name' | 'role'>): HostView => ({
  ...blankHostView({ name: o.name, role: o.role, state: 'running', peer: o.peer ?? null, backupReady: true }), ...o,
});

describe('card views', () => {
  it('a pair: the lag in instructions on both cards, in sync once a hash matched', () => {
    const a = view({ name: 'A', role: 'primary', peer: 'B', icount: 1_000, lagUs: 250 });
    const b = view({ name: 'B', role: 'backup', peer: 'A', icount: 900, hashesChecked: 0 });
    expect(lagInstructionsOf(a, [a, b])).toBe(100);
    expect(lagInstructionsOf(b, [a, b])).toBe(100);
    expect(syncOf(b, [a, b])).toBe('syncing');
    const b2 = { ...b, hashesChecked: 3 };
    expect(syncOf(a, [a, b2])).toBe('in-sync');
    const [, bv] = cardViews([a, b2], new CodeReader(null));
    expect(bv.lagUs).toBe(250);
  });

  it('a divergence shows on both cards; a VM alone or stopped says so', () => {
    const a = view({ name: 'A', role: 'primary', peer: 'B' });
    const b = view({ name: 'B', role: 'backup', peer: 'A', hashesChecked: 5, divergence: { icount: 77, reason: 'hash differs' } });
    expect(syncOf(a, [a, b])).toBe('diverged');
    expect(syncOf(b, [a, b])).toBe('diverged');
    expect(syncOf(view({ name: 'B', role: 'live', peer: 'A' }), [])).toBe('alone');
    expect(syncOf(view({ name: 'A', role: 'crashed' }), [])).toBe('stopped');
  });

  it('disassembles the instruction at the pc from the guest ELF, and nothing outside it', () => {
    const elf = new Uint8Array(readFileSync('public/guests/counter.elf'));
    const code = new CodeReader(elf);
    const entry = parseElf(elf).entry;
    expect(code.at(entry)).toMatch(/^[a-z]/);
    expect(code.at(0x10)).toBe('');
    expect(new CodeReader(new Uint8Array([1, 2, 3])).at(entry)).toBe('');
  });
});
