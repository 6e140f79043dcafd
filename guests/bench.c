/* bench: a compute-bound workload with no I/O, for interpreter speed measurements (bench/cpu.ts).
 *
 * Each round mixes the instruction classes a real program uses: a recursive quicksort of a
 * pseudo-random array (loads, stores, branches, calls), an FNV-1a hash over it (byte loads,
 * multiplies), modular exponentiation (mul, divu/remu), and a recursive Fibonacci (call/return
 * heavy). `bench_rounds` sets the amount of work (~400 k instructions a round, ~300 M in all); tests lower it
 * through the ELF symbol. The checksum is printed and checked, so the work cannot be skipped. */
#include "lib/lib.h"

#define N 2048

volatile uint32_t bench_rounds = 750;
static uint32_t data[N];

static uint32_t xorshift(uint32_t *s) {
  uint32_t x = *s;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return *s = x;
}

static void quicksort(uint32_t *a, int lo, int hi) {
  while (lo < hi) {
    uint32_t pivot = a[(lo + hi) / 2];
    int i = lo, j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) { uint32_t t = a[i]; a[i] = a[j]; a[j] = t; i++; j--; }
    }
    if (j - lo < hi - i) { quicksort(a, lo, j); lo = i; }
    else { quicksort(a, i, hi); hi = j; }
  }
}

static uint32_t fnv1a(const uint8_t *p, uint32_t n) {
  uint32_t h = 2166136261u;
  for (uint32_t i = 0; i < n; i++) h = (h ^ p[i]) * 16777619u;
  return h;
}

/* mod < 2^16 keeps every product in 32 bits (no libgcc 64-bit division in a -nostdlib build). */
static uint32_t modpow(uint32_t base, uint32_t exp, uint32_t mod) {
  uint32_t r = 1, b = base % mod;
  while (exp) {
    if (exp & 1) r = (r * b) % mod;
    b = (b * b) % mod;
    exp >>= 1;
  }
  return r;
}

static uint32_t divmix(uint32_t seed) {
  uint32_t acc = 0;
  for (uint32_t i = 1; i < 2000; i++) acc += (seed / i) ^ (seed % (i + 7)) ^ (int32_t)seed / -(int32_t)i;
  return acc;
}

static uint32_t fib(uint32_t n) {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

static int sorted(const uint32_t *a, int n) {
  for (int i = 1; i < n; i++) if (a[i - 1] > a[i]) return 0;
  return 1;
}

int main(void) {
  uint32_t seed = 0x12345678u, sum = 0;
  uint32_t rounds = bench_rounds;
  for (uint32_t r = 0; r < rounds; r++) {
    for (int i = 0; i < N; i++) data[i] = xorshift(&seed);
    quicksort(data, 0, N - 1);
    if (!sorted(data, N)) { printf("bench: sort failed in round %u\n", r); return 2; }
    sum ^= fnv1a((const uint8_t *)data, sizeof data);
    sum += modpow(data[r % N] | 1, data[(r * 7) % N], 65521u);
    sum ^= divmix(seed);
    sum += fib(16 + (r & 3));
    sum = (sum << 7) | (sum >> 25);
  }
  printf("bench: %u rounds, checksum %08x\n", rounds, sum);
  return 0;
}
