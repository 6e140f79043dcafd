/**
 * Block translation (translate.ts) against the interpreter: the same state at every checkpoint for
 * every shipped guest and the ISA tests, with odd run budgets that split blocks; and coherence on
 * every path that writes code: the guest's own stores + fence.i, a store inside the running block,
 * disk DMA over code, Memory.write (injectRamWrite), and restoring a snapshot taken before the
 * code changed.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { Machine } from './machine';
import { parseElf } from './elf';
import { Hart } from './hart';
import { translationAvailable } from './translate';
import { MemDisk, TestHost } from './testing/test-host';
import { guestElf } from './testing/guest-elf';
import { rigWithElf } from './testing/harness';
import * as A from './testing/encode';
import {
  DISK_BASE, DISK_CMD, DISK_CMD_READ, DISK_COUNT, DISK_DMA_ADDR, DISK_SECTOR, DISK_STATUS, DISK_STATUS_DONE, RAM_BASE,
} from './memmap';
import {
  CLIENT_ADDR_BASE, MSG_REQUEST, OP_COUNTER_INC, OP_KV_GET, OP_KV_PUT, SERVICE_ADDR, encodeMessage,
} from '../world/wire';

const ISA_DIR = fileURLToPath(new URL('../../public/guests/isa/', import.meta.url));

function words(ws: number[]): Uint8Array {
  const b = new Uint8Array(ws.length * 4);
  ws.forEach((w, i) => new DataView(b.buffer).setUint32(i * 4, w >>> 0, true));
  return b;
}

function rawMachine(program: number[], translate: boolean, threshold = 50): Machine {
  const m = new Machine({ ramSize: 1 << 20, translate });
  m.hart.hotThreshold = threshold;
  m.mem.write(RAM_BASE, words(program));
  m.hart.reset(RAM_BASE);
  return m;
}

describe('ISA tests, translated and interpreted in lockstep', () => {
  for (const name of ['rv32ui', 'rv32um', 'rv32ua', 'rv32uc', 'rv32mi', 'bench-loop']) {
    for (const threshold of [1, 50]) {
      it(`${name}: same state after every 997 instructions (threshold ${threshold})`, () => {
        const image = parseElf(new Uint8Array(readFileSync(`${ISA_DIR}${name}.elf`)));
        const on = rigWithElf(image);
        const off = rigWithElf(image);
        on.hart.translate = true;
        on.hart.hotThreshold = threshold;
        off.hart.translate = false;
        let r = on.hart.run(0);
        for (let i = 0; i < 200_000; i++) {
          r = on.hart.run(997);
          const r2 = off.hart.run(997);
          expect(r).toEqual(r2);
          expect(on.hart.stateWords()).toEqual(off.hart.stateWords());
          if (r.reason !== 'budget') break;
        }
        expect(r.reason).toBe('exit');
        expect(r.tohost).toBe(1);
        expect(on.mem.u8.every((b, i) => b === off.mem.u8[i])).toBe(true);
        if (name === 'bench-loop') expect(on.hart.blockCount).toBeGreaterThan(0);
      });
    }
  }
});

function request(client: number, seq: number, op: number, key = 0, value = 0): Uint8Array {
  return encodeMessage({ dst: SERVICE_ADDR, src: CLIENT_ADDR_BASE + client, type: MSG_REQUEST, op, client, seq, key, value, status: 0 });
}

/** Two hosts (translation on / off) driven by the same script, compared every `every` instructions. */
function lockstep(elf: Uint8Array, packets: Uint8Array[], maxIcount: number, every = 100_003, setup?: (m: Machine) => void) {
  const make = (translate: boolean): TestHost => {
    const m = Machine.fromElf(elf, { translate });
    setup?.(m);
    return new TestHost(m, new MemDisk(), 7);
  };
  const on = make(true);
  const off = make(false);
  const queue = [...packets];
  let checkpoints = 0;
  while (on.machine.icount < maxIcount) {
    const until = on.machine.icount + every;
    const r1 = on.step({ untilIcount: until, sliceInstructions: 997 });
    const r2 = off.step({ untilIcount: until, sliceInstructions: 997 });
    expect(r1).toEqual(r2);
    expect(on.machine.icount).toBe(off.machine.icount);
    expect(on.machine.pc).toBe(off.machine.pc);
    expect(on.machine.stateHash()).toBe(off.machine.stateHash());
    checkpoints++;
    if (r1.reason === 'exit' || r1.reason === 'fault') break;
    if (r1.reason === 'wfi' && on.machine.icount < until) { // idle: next packet, or done
      const p = queue.shift();
      if (p === undefined) break;
      expect(on.deliverPacket(p)).toEqual(off.deliverPacket(p));
    }
  }
  expect(on.console).toBe(off.console);
  expect(on.packetsOut).toEqual(off.packetsOut);
  expect(on.machine.stateHash({ full: true })).toBe(off.machine.stateHash({ full: true }));
  return { on, off, checkpoints };
}

