/* ticker: timer interrupts drive a tiny scheduler of three tasks, which print what they read from
 * the time CSR, the CLINT's mtime and the hardware RNG: every source of nondeterminism in one
 * program (docs/design.md §3). Runs forever.
 *
 * The timer handler only counts ticks, re-arms mtimecmp relative to the time it fires at, and
 * marks tasks due; the main loop runs due tasks and otherwise sleeps in wfi.
 *
 * The third task, spin, counts loop iterations until a short timer interrupts it: the count it
 * prints depends on the exact instruction the interrupt lands on. It is the busy guest that shows
 * why a timer interrupt must reach the backup at the primary's instruction — delivered anywhere
 * else, the backup counts differently and its state (and hash) diverges. */
#include "lib/lib.h"

#define TICK_US 50000u
#define SPIN_US 2000u

struct task {
  const char *name;
  uint32_t every_ticks;
  volatile int due;
  uint32_t runs;
  void (*run)(struct task *);
};

static volatile uint32_t ticks;
static uint64_t next_tick_us;
static volatile int spinning;

static void task_clock(struct task *t) {
  uint64_t now = rdtime();
  printf("[%s] run %u tick %u time %u us rng %08x\n", t->name, t->runs, ticks, (uint32_t)now, rng_read());
}

static void task_dice(struct task *t) {
  uint32_t roll = rng_read() % 6 + 1;
  uint64_t now = mtime_read();
  printf("[%s] run %u tick %u mtime %u us dice %u\n", t->name, t->runs, ticks, (uint32_t)now, roll);
}

/* Busy until the timer ends the spin: the iteration count is where the interrupt landed. */
static void task_spin(struct task *t) {
  uint32_t iterations = 0;
  spinning = 1;
  timer_set(rdtime() + SPIN_US);
  while (spinning) iterations++;
  printf("[%s] run %u tick %u: %u iterations in %u us\n", t->name, t->runs, ticks, iterations, SPIN_US);
}

#define NTASKS 3
static struct task tasks[NTASKS] = {
  { "clock", 2, 0, 0, task_clock },
  { "dice", 5, 0, 0, task_dice },
  { "spin", 3, 0, 0, task_spin },
};

static void timer_irq(void) {
  if (spinning) {                  /* the spin's deadline, not a tick: back to the tick's */
    spinning = 0;
    timer_set(next_tick_us);       /* also lowers MTIP (the CLINT clears it on a mtimecmp write) */
    return;
  }
  ticks++;
  next_tick_us = rdtime() + TICK_US;
  timer_set(next_tick_us);
  for (int i = 0; i < NTASKS; i++) {
    if (ticks % tasks[i].every_ticks == 0) tasks[i].due = 1;
  }
}

static int any_due(void) {
  for (int i = 0; i < NTASKS; i++) {
    if (tasks[i].due) return 1;
  }
  return 0;
}

int main(void) {
  printf("ticker: three tasks, tick %u us\n", TICK_US);
  irq_register(IRQ_MTIP, timer_irq);
  next_tick_us = rdtime() + TICK_US;
  timer_set(next_tick_us);
  irq_on();
  for (;;) {
    irq_off();
    if (!any_due()) wfi();
    irq_on();
    for (int i = 0; i < NTASKS; i++) {
      if (!tasks[i].due) continue;
      tasks[i].due = 0;
      tasks[i].runs++;
      tasks[i].run(&tasks[i]);
    }
  }
}
