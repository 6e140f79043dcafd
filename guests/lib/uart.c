/* Console output on the 16550 UART. The device transmits instantly (LSR.THRE is always set), so
 * there is no busy wait; the check stays so the code is right on a real 16550 too. */
#include <stdarg.h>
#include "lib.h"

void uart_putc(char c) {
  while ((REG8(UART_BASE, UART_LSR) & UART_LSR_THRE) == 0) {}
  REG8(UART_BASE, UART_THR) = (uint8_t)c;
}

void uart_puts(const char *s) {
  while (*s) uart_putc(*s++);
}

static void put_number(uint32_t v, uint32_t base, int width, char pad, int negative) {
  char digits[12];
  int n = 0;
  do {
    uint32_t d = v % base;
    digits[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
    v /= base;
  } while (v != 0);
  if (negative) digits[n++] = '-';
  while (width-- > n) uart_putc(pad);
  while (n > 0) uart_putc(digits[--n]);
}

void printf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  for (; *fmt; fmt++) {
    if (*fmt != '%') { uart_putc(*fmt); continue; }
    fmt++;
    char pad = ' ';
    int width = 0;
    if (*fmt == '0') { pad = '0'; fmt++; }
    while (*fmt >= '0' && *fmt <= '9') width = width * 10 + (*fmt++ - '0');
    switch (*fmt) {
      case 'd': { int32_t v = va_arg(ap, int32_t); put_number(v < 0 ? -(uint32_t)v : (uint32_t)v, 10, width, pad, v < 0); break; }
      case 'u': put_number(va_arg(ap, uint32_t), 10, width, pad, 0); break;
      case 'x': put_number(va_arg(ap, uint32_t), 16, width, pad, 0); break;
      case 's': uart_puts(va_arg(ap, const char *)); break;
      case 'c': uart_putc((char)va_arg(ap, int)); break;
      case '%': uart_putc('%'); break;
      case 0: va_end(ap); return;
      default: uart_putc('%'); uart_putc(*fmt); break;
    }
  }
  va_end(ap);
}
