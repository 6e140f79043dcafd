/* RV32A: LR/SC and every AMO (unprivileged ch. 8). rd gets the old memory value. */
#include "test.h"
  .option norvc
#define TEST_AMO(n, op, init, src, old, after)  \
  li TESTNUM, n;                                \
  la s0, word;                                  \
  li a1, init;                                  \
  sw a1, 0(s0);                                 \
  li a2, src;                                   \
  op a0, a2, (s0);                              \
  CHECK(a0, old)                                \
  lw a3, 0(s0);                                 \
  CHECK(a3, after)
START
  TEST_AMO(1, amoswap.w, 0x11111111, 0x22222222, 0x11111111, 0x22222222)
  TEST_AMO(2, amoadd.w, 0x7fffffff, 1, 0x7fffffff, 0x80000000)
  TEST_AMO(3, amoxor.w, 0xff00ff00, 0x0ff00ff0, 0xff00ff00, 0xf0f0f0f0)
  TEST_AMO(4, amoand.w, 0xff00ff00, 0x0ff00ff0, 0xff00ff00, 0x0f000f00)
  TEST_AMO(5, amoor.w, 0xff00ff00, 0x0ff00ff0, 0xff00ff00, 0xfff0fff0)
  TEST_AMO(6, amomin.w, 0xffffffff, 1, 0xffffffff, 0xffffffff)
  TEST_AMO(7, amomin.w, 5, 3, 5, 3)
  TEST_AMO(8, amomax.w, 0xffffffff, 1, 0xffffffff, 1)
  TEST_AMO(9, amomax.w, 5, 3, 5, 5)
  TEST_AMO(10, amominu.w, 0xffffffff, 1, 0xffffffff, 1)
  TEST_AMO(11, amominu.w, 5, 7, 5, 5)
  TEST_AMO(12, amomaxu.w, 0xffffffff, 1, 0xffffffff, 0xffffffff)
  TEST_AMO(13, amomaxu.w, 1, 0x80000000, 1, 0x80000000)
  TEST_AMO(14, amoadd.w.aqrl, 1, 2, 1, 3)

  li TESTNUM, 15          /* LR then SC on the same address succeeds (rd = 0) */
  la s0, word
  li a1, 41
  sw a1, 0(s0)
  lr.w a0, (s0)
  CHECK(a0, 41)
  addi a0, a0, 1
  sc.w a2, a0, (s0)
  CHECK(a2, 0)
  lw a3, 0(s0)
  CHECK(a3, 42)
  li TESTNUM, 16          /* a second SC without a new LR fails (rd = 1), memory unchanged */
  li a0, 99
  sc.w a2, a0, (s0)
  CHECK(a2, 1)
  lw a3, 0(s0)
  CHECK(a3, 42)
  li TESTNUM, 17          /* SC to a different address than the reservation fails */
  lr.w a0, (s0)
  addi s1, s0, 4
  sc.w a2, a0, (s1)
  CHECK(a2, 1)
  li TESTNUM, 18          /* SC without any LR fails */
  sc.w a2, a0, (s0)
  CHECK(a2, 1)
  li TESTNUM, 19          /* an LR/SC retry loop (atomic increment) */
  li a4, 0
3: lr.w a0, (s0)
  addi a0, a0, 1
  sc.w a2, a0, (s0)
  bnez a2, 3b
  lw a3, 0(s0)
  CHECK(a3, 43)
  j pass
END
  .data
  .balign 4
word: .word 0, 0