describe('shipped guests, translated and interpreted in lockstep', () => {
  it('counter: same hash, icount and pc at every checkpoint through boot and requests', () => {
    const pk = [1, 2, 3, 3, 4].map((s, i) => request(1 + (i % 2), s, OP_COUNTER_INC));
    const { on, checkpoints } = lockstep(guestElf('counter'), pk, 20_000_000, 10_007);
    expect(checkpoints).toBeGreaterThan(5);
    expect(on.packetsOut.length).toBe(5);
    expect(on.machine.hart.blockCount).toBeGreaterThan(0);
  });

  it('kv: same hash, icount and pc at every checkpoint through puts and gets', () => {
    const pk = [request(1, 1, OP_KV_PUT, 5, 55), request(1, 2, OP_KV_GET, 5), request(2, 1, OP_KV_PUT, 9, 99), request(2, 2, OP_KV_GET, 9)];
    const { on } = lockstep(guestElf('kv'), pk, 20_000_000, 10_007);
    expect(on.packetsOut.length).toBe(4);
  });

  it('ticker: same hash, icount and pc at every checkpoint through timer interrupts', () => {
    const { on } = lockstep(guestElf('ticker'), [], 3_000_000, 9_973);
    expect(on.machine.icount).toBeGreaterThan(1_000_000);
  });

  for (const name of ['rv32ui', 'rv32um', 'rv32ua', 'rv32uc', 'rv32mi', 'bench-loop']) {
    it(`ISA test ${name} on the Machine: same state hash every 10 007 instructions`, () => {
      const { on } = lockstep(new Uint8Array(readFileSync(`${ISA_DIR}${name}.elf`)), [], 50_000_000, 10_007);
      expect(on.lastResult?.reason).toBe('exit');
    });
  }

  /** A compute guest with its work variable (an ELF symbol) lowered, in lockstep to its exit. */
  const toExit = (guest: string, symbol: string, value: number): TestHost => {
    const elf = guestElf(guest);
    const at = parseElf(elf).symbols.get(symbol);
    expect(at).toBeDefined();
    const { on } = lockstep(elf, [], 40_000_000, 100_003, (m) => m.mem.write(at as number, words([value])));
    expect(on.lastResult?.reason).toBe('exit');
    return on;
  };

  it('mark: same hash, icount and pc every 100 003 instructions to its exit', () => {
    expect(toExit('mark', 'mark_iterations', 8).console).toMatch(/^mark: 8 iterations, crc [0-9a-f]{4}\n$/);
  });

  it('bench: same hash, icount and pc every 100 003 instructions to its exit', () => {
    const on = toExit('bench', 'bench_rounds', 20);
    expect(on.machine.hart.blockCount).toBeGreaterThan(0);
  });
});

/** Loop at `at`: x10 = 0; do { x5 += inc; x10++ } while (x10 != x11); return via x1. 5 words. */
function loop(inc: number): number[] {
  return [A.addi(10, 0, 0), A.addi(5, 5, inc), A.addi(10, 10, 1), A.bne(10, 11, -8), A.jalr(0, 1, 0)];
}

