/**
 * Measurements that only a worker can make, for `npm run bench:browser` (docs/design.md §1.5):
 * the guest machine alone in a worker, a bare MessageChannel round trip between two workers, and
 * log entries through a MessageChannel (encoded, posted, decoded). The FT figures proper come from
 * runs of the real runtime; these are the baselines they are held against.
 */
import { Machine } from '../machine/machine';
import { BatchBuffers, decodeBatch, encodeBatch, type LogEntry } from '../ft/log';

export type Probe =
  /** `translate`: block translation on or off (default: the machine's default, on). */
  | { probe: 'machine'; elf: Uint8Array; instructions: number; slice: number; translate?: boolean }
  /** `gapMs`: the pinger waits this long between pings, so both workers fall asleep in between. */
  | { probe: 'rtt'; role: 'ping' | 'echo'; port: MessagePort; rounds: number; gapMs?: number }
  /** `passes` passes of `batches` batches of `perBatch` entries, each pass timed end to end. */
  | { probe: 'entries'; role: 'send' | 'receive'; port: MessagePort; batches: number; perBatch: number; passes: number }
  /** FT VMotion's pause: what the primary does before it runs on — take the snapshot and post it. */
  | { probe: 'snapshot'; role: 'send'; elf: Uint8Array; port: MessagePort; instructions: number }
  | { probe: 'snapshot'; role: 'receive'; port: MessagePort };

/** Runs a probe; resolves with its figures (the echo and receive sides resolve when done too). */
export function runProbe(p: Probe): Promise<Record<string, number>> {
  switch (p.probe) {
    case 'machine': {
      const m = Machine.fromElf(p.elf, p.translate === undefined ? {} : { translate: p.translate === true });
      m.setNondetSource({ read: () => 0 });
      const t0 = performance.now();
      let tohost = 0;
      while (m.icount < p.instructions) {
        const r = m.run(Math.min(p.slice, p.instructions - m.icount));
        if (r.reason === 'fault') throw new Error(`the guest faulted at ${m.icount}`);
        if (r.reason === 'exit') {
          tohost = r.tohost ?? 0;
          break;
        }
      }
      const ms = performance.now() - t0;
      return Promise.resolve({ retired: m.icount, ms, mips: m.icount / ms / 1000, tohost });
    }
    case 'rtt':
      return new Promise((resolve) => {
        let n = 0;
        let sent = 0;
        let total = 0;
        const ping = (): void => {
          sent = performance.now();
          p.port.postMessage(null);
        };
        p.port.onmessage = () => {
          if (p.role === 'echo') {
            p.port.postMessage(null);
            if (++n >= p.rounds) resolve({ rounds: n });
            return;
          }
          total += performance.now() - sent;
          if (++n >= p.rounds) return resolve({ rttUs: (total * 1000) / p.rounds });
          if (p.gapMs) setTimeout(ping, p.gapMs);
          else ping();
        };
        if (p.role === 'ping') ping();
      });
    case 'snapshot':
      return new Promise((resolve) => {
        if (p.role === 'receive') {
          p.port.onmessage = (ev: MessageEvent) => resolve({ ramBytes: (ev.data as { machine: { ram: ArrayBuffer | Uint8Array } }).machine.ram.byteLength });
          return;
        }
        const m = Machine.fromElf(p.elf);
        m.setNondetSource({ read: () => 0 });
        // As VmHost does it: RAM pre-copied 1 MiB at a time while the guest runs on (the hash
        // clearing dirty marks in between), then the pause — the snapshot taken and posted.
        const chunks = Math.ceil(m.ramPages / 256);
        for (let i = 0; i < chunks; i++) {
          m.precopySnapshot(i * 256, 256);
          m.run(Math.ceil(p.instructions / chunks));
          m.stateHash();
        }
        const t0 = performance.now();
        const snap = m.snapshot({ precopied: true });
        const ramBytes = snap.ram.byteLength;
        p.port.postMessage({ type: 'snapshot', machine: snap, epoch: 1 }, [snap.ram, snap.cpu]); // as node-server.ts sends it
        resolve({ pauseMs: performance.now() - t0, ramBytes });
      });
    case 'entries':
      return new Promise((resolve) => {
        // `passes` passes of `batches` batches over the one channel, each timed end to end: from
        // the sender's start to the receiver's last decode (performance.timeOrigin + now is one
        // wall clock across workers). The receiver answers each pass's end on the same port, and
        // the sender starts the next pass only then, so passes never overlap.
        // As the vm workers do it (node-server.ts): each batch's buffer is handed over, and comes
        // back once decoded — there with the backup's ack of it, here on its own (the same post).
        if (p.role === 'receive') {
          let batches = 0;
          let entries = 0;
          let pass = 0;
          p.port.onmessage = (ev: MessageEvent) => {
            const buf = ev.data as ArrayBuffer;
            entries += decodeBatch(buf).length;
            p.port.postMessage({ spares: [buf] }, [buf]);
            if (++batches < p.batches) return;
            p.port.postMessage({ entries, endMs: performance.timeOrigin + performance.now() });
            batches = 0;
            entries = 0;
            if (++pass >= p.passes) resolve({ passes: pass });
          };
          return;
        }
        const rates: number[] = [];
        const pool = new BatchBuffers();
        let seq = 1;
        let startMs = 0;
        const send = (): void => {
          startMs = performance.timeOrigin + performance.now();
          for (let b = 0; b < p.batches; b++) {
            // As the primary does it: the entries made as objects, then encoded into one buffer.
            const es: LogEntry[] = [];
            for (let i = 0; i < p.perBatch; i++, seq++) es.push({ seq, icount: seq * 10, kind: 'nondet', source: 'rng', value: seq });
            const buf = encodeBatch(es, pool.take);
            p.port.postMessage(buf, [buf]);
          }
        };
        p.port.onmessage = (ev: MessageEvent) => {
          const spares = (ev.data as { spares?: ArrayBuffer[] }).spares;
          if (spares) return spares.forEach((b) => pool.give(b));
          const r = ev.data as { entries: number; endMs: number };
          rates.push(r.entries / ((r.endMs - startMs) / 1000));
          if (rates.length < p.passes) return send();
          const warm = rates.slice(1).sort((x, y) => x - y);
          resolve({ coldPerS: rates[0], warmPerS: warm[Math.floor(warm.length / 2)] });
        };
        send();
      });
  }
}
