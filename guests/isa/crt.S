/* Minimal start-up for C programs in this folder: stack, bss, main, exit through tohost. */
  .section .text.init
  .globl _start
_start:
  la sp, stack_top
  la t0, __bss_start
  la t1, _end
1: bgeu t0, t1, 2f
  sw zero, 0(t0)
  addi t0, t0, 4
  j 1b
2: call main
  slli a0, a0, 1
  ori a0, a0, 1
  la t1, tohost
  sw a0, 0(t1)
3: j 3b
  .section .tohost, "aw", @progbits
  .balign 8
  .globl tohost
tohost: .word 0, 0
  .bss
  .balign 16
  .space 65536
stack_top:
