/* A compute-bound loop for measuring the hart's speed: integer math, memory and branches, the mix
 * a compiled C program has. Returns 0 when the checksum matches the expected value. */
#include <stdint.h>

#define N 4096
static uint32_t table[N];

static uint32_t xorshift(uint32_t x) {
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return x;
}

/* Insertion-sort-like passes and a hash over the table. */
static uint32_t round_(uint32_t seed) {
  uint32_t x = seed;
  for (int i = 0; i < N; i++) {
    x = xorshift(x);
    table[i] = x % 1000u;
  }
  uint32_t h = 2166136261u;
  for (int i = 1; i < N; i++) {
    uint32_t v = table[i];
    if (v < table[i - 1]) table[i] = table[i - 1] - v;
    h = (h ^ table[i]) * 16777619u;
    if ((h & 7) == 3) h += (uint32_t)i * 3u;
  }
  return h;
}

volatile uint32_t sink;

int main(void) {
  uint32_t acc = 0;
  for (uint32_t r = 1; r <= 200; r++) acc += round_(r * 2654435761u);
  sink = acc;
  return 0;
}