function compareRuns(program: number[], budget: number, check: (m: Machine) => void): void {
  const results: string[] = [];
  for (const [translate, threshold] of [[false, 50], [true, 1], [true, 50]] as const) {
    const m = rawMachine(program, translate, threshold);
    let done = 0;
    while (done < budget) {
      const r = m.run(Math.min(997, budget - done));
      done += r.retired;
      if (r.reason !== 'budget') break;
    }
    check(m);
    results.push(`${m.icount} ${m.pc} ${m.stateHash()}`);
  }
  expect(results[1]).toBe(results[0]);
  expect(results[2]).toBe(results[0]);
}

describe('coherence: code that changes is retranslated', () => {
  it('a guest rewrites its hot loop body, fence.i, runs it again', () => {
    const T = RAM_BASE + 0x400 + 4; // the addi x5 of the loop
    const main = [
      A.addi(11, 0, 100), A.jal(1, 0x400 - 4), // loop(1) × 100
      ...A.li(12, A.addi(5, 5, 100)), ...A.li(13, T), A.sw(12, 13, 0), A.FENCE_I,
    ];
    main.push(A.jal(1, 0x400 - main.length * 4), A.jal(0, 0)); // loop(100) × 100, then spin
    const program = [...main, ...new Array<number>(0x100 - main.length).fill(A.NOP), ...loop(1)];
    compareRuns(program, 20_000, (m) => expect(m.hart.regs[5]).toBe(100 + 100 * 100));
  });

  it('a store inside the running block rewrites the very next instruction', () => {
    // x13 = &T; loop: sw x12, 0(x13); T: addi x5, x5, 1; x10++; bne — every pass runs the stored word
    const T = RAM_BASE + 7 * 4;
    const program = [
      ...A.li(12, A.addi(5, 5, 7)), A.addi(11, 0, 50), A.addi(10, 0, 0), ...A.li(13, T),
      A.sw(12, 13, 0), A.addi(5, 5, 1), A.addi(10, 10, 1), A.bne(10, 11, -12), A.jal(0, 0),
    ];
    compareRuns(program, 5_000, (m) => expect(m.hart.regs[5]).toBe(50 * 7));
  });

  it('a byte store into the upper half of the next instruction (decode entry at h-1)', () => {
    const T = RAM_BASE + 7 * 4; // addi x5, x5, 1 (0x00128293): byte 3 = imm[11:4] becomes 0x10, imm 257
    const program = [
      ...A.li(12, 0x10), A.addi(11, 0, 50), A.addi(10, 0, 0), ...A.li(13, T),
      A.sb(12, 13, 3), A.addi(5, 5, 1), A.addi(10, 10, 1), A.bne(10, 11, -12), A.jal(0, 0),
    ];
    compareRuns(program, 5_000, (m) => expect(m.hart.regs[5]).toBe(50 * 257));
  });

  it('stores to data on the code page stay correct (and the code next to them is not disturbed)', () => {
    const D = RAM_BASE + 0x200; // same page as the code, not code
    const program = [...A.li(7, D), A.addi(11, 0, 100), A.sw(10, 7, 0), A.lw(6, 7, 0), A.add(5, 5, 6), A.addi(10, 10, 1), A.bne(10, 11, -16), A.jal(0, 0)];
    compareRuns(program, 5_000, (m) => expect(m.hart.regs[5]).toBe(99 * 100 / 2));
  });

  it('disk DMA over translated code: the new code runs', () => {
    const d = DISK_BASE;
    const main = [
      A.addi(11, 0, 100), A.jal(1, 0x400 - 4),
      ...A.li(13, d), A.sw(0, 13, DISK_SECTOR), ...A.li(14, RAM_BASE + 0x400), A.sw(14, 13, DISK_DMA_ADDR),
      A.addi(14, 0, 1), A.sw(14, 13, DISK_COUNT), A.addi(14, 0, DISK_CMD_READ), A.sw(14, 13, DISK_CMD),
      A.lw(15, 13, DISK_STATUS), A.iType(0x13, 7, 15, 15, DISK_STATUS_DONE), A.beq(15, 0, -8),
    ];
    main.push(A.jal(1, 0x400 - main.length * 4), A.jal(0, 0));
    const program = [...main, ...new Array<number>(0x100 - main.length).fill(A.NOP), ...loop(1)];
    const block = new Uint8Array(512);
    block.set(words([...loop(100), ...new Array<number>(123).fill(A.NOP)]));
    const hashes: string[] = [];
    for (const [translate, threshold] of [[false, 50], [true, 1], [true, 50]] as const) {
      const disk = new MemDisk();
      disk.blocks.set(0, block);
      const host = new TestHost(rawMachine(program, translate, threshold), disk);
      host.step({ untilIcount: 30_000, sliceInstructions: 997 });
      expect(host.machine.hart.regs[5]).toBe(100 + 100 * 100);
      hashes.push(`${host.machine.icount} ${host.machine.stateHash()}`);
    }
    expect(hashes[1]).toBe(hashes[0]);
    expect(hashes[2]).toBe(hashes[0]);
  });

  it('Memory.write (injectRamWrite) over a translated loop, and restore of a snapshot taken before', () => {
    const program = [A.addi(5, 5, 1), A.jal(0, -4)];
    const finals: string[] = [];
    for (const [translate, threshold] of [[false, 50], [true, 1], [true, 50]] as const) {
      const m = rawMachine(program, translate, threshold);
      m.run(10_000);
      expect(m.hart.regs[5]).toBe(5_000);
      const snap = m.snapshot();
      m.injectRamWrite(RAM_BASE, words([A.addi(5, 5, 100)]));
      m.run(10_000);
      expect(m.hart.regs[5]).toBe(5_000 + 500_000);
      m.restore(snap);
      m.run(10_001);
      expect(m.hart.regs[5]).toBe(10_001);
      finals.push(`${m.icount} ${m.pc} ${m.stateHash()}`);
    }
    expect(finals[1]).toBe(finals[0]);
    expect(finals[2]).toBe(finals[0]);
  });
});

