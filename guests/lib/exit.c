/* HTIF exit: the host watches the `tohost` symbol (found in the ELF) and stops the run on a
 * nonzero 32-bit store. 1 = pass; (code << 1) | 1 = failure `code` (riscv-tests convention). */
#include "lib.h"

volatile uint32_t tohost __attribute__((section(".tohost"), aligned(8)));
volatile uint32_t fromhost __attribute__((section(".tohost"), aligned(8)));

void exit(int code) {
  tohost = code == 0 ? 1u : ((uint32_t)code << 1) | 1u;
  for (;;) wfi();
}
