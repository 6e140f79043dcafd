/* RV32I: ALU, shifts, compares, LUI/AUIPC, branches, jumps, loads and stores (unprivileged ch. 2). */
#include "test.h"
  .option norvc
START
  TEST_RR(1, add, 0x00000003, 1, 2)
  TEST_RR(2, add, 0x80000000, 0x7fffffff, 1)
  TEST_RR(3, sub, 0xffffffff, 0, 1)
  TEST_RR(4, sub, 0x7fffffff, 0x80000000, 1)
  TEST_RR(5, and, 0x0f000f00, 0xff00ff00, 0x0f0f0f0f)
  TEST_RR(6, or,  0xff0fff0f, 0xff00ff00, 0x0f0f0f0f)
  TEST_RR(7, xor, 0xf00ff00f, 0xff00ff00, 0x0f0f0f0f)
  TEST_RR(8, sll, 0x80000000, 1, 31)
  TEST_RR(9, sll, 0x00000002, 1, 33)          /* only rs2[4:0] count */
  TEST_RR(10, srl, 0x00000001, 0x80000000, 31)
  TEST_RR(11, sra, 0xffffffff, 0x80000000, 31)
  TEST_RR(12, sra, 0xc0000000, 0x80000000, 0xffffffe1)
  TEST_RR(13, slt, 1, 0xffffffff, 0)
  TEST_RR(14, slt, 0, 0, 0xffffffff)
  TEST_RR(15, sltu, 0, 0xffffffff, 0)
  TEST_RR(16, sltu, 1, 0, 0xffffffff)
  TEST_RI(17, addi, 0xffffffff, 0, -1)
  TEST_RI(18, addi, 0x800007fe, 0x7fffffff, 0x7ff)
  TEST_RI(19, andi, 0x00000700, 0xff00ff00, 0x70f)
  TEST_RI(20, ori,  0xffffff0f, 0xff00ff00, -241)
  TEST_RI(21, xori, 0x00ff00ff, 0xff00ff00, -1)
  TEST_RI(22, slli, 0x80000000, 1, 31)
  TEST_RI(23, srli, 0x00000001, 0x80000000, 31)
  TEST_RI(24, srai, 0xffffffff, 0x80000000, 31)
  TEST_RI(25, slti, 1, 0xfffff800, -1)
  TEST_RI(26, sltiu, 1, 5, -1)               /* imm sign-extends, then compares unsigned */
  TEST_RI(27, sltiu, 0, 0xffffffff, 5)

  li TESTNUM, 28          /* LUI */
  lui a0, 0xfffff
  CHECK(a0, 0xfffff000)
  li TESTNUM, 29          /* AUIPC */
1: auipc a0, 1
  la a1, 1b
  sub a0, a0, a1
  CHECK(a0, 0x1000)
  li TESTNUM, 30          /* writes to x0 are dropped */
  li a0, 5
  add x0, a0, a0
  mv a1, x0
  CHECK(a1, 0)

  TEST_BR(31, beq, 1, 3, 3)
  TEST_BR(32, beq, 0, 3, 4)
  TEST_BR(33, bne, 1, 3, 4)
  TEST_BR(34, bne, 0, 3, 3)
  TEST_BR(35, blt, 1, -1, 0)
  TEST_BR(36, blt, 0, 0, -1)
  TEST_BR(37, bge, 1, 0, -1)
  TEST_BR(38, bge, 1, 7, 7)
  TEST_BR(39, bltu, 1, 0, -1)
  TEST_BR(40, bltu, 0, -1, 0)
  TEST_BR(41, bgeu, 1, -1, 0)
  TEST_BR(42, bgeu, 0, 0, -1)
  li TESTNUM, 43          /* backward branch loop */
  li a0, 0
  li a1, 10
2: addi a0, a0, 1
  blt a0, a1, 2b
  CHECK(a0, 10)

  li TESTNUM, 44          /* JAL links pc+4 */
  jal ra, 3f
4: j fail
3: la a1, 4b
  bne ra, a1, fail
  li TESTNUM, 45          /* JALR clears bit 0 of the target and links before jumping */
  la a1, 5f
  addi a1, a1, 1
  jalr a2, 0(a1)
  j fail
5: la a3, 5b
  addi a3, a3, -4
  bne a2, a3, fail
  li TESTNUM, 46          /* JALR with rd == rs1 uses the old rs1 */
  la a1, 6f
  jalr a1, 0(a1)
7: j fail
6: la a2, 7b
  bne a1, a2, fail

  la s0, data
  li TESTNUM, 47
  lb a0, 0(s0)
  CHECK(a0, 0xffffff80)
  li TESTNUM, 48
  lbu a0, 0(s0)
  CHECK(a0, 0x80)
  li TESTNUM, 49
  lh a0, 2(s0)
  CHECK(a0, 0xffff8001)
  li TESTNUM, 50
  lhu a0, 2(s0)
  CHECK(a0, 0x8001)
  li TESTNUM, 51
  lw a0, 4(s0)
  CHECK(a0, 0x12345678)
  li TESTNUM, 52
  lw a0, -4(s0)
  CHECK(a0, 0xcafef00d)
  li TESTNUM, 53          /* sb/sh/sw then read back as bytes */
  li a1, 0xaabbccdd
  sw a1, 8(s0)
  li a2, 0x11
  sb a2, 9(s0)
  li a2, 0x2233
  sh a2, 10(s0)
  lw a0, 8(s0)
  CHECK(a0, 0x223311dd)
  li TESTNUM, 54
  lbu a0, 11(s0)
  CHECK(a0, 0x22)
  j pass
END
  .data
  .word 0xcafef00d
data:
  .byte 0x80, 0x00, 0x01, 0x80
  .word 0x12345678
  .word 0, 0