describe('control flow inside a block', () => {
  it('an if/else inside a loop: forward branch, forward jump over the else, backward branch', () => {
    const program = [
      A.addi(11, 0, 200), A.addi(10, 0, 0),
      A.iType(0x13, 7, 12, 10, 1), A.beq(12, 0, 12), A.addi(5, 5, 3), A.jal(0, 8), A.addi(6, 6, 5),
      A.addi(10, 10, 1), A.bne(10, 11, -24), A.jal(0, 0),
    ];
    compareRuns(program, 3_000, (m) => expect([m.hart.regs[5], m.hart.regs[6]]).toEqual([300, 500]));
  });

  it('nested loops: the inner loop starts mid-block', () => {
    const program = [
      A.addi(11, 0, 30), A.addi(10, 0, 0), // outer i
      A.addi(13, 0, 0), A.addi(14, 0, 17), // inner j, limit
      A.add(5, 5, 13), A.addi(13, 13, 1), A.bne(13, 14, -8), // inner loop body (mid-block target)
      A.addi(10, 10, 1), A.bne(10, 11, -24), A.jal(0, 0),
    ];
    compareRuns(program, 5_000, (m) => expect(m.hart.regs[5]).toBe(30 * (16 * 17) / 2));
  });
});

/**
 * fib(a0) by recursion, from word 8 on: the calls (JAL ra) and returns (JALR ra) all stay in the
 * page, so one region holds them. main: sp = RAM_BASE + 0x8000, a0 = n, call fib, spin.
 */
function fibProgram(n: number): number[] {
  const main = [...A.li(2, RAM_BASE + 0x8000), A.addi(10, 0, n), A.jal(1, 0), A.jal(0, 0)];
  main[main.length - 2] = A.jal(1, (8 - (main.length - 2)) * 4);
  const fib = [
    A.addi(5, 0, 2), A.blt(10, 5, 4 * 14), // n < 2: return n
    A.addi(2, 2, -12), A.sw(1, 2, 0), A.sw(10, 2, 4),
    A.addi(10, 10, -1), A.jal(1, -6 * 4), A.sw(10, 2, 8), // fib(n - 1)
    A.lw(10, 2, 4), A.addi(10, 10, -2), A.jal(1, -10 * 4), // fib(n - 2)
    A.lw(6, 2, 8), A.add(10, 10, 6), A.lw(1, 2, 0), A.addi(2, 2, 12),
    A.jalr(0, 1, 0),
  ];
  return [...main, ...new Array<number>(8 - main.length).fill(A.NOP), ...fib];
}

