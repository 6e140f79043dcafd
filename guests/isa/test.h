/* Macros for the ISA test programs (in the spirit of riscv-tests' test_macros.h).
 * TESTNUM (gp) holds the number of the running test; on a mismatch the program writes
 * (TESTNUM << 1) | 1 to tohost, on success 1 (HTIF convention). The hart stops on that store. */
#define TESTNUM gp

#define START                                   \
  .section .text.init;                          \
  .globl _start;                                \
_start:                                         \
  la t0, unexpected_trap;                       \
  csrw mtvec, t0;                               \
  li TESTNUM, 0;

/* Pass/fail epilogue, the default trap handler (any unexpected trap fails the current test)
 * and the tohost word. */
#define END                                     \
pass:                                           \
  li t0, 1;                                     \
  la t1, tohost;                                \
  sw t0, 0(t1);                                 \
1: j 1b;                                        \
fail:                                           \
  slli t0, TESTNUM, 1;                          \
  ori t0, t0, 1;                                \
  la t1, tohost;                                \
  sw t0, 0(t1);                                 \
1: j 1b;                                        \
  .balign 4;                                    \
unexpected_trap:                                \
  j fail;                                       \
  .section .tohost, "aw", @progbits;            \
  .balign 8;                                    \
  .globl tohost;                                \
tohost: .word 0, 0;                             \
  .globl fromhost;                              \
fromhost: .word 0, 0;

/* Compare register `reg` with `expected` (uses t6). */
#define CHECK(reg, expected)                    \
  li t6, expected;                              \
  bne reg, t6, fail;

/* rd = op(a, b) for register-register ops. */
#define TEST_RR(n, op, expected, a, b)          \
  li TESTNUM, n;                                \
  li a1, a;                                     \
  li a2, b;                                     \
  op a0, a1, a2;                                \
  CHECK(a0, expected)

/* rd = op(a, imm) for register-immediate ops. */
#define TEST_RI(n, op, expected, a, imm)        \
  li TESTNUM, n;                                \
  li a1, a;                                     \
  op a0, a1, imm;                               \
  CHECK(a0, expected)

/* Branch `op a, b` must be taken (taken=1) or not (taken=0). */
#define TEST_BR(n, op, taken, a, b)             \
  li TESTNUM, n;                                \
  li a1, a;                                     \
  li a2, b;                                     \
  li a0, 0;                                     \
  op a1, a2, 1f;                                \
  li a0, 1;                                     \
1:                                              \
  xori a0, a0, 1;                               \
  CHECK(a0, taken)
