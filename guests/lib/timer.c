/* Time and the machine timer. Reading a 64-bit time as two halves needs the high-low-high loop
 * (unprivileged spec 10.1 "rdcycleh" example) so a carry between the reads is not missed. */
#include "lib.h"

uint64_t rdtime(void) {
  uint32_t hi, lo, hi2;
  do {
    hi = csr_read(timeh);
    lo = csr_read(time);
    hi2 = csr_read(timeh);
  } while (hi != hi2);
  return ((uint64_t)hi << 32) | lo;
}

uint64_t mtime_read(void) {
  uint32_t hi, lo, hi2;
  do {
    hi = REG32(CLINT_BASE, CLINT_MTIME + 4);
    lo = REG32(CLINT_BASE, CLINT_MTIME);
    hi2 = REG32(CLINT_BASE, CLINT_MTIME + 4);
  } while (hi != hi2);
  return ((uint64_t)hi << 32) | lo;
}

/* Privileged spec 3.2.1: write high to all ones first so no intermediate value fires early. */
void timer_set(uint64_t deadline_us) {
  REG32(CLINT_BASE, CLINT_MTIMECMP + 4) = 0xffffffffu;
  REG32(CLINT_BASE, CLINT_MTIMECMP) = (uint32_t)deadline_us;
  REG32(CLINT_BASE, CLINT_MTIMECMP + 4) = (uint32_t)(deadline_us >> 32);
}

void timer_off(void) {
  REG32(CLINT_BASE, CLINT_MTIMECMP + 4) = 0xffffffffu;
  REG32(CLINT_BASE, CLINT_MTIMECMP) = 0xffffffffu;
}
