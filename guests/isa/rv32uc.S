/* RV32C: every compressed instruction of the three quadrants (unprivileged ch. 16), written with
 * explicit c.* mnemonics so the assembler cannot pick the 32-bit form. */
#include "test.h"
  .option rvc
START
  li TESTNUM, 1           /* c.addi4spn */
  la sp, stack
  c.addi4spn s0, sp, 1020
  sub a0, s0, sp
  CHECK(a0, 1020)
  li TESTNUM, 2           /* c.sw / c.lw */
  la s1, buf
  li a5, 0x13579bdf
  c.sw a5, 124(s1)
  c.lw a4, 124(s1)
  CHECK(a4, 0x13579bdf)
  li TESTNUM, 3           /* c.nop, c.addi */
  c.nop
  li a0, 10
  c.addi a0, -11
  CHECK(a0, -1)
  li TESTNUM, 4           /* c.li */
  c.li a0, -32
  CHECK(a0, -32)
  li TESTNUM, 5           /* c.addi16sp */
  la sp, stack
  mv a1, sp
  c.addi16sp sp, -512
  sub a0, a1, sp
  CHECK(a0, 512)
  c.addi16sp sp, 496
  sub a0, a1, sp
  CHECK(a0, 16)
  li TESTNUM, 6           /* c.lui (sign-extends) */
  c.lui a0, 0xfffe1
  CHECK(a0, 0xfffe1000)
  c.lui a0, 1
  CHECK(a0, 0x1000)
  li TESTNUM, 7           /* c.srli, c.srai, c.andi */
  li s0, 0x80000000
  c.srli s0, 31
  CHECK(s0, 1)
  li s0, 0x80000000
  c.srai s0, 4
  CHECK(s0, 0xf8000000)
  li s0, 0xff
  c.andi s0, -16
  CHECK(s0, 0xf0)
  li TESTNUM, 8           /* c.sub, c.xor, c.or, c.and */
  li s0, 10
  li s1, 3
  c.sub s0, s1
  CHECK(s0, 7)
  c.xor s0, s1
  CHECK(s0, 4)
  c.or s0, s1
  CHECK(s0, 7)
  li s1, 5
  c.and s0, s1
  CHECK(s0, 5)
  li TESTNUM, 9           /* c.j */
  c.j 1f
  j fail
1:
  li TESTNUM, 10          /* c.jal links pc+2 */
  c.jal 2f
3: j fail
2: la a0, 3b
  bne ra, a0, fail
  li TESTNUM, 11          /* c.beqz, c.bnez */
  li s0, 0
  c.beqz s0, 4f
  j fail
4: c.bnez s0, fail2
  li s0, 1
  c.bnez s0, 5f
  j fail
5: c.beqz s0, fail2
  li TESTNUM, 12          /* c.slli */
  li a0, 3
  c.slli a0, 30
  CHECK(a0, 0xc0000000)
  li TESTNUM, 13          /* c.swsp / c.lwsp */
  la sp, stack
  li a0, 0x2468ace0
  c.swsp a0, 252(sp)
  c.lwsp a1, 252(sp)
  CHECK(a1, 0x2468ace0)
  li TESTNUM, 14          /* c.jr */
  la a0, 6f
  c.jr a0
  j fail
6:
  li TESTNUM, 15          /* c.jalr links pc+2 */
  la a0, 7f
  c.jalr a0
8: j fail
7: la a1, 8b
  bne ra, a1, fail
  li TESTNUM, 16          /* c.mv, c.add */
  li a1, 7
  c.mv a0, a1
  CHECK(a0, 7)
  c.add a0, a1
  CHECK(a0, 14)
  li TESTNUM, 17          /* backward c.bnez loop */
  li s0, 5
  li a0, 0
9: c.addi a0, 2
  c.addi s0, -1
  c.bnez s0, 9b
  CHECK(a0, 10)
  li TESTNUM, 18          /* c.sw / c.lw from a misaligned base complete (no trap) */
  la s1, buf
  addi s1, s1, 1
  li a5, 0x11223344
  c.sw a5, 0(s1)
  c.lw a4, 0(s1)
  CHECK(a4, 0x11223344)
  lbu a3, 0(s1)
  CHECK(a3, 0x44)
  lbu a3, -1(s1)
  CHECK(a3, 0)
  li TESTNUM, 19          /* c.swsp / c.lwsp from a misaligned sp */
  la sp, stack
  addi sp, sp, 2
  c.swsp a5, 4(sp)
  c.lwsp a1, 4(sp)
  CHECK(a1, 0x11223344)
  lhu a3, 6(sp)            /* the high half of the word at sp + 4 */
  CHECK(a3, 0x1122)
  j pass
fail2: j fail
END
  .bss
  .balign 16
buf: .space 256
  .space 1024
stack: .space 1024
