/* RV32M: multiply and divide, including the spec's division-by-zero and overflow results
 * (unprivileged ch. 7, Table 7.1). */
#include "test.h"
  .option norvc
START
  TEST_RR(1, mul, 0x00000000, 0x00010000, 0x00010000)
  TEST_RR(2, mul, 0xfffffffe, 0xffffffff, 2)
  TEST_RR(3, mul, 0x00000001, 0xffffffff, 0xffffffff)
  TEST_RR(4, mulh, 0x00000001, 0x00010000, 0x00010000)
  TEST_RR(5, mulh, 0xffffffff, 0xffffffff, 1)
  TEST_RR(6, mulh, 0x00000000, 0xffffffff, 0xffffffff)
  TEST_RR(7, mulh, 0x40000000, 0x80000000, 0x80000000)
  TEST_RR(8, mulh, 0xc0000000, 0x80000000, 0x7fffffff)
  TEST_RR(9, mulhu, 0xfffffffe, 0xffffffff, 0xffffffff)
  TEST_RR(10, mulhu, 0x00000000, 0xffffffff, 1)
  TEST_RR(11, mulhu, 0x7fffffff, 0xffffffff, 0x80000000)
  TEST_RR(12, mulhsu, 0xffffffff, 0xffffffff, 0xffffffff)
  TEST_RR(13, mulhsu, 0x00000000, 1, 0xffffffff)
  TEST_RR(14, mulhsu, 0xc0000000, 0x80000000, 0x80000000)
  TEST_RR(15, div, 3, 20, 6)
  TEST_RR(16, div, -3, -20, 6)
  TEST_RR(17, div, -3, 20, -6)
  TEST_RR(18, div, 3, -20, -6)
  TEST_RR(19, div, 0xffffffff, 20, 0)            /* x / 0 = -1 */
  TEST_RR(20, div, 0x80000000, 0x80000000, -1)   /* overflow: -2^31 / -1 = -2^31 */
  TEST_RR(21, divu, 3, 20, 6)
  TEST_RR(22, divu, 0x2aaaaaa7, -20, 6)
  TEST_RR(23, divu, 0xffffffff, 20, 0)           /* x / 0 = 2^32 - 1 */
  TEST_RR(24, divu, 0, 0x80000000, -1)
  TEST_RR(25, rem, 2, 20, 6)
  TEST_RR(26, rem, -2, -20, 6)
  TEST_RR(27, rem, 2, 20, -6)
  TEST_RR(28, rem, -2, -20, -6)
  TEST_RR(29, rem, 20, 20, 0)                    /* x % 0 = x */
  TEST_RR(30, rem, 0, 0x80000000, -1)            /* overflow remainder = 0 */
  TEST_RR(31, remu, 2, 20, 6)
  TEST_RR(32, remu, 2, -20, 6)
  TEST_RR(33, remu, 0xffffffec, -20, 0)
  TEST_RR(34, remu, 0x80000000, 0x80000000, -1)
  j pass
END
