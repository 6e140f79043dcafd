/** The committed guest ELFs (public/guests), for tests. */
import { readFileSync } from 'node:fs';

export function guestElf(name: string): Uint8Array {
  return new Uint8Array(readFileSync(new URL(`../../../public/guests/${name}.elf`, import.meta.url)));
}
