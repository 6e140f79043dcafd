/** Node-only: reads a shipped guest ELF from public/guests (tests, the `sim` command, benchmarks). */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { GuestName } from './guests';

const GUEST_DIR = fileURLToPath(new URL('../../public/guests/', import.meta.url));

export function readGuestElf(name: GuestName): Uint8Array {
  return new Uint8Array(readFileSync(`${GUEST_DIR}${name}.elf`));
}
