/* Machine mode: Zicsr, counters, traps with mepc/mcause/mtval, mret (privileged ch. 3). */
#include "test.h"
  .option norvc
/* Expect a trap at label `at` with cause `c` and mtval `tv`; the handler resumes at `at`+len. */
#define EXPECT_TRAP(n, c)                       \
  li TESTNUM, n;                                \
  li s2, c;                                     \
  la t0, expect_trap;                           \
  csrw mtvec, t0;
START
  li TESTNUM, 1           /* csrrw returns the old value */
  li a0, 0x1234
  csrw mscratch, a0
  li a1, 0x5678
  csrrw a2, mscratch, a1
  CHECK(a2, 0x1234)
  csrr a3, mscratch
  CHECK(a3, 0x5678)
  li TESTNUM, 2           /* csrrs / csrrc */
  li a0, 0xf0
  csrw mscratch, a0
  li a1, 0x0f
  csrrs a2, mscratch, a1
  CHECK(a2, 0xf0)
  li a1, 0x30
  csrrc a2, mscratch, a1
  CHECK(a2, 0xff)
  csrr a3, mscratch
  CHECK(a3, 0xcf)
  li TESTNUM, 3           /* immediate forms */
  csrwi mscratch, 21
  csrrsi a2, mscratch, 8
  CHECK(a2, 21)
  csrrci a2, mscratch, 1
  CHECK(a2, 29)
  csrr a3, mscratch
  CHECK(a3, 28)
  li TESTNUM, 4           /* misa: RV32IMAC */
  csrr a0, misa
  CHECK(a0, 0x40001105)
  li TESTNUM, 5           /* mhartid and the ID registers are 0 */
  csrr a0, mhartid
  CHECK(a0, 0)
  csrr a0, mvendorid
  CHECK(a0, 0)
  li TESTNUM, 6           /* mstatus.MPP reads M; only MIE/MPIE are writable */
  li a0, -1
  csrw mstatus, a0
  csrr a1, mstatus
  CHECK(a1, 0x1888)
  csrw mstatus, zero
  csrr a1, mstatus
  CHECK(a1, 0x1800)
  li TESTNUM, 7           /* instret counts retired instructions: two apart = 1 in between */
  csrr a0, instret
  nop
  csrr a1, instret
  sub a2, a1, a0
  CHECK(a2, 2)
  csrr a0, cycle
  csrr a1, minstret
  sub a2, a1, a0
  CHECK(a2, 1)
  csrr a0, instreth
  CHECK(a0, 0)

  EXPECT_TRAP(8, 11)      /* ecall: cause 11, mepc at the ecall */
  la s3, 1f
  li s4, 0
1: ecall
  EXPECT_TRAP(9, 3)       /* ebreak: cause 3 */
  la s3, 1f
  mv s4, s3
1: ebreak
  EXPECT_TRAP(10, 2)      /* illegal instruction: mtval holds the bits */
  la s3, 1f
  li s4, 0xffffffff
1: .word 0xffffffff
  EXPECT_TRAP(11, 2)      /* unknown CSR */
  la s3, 1f
  li s4, 0x7c0022f3
1: csrr t0, 0x7c0
  EXPECT_TRAP(12, 2)      /* write to a read-only CSR */
  la s3, 1f
  li s4, 0xc0029073
1: csrw cycle, t0
  EXPECT_TRAP(13, 4)      /* misaligned load: mtval = address */
  la s3, 1f
  la s4, scratch + 1
1: lw t0, 0(s4)
  EXPECT_TRAP(14, 6)      /* misaligned store */
  la s3, 1f
  la s4, scratch + 2
1: sw t0, 1(s4)
  EXPECT_TRAP(15, 5)      /* load access fault outside RAM and devices */
  la s3, 1f
  li s4, 0x40000000
1: lw t0, 0(s4)
  EXPECT_TRAP(16, 7)      /* store access fault */
  la s3, 1f
  li s4, 0x40000004
1: sw t0, 0(s4)
  EXPECT_TRAP(17, 1)      /* fetch access fault: jump outside RAM */
  li s3, 0x40000000
  li s4, 0x40000000
  la ra, 2f
  jr s3
2:
  li TESTNUM, 18          /* mret: MIE = MPIE (0 here), MPIE = 1 */
  csrr a0, mstatus
  CHECK(a0, 0x1880)
  j pass

/* s2 = expected mcause, s3 = expected mepc, s4 = expected mtval. Returns to mepc + 4, or to ra
 * for a fetch fault. */
  .balign 4
expect_trap:
  csrr t0, mcause
  bne t0, s2, fail
  csrr t0, mepc
  bne t0, s3, fail
  csrr t0, mtval
  li t1, 14
  bne TESTNUM, t1, 1f
  addi t0, t0, -1          /* test 14 stores at s4 + 1 */
1: bne t0, s4, fail
  li t1, 1
  bne s2, t1, 2f
  csrw mepc, ra
  j 3f
2: csrr t0, mepc
  addi t0, t0, 4
  csrw mepc, t0
3: la t0, unexpected_trap
  csrw mtvec, t0
  mret
END
  .data
  .balign 4
scratch: .word 0, 0
