/* Machine mode: Zicsr, counters, trigger and PMP CSRs, traps with mepc/mcause/mtval, misaligned
 * accesses, mret (privileged ch. 3). */
#include "test.h"
  .option norvc
/* Expect the next trap to have cause `c`, mepc s3 and mtval s4 (set after this); the handler
 * resumes after the trapping instruction and records the test number in s5, which DID_TRAP checks,
 * so an instruction that should trap and does not fails the test. */
#define EXPECT_TRAP(n, c)                       \
  li TESTNUM, n;                                \
  li s2, c;                                     \
  li s5, 0;                                     \
  la t0, expect_trap;                           \
  csrw mtvec, t0;
#define DID_TRAP                                \
  bne s5, TESTNUM, fail;
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
  DID_TRAP
  EXPECT_TRAP(9, 3)       /* ebreak: cause 3 */
  la s3, 1f
  mv s4, s3
1: ebreak
  DID_TRAP
  EXPECT_TRAP(10, 2)      /* illegal instruction: mtval holds the bits */
  la s3, 1f
  li s4, 0xffffffff
1: .word 0xffffffff
  DID_TRAP
  EXPECT_TRAP(11, 2)      /* unknown CSR */
  la s3, 1f
  li s4, 0x7c0022f3
1: csrr t0, 0x7c0
  DID_TRAP
  EXPECT_TRAP(12, 2)      /* write to a read-only CSR */
  la s3, 1f
  li s4, 0xc0029073
1: csrw cycle, t0
  DID_TRAP
  li TESTNUM, 13          /* misaligned loads from RAM complete, little-endian (no trap) */
  la s4, scratch
  lw a0, 1(s4)
  CHECK(a0, 0x14131211)
  lw a0, 7(s4)
  CHECK(a0, 0xaa998817)
  lh a0, 9(s4)
  CHECK(a0, 0xffffaa99)
  lhu a0, 9(s4)
  CHECK(a0, 0x0000aa99)
  li TESTNUM, 14          /* misaligned stores to RAM complete: exactly their bytes change */
  la s4, scratch2
  li t0, 0xa1b2c3d4
  sw t0, 1(s4)
  sh t0, 7(s4)
  lw a0, 0(s4)
  CHECK(a0, 0xb2c3d400)
  lw a0, 4(s4)
  CHECK(a0, 0xd40000a1)
  lw a0, 8(s4)
  CHECK(a0, 0x000000c3)
  EXPECT_TRAP(15, 5)      /* load access fault outside RAM and devices */
  la s3, 1f
  li s4, 0x40000000
1: lw t0, 0(s4)
  DID_TRAP
  EXPECT_TRAP(16, 7)      /* store access fault */
  la s3, 1f
  li s4, 0x40000004
1: sw t0, 0(s4)
  DID_TRAP
  EXPECT_TRAP(17, 1)      /* fetch access fault: jump outside RAM */
  li s3, 0x40000000
  li s4, 0x40000000
  la ra, 2f
  jr s3
2:
  DID_TRAP
  li TESTNUM, 18          /* mret: MIE = MPIE (0 here), MPIE = 1 */
  csrr a0, mstatus
  CHECK(a0, 0x1880)
  EXPECT_TRAP(19, 4)      /* misaligned load outside RAM: address misaligned, mtval = address */
  la s3, 1f
  li s4, 0x40000001
1: lw t0, 0(s4)
  DID_TRAP
  EXPECT_TRAP(20, 6)      /* misaligned store outside RAM */
  la s3, 1f
  li s4, 0x40000003
1: sh t0, 0(s4)
  DID_TRAP
  EXPECT_TRAP(21, 6)      /* a misaligned AMO still traps, in RAM too: store/AMO misaligned */
  la s3, 1f
  la s4, scratch + 1
1: amoadd.w t0, t0, (s4)
  DID_TRAP
  EXPECT_TRAP(22, 4)      /* so does LR: load misaligned */
  la s3, 1f
  la s4, scratch + 2
1: lr.w t0, (s4)
  DID_TRAP
  EXPECT_TRAP(23, 6)      /* and SC */
  la s3, 1f
  la s4, scratch + 2
1: sc.w t0, t0, (s4)
  DID_TRAP
  li TESTNUM, 24          /* minstret is writable: the next instruction reads the value written */
  li a0, 1000
  csrw minstret, a0
  csrr a1, minstret
  csrr a2, instret
  CHECK(a1, 1000)
  CHECK(a2, 1001)
  li TESTNUM, 25          /* ... and counts on, carrying into minstreth */
  csrw minstreth, zero
  li a0, -1
  csrw minstret, a0
  csrr a1, minstreth
  csrr a2, minstret
  csrr a3, minstreth
  CHECK(a1, 0)
  CHECK(a2, 0)
  CHECK(a3, 1)
  li TESTNUM, 26          /* mcycle(h) likewise, independently of minstret */
  li a0, 5
  csrw mcycleh, a0
  csrr a1, cycleh
  CHECK(a1, 5)
  csrr a1, minstreth
  CHECK(a1, 1)
  li TESTNUM, 27          /* trigger CSRs exist with no triggers: all read 0, writes ignored */
  li a0, -1
  csrw tselect, a0
  csrr a1, tselect
  CHECK(a1, 0)
  csrw tdata1, a0
  csrr a1, tdata1
  CHECK(a1, 0)
  csrw tdata2, a0
  csrr a1, tdata2
  CHECK(a1, 0)
  csrw tdata3, a0
  csrr a1, tdata3
  CHECK(a1, 0)
  li TESTNUM, 28          /* pmpcfg is WARL: reserved bits 0, W without R stored as neither */
  li a0, 0x00620a0f
  csrw pmpcfg0, a0
  csrr a1, pmpcfg0
  CHECK(a1, 0x0000080f)
  li a0, -1
  csrw pmpaddr15, a0
  csrr a1, pmpaddr15
  CHECK(a1, -1)
  li TESTNUM, 29          /* a locked entry ignores writes; a locked TOR entry freezes the address below */
  li a0, 0x1000
  csrw pmpaddr1, a0
  csrw pmpaddr2, a0
  li a0, 0x89008100       /* entry 1 L|R, entry 3 L|TOR|R */
  csrw pmpcfg0, a0
  csrw pmpcfg0, zero
  csrr a1, pmpcfg0
  CHECK(a1, 0x89008100)
  li a0, 0x2000
  csrw pmpaddr1, a0
  csrw pmpaddr2, a0
  csrw pmpaddr0, a0
  csrr a1, pmpaddr1
  CHECK(a1, 0x1000)
  csrr a1, pmpaddr2
  CHECK(a1, 0x1000)
  csrr a1, pmpaddr0
  CHECK(a1, 0x2000)
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
  bne t0, s4, fail
  mv s5, TESTNUM
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
scratch: .byte 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff
scratch2: .word 0, 0, 0, 0
