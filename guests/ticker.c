/* ticker: timer interrupts drive a tiny scheduler of two tasks, which print what they read from
 * the time CSR, the CLINT's mtime and the hardware RNG: every source of nondeterminism in one
 * program (docs/design.md §3). Runs forever.
 *
 * The timer handler only counts ticks, re-arms mtimecmp relative to the time it fires at, and
 * marks tasks due; the main loop runs due tasks and otherwise sleeps in wfi. */
#include "lib/lib.h"

#define TICK_US 50000u

struct task {
  const char *name;
  uint32_t every_ticks;
  volatile int due;
  uint32_t runs;
  void (*run)(struct task *);
};

static volatile uint32_t ticks;

static void task_clock(struct task *t) {
  uint64_t now = rdtime();
  printf("[%s] run %u tick %u time %u us rng %08x\n", t->name, t->runs, ticks, (uint32_t)now, rng_read());
}

static void task_dice(struct task *t) {
  uint32_t roll = rng_read() % 6 + 1;
  uint64_t now = mtime_read();
  printf("[%s] run %u tick %u mtime %u us dice %u\n", t->name, t->runs, ticks, (uint32_t)now, roll);
}

static struct task tasks[2] = {
  { "clock", 2, 0, 0, task_clock },
  { "dice", 5, 0, 0, task_dice },
};

static void timer_irq(void) {
  ticks++;
  timer_set(rdtime() + TICK_US);   /* also lowers MTIP (the CLINT clears it on a mtimecmp write) */
  for (int i = 0; i < 2; i++) {
    if (ticks % tasks[i].every_ticks == 0) tasks[i].due = 1;
  }
}

static int any_due(void) {
  return tasks[0].due || tasks[1].due;
}

int main(void) {
  printf("ticker: two tasks, tick %u us\n", TICK_US);
  irq_register(IRQ_MTIP, timer_irq);
  timer_set(rdtime() + TICK_US);
  irq_on();
  for (;;) {
    irq_off();
    if (!any_due()) wfi();
    irq_on();
    for (int i = 0; i < 2; i++) {
      if (!tasks[i].due) continue;
      tasks[i].due = 0;
      tasks[i].runs++;
      tasks[i].run(&tasks[i]);
    }
  }
}
