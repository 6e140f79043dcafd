/* Trap dispatch, called from trap_entry (crt0.S) with mcause and mepc.
 * Interrupts (mcause bit 31) go to the handler registered for their mip bit; the handler must
 * clear its device's interrupt condition, since every line is level-triggered. An exception is a
 * guest bug: report it and exit with failure. */
#include "lib.h"

#define MCAUSE_INTERRUPT 0x80000000u

static irq_handler_t handlers[32];

void irq_register(int bit, irq_handler_t handler) {
  handlers[bit] = handler;
  csr_set(mie, 1u << bit);
}

void trap_dispatch(uint32_t mcause, uint32_t mepc) {
  if (mcause & MCAUSE_INTERRUPT) {
    uint32_t bit = mcause & 31;
    if (handlers[bit]) { handlers[bit](); return; }
    csr_clear(mie, 1u << bit);   /* nobody wants it: stop it from firing forever */
    return;
  }
  printf("trap: exception mcause=%u mepc=%08x mtval=%08x\n", mcause, mepc, csr_read(mtval));
  exit(100 + (int)mcause);
}

void wait_flag(volatile int *flag) {
  for (;;) {
    irq_off();
    if (*flag) { irq_on(); return; }
    wfi();        /* wakes on a pending enabled interrupt even with MIE clear (priv. spec 3.3.3) */
    irq_on();     /* the interrupt is taken here, then we test the flag again */
  }
}
