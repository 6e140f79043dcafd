import { describe, expect, it } from 'vitest';
import { Uart, CONSOLE_BATCH_BYTES } from './uart';
import { FakeDeviceHost } from '../testing/fake-host';
import { IRQ_UART, UART_IER, UART_IIR, UART_LCR, UART_LSR, UART_LSR_DR, UART_LSR_TEMT, UART_LSR_THRE, UART_RBR, UART_THR } from '../memmap';
import { DeviceStateError } from './device';

const text = (b: Uint8Array): string => new TextDecoder().decode(b);

function setup(): { host: FakeDeviceHost; uart: Uart } {
  const host = new FakeDeviceHost();
  return { host, uart: new Uart(host) };
}

function send(host: FakeDeviceHost, uart: Uart, s: string, icount0: number): void {
  [...s].forEach((c, i) => {
    host.icountNow = icount0 + i;
    uart.store(UART_THR, 1, c.charCodeAt(0));
  });
}

describe('Uart', () => {
  it('emits a line at its newline, stamped with the icount of its last byte', () => {
    const { host, uart } = setup();
    send(host, uart, 'hi\nab', 100);
    expect(host.outputs).toHaveLength(1);
    expect(host.outputs[0]).toMatchObject({ kind: 'console', icount: 102 });
    expect(text((host.outputs[0] as { bytes: Uint8Array }).bytes)).toBe('hi\n');
    uart.flush();
    expect(host.outputs[1]).toMatchObject({ kind: 'console', icount: 104 });
    expect(text((host.outputs[1] as { bytes: Uint8Array }).bytes)).toBe('ab');
    uart.flush();
    expect(host.outputs).toHaveLength(2);
  });

  it('keeps an unterminated line as state: it survives snapshot/restore and leaves with its newline', () => {
    const { host, uart } = setup();
    send(host, uart, 'par', 10);
    expect(host.outputs).toHaveLength(0);
    const other = setup();
    other.uart.restore(structuredClone(uart.snapshot()));
    send(other.host, other.uart, 't\n', 13);
    expect(other.host.outputs).toHaveLength(1);
    expect(other.host.outputs[0]).toMatchObject({ kind: 'console', icount: 14 });
    expect(text((other.host.outputs[0] as { bytes: Uint8Array }).bytes)).toBe('part\n');
    expect(() => other.uart.restore({ ...uart.snapshot(), tx: new Uint8Array(CONSOLE_BATCH_BYTES) })).toThrow(DeviceStateError);
  });

  it('emits a full batch without waiting for a newline', () => {
    const { host, uart } = setup();
    send(host, uart, 'x'.repeat(CONSOLE_BATCH_BYTES + 1), 0);
    expect(host.outputs).toHaveLength(1);
    expect((host.outputs[0] as { bytes: Uint8Array }).bytes.length).toBe(CONSOLE_BATCH_BYTES);
  });

  it('reports THRE|TEMT always and DR while received bytes wait; RBR pops them in order', () => {
    const { uart } = setup();
    expect(uart.load(UART_LSR, 1)).toBe(UART_LSR_THRE | UART_LSR_TEMT);
    uart.deliverUart(new Uint8Array([65, 66]));
    expect(uart.load(UART_LSR, 1)! & UART_LSR_DR).toBe(UART_LSR_DR);
    expect(uart.load(UART_RBR, 1)).toBe(65);
    expect(uart.load(UART_RBR, 1)).toBe(66);
    expect(uart.load(UART_LSR, 1)! & UART_LSR_DR).toBe(0);
    expect(uart.load(UART_RBR, 1)).toBe(0);
  });

  it('raises IRQ 16 while data waits and ERBFI is set, and IIR says why', () => {
    const { host, uart } = setup();
    uart.deliverUart(new Uint8Array([1]));
    expect(host.level(IRQ_UART)).toBe(false);
    expect(uart.load(UART_IIR, 1)).toBe(0x01);
    uart.store(UART_IER, 1, 1);
    expect(host.level(IRQ_UART)).toBe(true);
    expect(uart.load(UART_IIR, 1)).toBe(0x04);
    uart.load(UART_RBR, 1);
    expect(host.level(IRQ_UART)).toBe(false);
  });

  it('keeps the divisor latch apart from THR/IER while DLAB is set', () => {
    const { host, uart } = setup();
    uart.store(UART_LCR, 1, 0x80);
    uart.store(UART_THR, 1, 3);
    uart.store(UART_IER, 1, 0);
    uart.store(UART_LCR, 1, 0x03);
    uart.flush();
    expect(host.outputs).toHaveLength(0);
    expect(uart.load(UART_LCR, 1)).toBe(3);
  });

  it('snapshots the receive queue and registers; rejects a malformed state', () => {
    const { uart } = setup();
    uart.store(UART_IER, 1, 1);
    uart.deliverUart(new Uint8Array([9, 8]));
    const snap = structuredClone(uart.snapshot());
    const b = setup();
    b.uart.restore(snap);
    expect(b.host.level(IRQ_UART)).toBe(true);
    expect(b.uart.load(UART_RBR, 1)).toBe(9);
    expect(() => b.uart.restore({ ...snap, rx: [1, 2] })).toThrow(DeviceStateError);
    expect(b.uart.load(UART_RBR, 1)).toBe(8);
  });
});