describe('regions: calls and returns inside one translated function', () => {
  it('a recursive function gives the interpreter\'s result, hash and count', () => {
    compareRuns(fibProgram(15), 200_000, (m) => {
      expect(m.hart.regs[10]).toBe(610);
      expect(m.pc >>> 0).toBe(RAM_BASE + (A.li(2, RAM_BASE + 0x8000).length + 2) * 4); // spinning in main after the call
    });
  });

  it('run(n) retires exactly n for every n, entering the region at whatever label the last run left at', () => {
    const m = rawMachine(fibProgram(12), true, 1);
    const ref = rawMachine(fibProgram(12), false);
    for (let n = 0; n < 300; n++) {
      const budget = (n * 37) % 101;
      expect(m.run(budget)).toEqual(ref.run(budget));
      expect(m.hart.stateWords()).toEqual(ref.hart.stateWords());
    }
    expect(m.hart.regs[10]).toBe(144);
    expect(m.hart.blockCount).toBeGreaterThan(0);
    expect(m.hart.blockCount).toBeLessThanOrEqual(3); // main's page: one region (and main's own)
  });

  it('a call through a function pointer, hot enough to be taken into the caller\'s region', () => {
    // main: x11 = 3000, x7 = &f; loop: jalr x1, x7; x10++; bne x10, x11, loop; spin. f (word 16): x5 += 3; ret.
    const main = [A.addi(11, 0, 1000), A.addi(11, 11, 2000), ...A.li(7, RAM_BASE + 16 * 4)];
    main.push(A.jalr(1, 7, 0), A.addi(10, 10, 1), A.bne(10, 11, -8), A.jal(0, 0));
    const program = [...main, ...new Array<number>(16 - main.length).fill(A.NOP), A.addi(5, 5, 3), A.jalr(0, 1, 0)];
    compareRuns(program, 20_000, (m) => expect(m.hart.regs[5]).toBe(9000));
  });

  it('a full main region: the call out of a side region is taken in once it is hot (link)', () => {
    // loop: 300 × (x6 += 1), jalr x1, x7 (f), x10++, bne loop; f (after it): x5 += 3; ret.
    const head = [A.addi(11, 0, 400), ...A.li(7, 0)];
    const loopAt = head.length;
    const body = [...new Array<number>(300).fill(A.addi(6, 6, 1)), A.jalr(1, 7, 0), A.addi(10, 10, 1)];
    body.push(A.bne(10, 11, -(body.length * 4)), A.jal(0, 0));
    const fAt = loopAt + body.length;
    const li7 = A.li(7, RAM_BASE + fAt * 4);
    const program = [A.addi(11, 0, 400), ...li7, ...body, A.addi(5, 5, 3), A.jalr(0, 1, 0)];
    expect(li7.length).toBe(head.length - 1); // the loop starts where it was measured to
    compareRuns(program, 200_000, (m) => expect([m.hart.regs[5], m.hart.regs[6]]).toEqual([1200, 120_000]));
    const m = rawMachine(program, true, 1);
    m.run(200_000);
    expect(m.hart.linked).toBeGreaterThan(0);
    expect(m.hart.regs[5]).toBe(1200);
  });

  it('a branch into the upper half of a 32-bit instruction runs the compressed one there', () => {
    // W: lui x5, … whose upper halfword is c.addi x6, 1 (0x0305). The loop branches back to W + 2.
    const W = (0x0305 << 16) | (5 << 7) | 0x37;
    const program = [A.addi(11, 0, 100), W, A.addi(10, 10, 1), A.blt(10, 11, -6), A.jal(0, 0)];
    compareRuns(program, 5_000, (m) => expect([m.hart.regs[5], m.hart.regs[6], m.hart.regs[10]]).toEqual([0x03050000, 99, 100]));
  });

  it('two machines share the compiled function; rewriting one machine\'s code leaves the other alone', () => {
    const program = [A.addi(5, 5, 1), A.jal(0, -4)];
    const a = rawMachine(program, true, 1);
    const b = rawMachine(program, true, 1);
    a.run(1000);
    b.run(1000);
    a.injectRamWrite(RAM_BASE, words([A.addi(5, 5, 100)]));
    a.run(1000);
    b.run(1000);
    expect(a.hart.regs[5]).toBe(500 + 500 * 100);
    expect(b.hart.regs[5]).toBe(1000);
  });
});

