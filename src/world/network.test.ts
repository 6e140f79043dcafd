import { describe, expect, it } from 'vitest';
import { NIC_MTU_BYTES } from '../machine/memmap';
import { Network } from './network';
import { CLIENT_ADDR_BASE, MSG_REPLY, MSG_REQUEST, SERVICE_ADDR, encodeMessage } from './wire';

const C1 = CLIENT_ADDR_BASE + 1;
const C2 = CLIENT_ADDR_BASE + 2;

function frame(dst: number, src: number, type: 1 | 2 = MSG_REQUEST): Uint8Array {
  return encodeMessage({ dst, src, type, op: 1, client: 1, seq: 1, key: 0, value: 0, status: 0 });
}

function net(): Network {
  const n = new Network();
  n.addVm('A');
  n.addVm('B');
  n.addClient(C1);
  n.addClient(C2);
  n.setServing('A');
  return n;
}

describe('Network', () => {
  it('routes client frames for the service address to whichever VM serves now', () => {
    const n = net();
    expect(n.routeFromClient(C1, frame(SERVICE_ADDR, C1))).toEqual({ kind: 'deliver', to: { kind: 'vm', vm: 'A' } });
    n.setServing('B');
    expect(n.routeFromClient(C1, frame(SERVICE_ADDR, C1))).toEqual({ kind: 'deliver', to: { kind: 'vm', vm: 'B' } });
    n.setServing(null);
    expect(n.routeFromClient(C1, frame(SERVICE_ADDR, C1))).toMatchObject({ kind: 'drop', reason: 'no-server' });
    expect(() => n.setServing('Z')).toThrow(/VM Z is not attached/);
  });

  it('routes VM replies to the client address in dst, from any VM', () => {
    const n = net();
    expect(n.routeFromVm('A', frame(C2, SERVICE_ADDR, MSG_REPLY))).toEqual({ kind: 'deliver', to: { kind: 'client', addr: C2 } });
    expect(n.routeFromVm('B', frame(C1, SERVICE_ADDR, MSG_REPLY))).toEqual({ kind: 'deliver', to: { kind: 'client', addr: C1 } });
  });

  it('drops frames to or from unknown nodes, by reason', () => {
    const n = net();
    expect(n.routeFromVm('A', frame(CLIENT_ADDR_BASE + 50, SERVICE_ADDR))).toMatchObject({ kind: 'drop', reason: 'unknown-destination' });
    expect(n.routeFromVm('A', frame(7, SERVICE_ADDR))).toMatchObject({ kind: 'drop', reason: 'unknown-destination' });
    expect(n.routeFromClient(C1, frame(C2, C1))).toMatchObject({ kind: 'drop', reason: 'unknown-destination' });
    expect(n.routeFromClient(999, frame(SERVICE_ADDR, 999))).toMatchObject({ kind: 'drop', reason: 'unknown-source' });
    expect(n.routeFromVm('Q', frame(C1, SERVICE_ADDR))).toMatchObject({ kind: 'drop', reason: 'unknown-source' });
    expect(n.dropCounts()).toMatchObject({ 'unknown-destination': 3, 'unknown-source': 2 });
  });

  it('drops oversize and runt frames with the reason and size', () => {
    const n = net();
    const big = new Uint8Array(NIC_MTU_BYTES + 1);
    big.set(frame(SERVICE_ADDR, C1));
    expect(n.routeFromClient(C1, big)).toMatchObject({ kind: 'drop', reason: 'oversize', detail: expect.stringMatching(/1515 bytes/) });
    expect(n.routeFromVm('A', big)).toMatchObject({ kind: 'drop', reason: 'oversize' });
    expect(n.routeFromVm('A', new Uint8Array(1))).toMatchObject({ kind: 'drop', reason: 'runt' });
    const atMtu = new Uint8Array(NIC_MTU_BYTES);
    atMtu.set(frame(SERVICE_ADDR, C1));
    expect(n.routeFromClient(C1, atMtu).kind).toBe('deliver');
    expect(n.dropCounts()).toMatchObject({ oversize: 2, runt: 1 });
  });

  it('a VM cut from the clients neither receives requests nor sends replies; other VMs are unaffected', () => {
    const n = net();
    n.partition({ kind: 'vm-clients', vm: 'A' });
    expect(n.routeFromClient(C1, frame(SERVICE_ADDR, C1))).toMatchObject({ kind: 'drop', reason: 'partitioned' });
    expect(n.routeFromVm('A', frame(C1, SERVICE_ADDR))).toMatchObject({ kind: 'drop', reason: 'partitioned' });
    expect(n.routeFromVm('B', frame(C1, SERVICE_ADDR)).kind).toBe('deliver');
    expect(n.routeToDisk('A').kind).toBe('deliver'); // only the client link is cut
    expect(n.vmReachesClients('A')).toBe(false);
    expect(n.dropCounts().partitioned).toBe(2);
    n.heal({ kind: 'vm-clients', vm: 'A' });
    expect(n.routeFromClient(C1, frame(SERVICE_ADDR, C1)).kind).toBe('deliver');
  });

  it('a VM cut from the disk server reaches it no more, until healed', () => {
    const n = net();
    n.partition({ kind: 'vm-disk', vm: 'B' });
    expect(n.routeToDisk('B')).toMatchObject({ kind: 'drop', reason: 'partitioned' });
    expect(n.routeFromDisk('B')).toMatchObject({ kind: 'drop', reason: 'partitioned' });
    expect(n.routeToDisk('A')).toEqual({ kind: 'deliver', to: { kind: 'disk' } });
    expect(n.routeFromVm('B', frame(C1, SERVICE_ADDR)).kind).toBe('deliver');
    n.heal();
    expect(n.routeToDisk('B').kind).toBe('deliver');
  });

  it('records the logging cut so one place holds the whole partition picture; heal() heals everything', () => {
    const n = net();
    n.partition({ kind: 'logging' });
    n.partition({ kind: 'vm-disk', vm: 'A' });
    n.partition({ kind: 'vm-clients', vm: 'B' });
    expect(n.loggingCut).toBe(true);
    expect(n.cuts()).toEqual([{ kind: 'vm-clients', vm: 'B' }, { kind: 'vm-disk', vm: 'A' }, { kind: 'logging' }]);
    n.heal({ kind: 'logging' });
    expect(n.isCut({ kind: 'logging' })).toBe(false);
    expect(n.cuts()).toHaveLength(2);
    n.heal();
    expect(n.cuts()).toEqual([]);
  });

  it('snapshot/restore round trips partitions, serving VM and counters', () => {
    const n = net();
    n.partition({ kind: 'vm-disk', vm: 'A' });
    n.partition({ kind: 'logging' });
    n.routeToDisk('A');
    n.routeFromClient(C1, frame(SERVICE_ADDR, C1));
    const snap = n.snapshot();
    const m = new Network();
    m.restore(JSON.parse(JSON.stringify(snap)));
    expect(m.snapshot()).toEqual(snap);
    expect(m.routeToDisk('A')).toMatchObject({ kind: 'drop', reason: 'partitioned' });
    expect(m.routeFromClient(C2, frame(SERVICE_ADDR, C2))).toEqual({ kind: 'deliver', to: { kind: 'vm', vm: 'A' } });
    n.heal();
    expect(snap.loggingCut).toBe(true);
  });
});