describe('bail-outs inside a looping block', () => {
  it('a load that turns misaligned on a later pass of a self-loop', () => {
    const D = RAM_BASE + 0x8000;
    const program = [...A.li(7, D), ...A.li(8, D + 200), A.lw(6, 7, 0), A.add(5, 5, 6), A.addi(7, 7, 2), A.bne(7, 8, -12), A.jal(0, 0)];
    compareRuns(program, 3_000, () => {});
  });

  it('a store loop that walks into its own code page, and one that walks off the end of RAM', () => {
    const program = [...A.li(7, RAM_BASE + 0x3000), ...A.li(9, 0x13), A.sw(9, 7, 0), A.addi(7, 7, -4), A.jal(0, -8)];
    compareRuns(program, 20_000, (m) => expect(m.hart.regs[7] >>> 0).toBeLessThan(RAM_BASE + 0x3000));
    const end = [...A.li(7, RAM_BASE + (1 << 20) - 64), ...A.li(9, 5), A.sw(9, 7, 0), A.addi(7, 7, 4), A.jal(0, -8)];
    compareRuns(end, 5_000, () => {});
  });

  it('a loop that reads a device register every pass', () => {
    const program = [...A.li(7, DISK_BASE), A.lw(6, 7, 0), A.add(5, 5, 6), A.jal(0, -8)];
    compareRuns(program, 5_000, (m) => expect(m.hart.regs[5]).not.toBe(0));
  });
});

describe('exact counts', () => {
  it('run(n) stops after exactly n instructions inside a hot loop, for every n', () => {
    const program = [A.addi(5, 5, 1), A.addi(6, 6, 2), A.addi(7, 7, 3), A.jal(0, -12)];
    const m = rawMachine(program, true, 1);
    const ref = rawMachine(program, false);
    for (let n = 0; n < 40; n++) {
      expect(m.run(n)).toEqual(ref.run(n));
      expect(m.hart.stateWords()).toEqual(ref.hart.stateWords());
    }
    expect(m.hart.blockCount).toBeGreaterThan(0);
  });

  it('translation can be switched off and on mid-run', () => {
    const program = [A.addi(5, 5, 1), A.jal(0, -4)];
    const m = rawMachine(program, true, 1);
    m.run(1001);
    m.translate = false;
    m.run(1001);
    m.translate = true;
    m.run(1001);
    expect(m.hart.regs[5]).toBe(1502);
    expect(Hart.translateByDefault === true || Hart.translateByDefault === false).toBe(true);
  });
});

// Last in the file: the refusal is sticky for the module (vitest isolates files).
describe('where new Function is refused (CSP without unsafe-eval)', () => {
  it('falls back to the interpreter once, with the same results', () => {
    const program = [A.addi(5, 5, 1), A.addi(6, 6, 3), A.jal(0, -8)];
    const ref = rawMachine(program, false);
    ref.run(5_001);
    expect(translationAvailable()).toBe(true);
    const RealFunction = Function;
    vi.stubGlobal('Function', function refused(): never {
      throw new EvalError("Refused to evaluate a string as JavaScript because 'unsafe-eval' is not an allowed source");
    });
    try {
      const m = rawMachine(program, true, 1);
      expect(m.run(5_001)).toEqual({ retired: 5_001, reason: 'budget' });
      expect(translationAvailable()).toBe(false);
      expect(m.hart.blockCount).toBe(0);
      expect(m.stateHash()).toBe(ref.stateHash());
    } finally {
      vi.unstubAllGlobals();
    }
    expect(Function).toBe(RealFunction);
  });
});
