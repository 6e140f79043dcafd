/* mark: a CoreMark-like mixed workload of our own, for CPU speed measurements (bench/cpu.ts).
 *
 * Each iteration runs the four kinds of work CoreMark mixes, on data seeded from the iteration:
 *  - list: a linked list of 256 nodes in a static pool — find by value, reverse, merge sort by
 *    value and back by index (pointer chasing, unpredictable branches);
 *  - matrix: 24x24 16-bit matrices — add a constant, multiply by a constant, by a vector, by a
 *    matrix, and sum with a bit extract (multiply-accumulate loops);
 *  - state: a scanner that classifies the tokens of a 512-byte text (integers, decimals,
 *    exponents, invalid) through a switch-based state machine (byte loads, a jump table);
 *  - crc: CRC-16 over every result (shifts and xors).
 * Every kernel checks its own result (the list is sorted, the matrix product matches a second
 * computation, the scanner's counts add up), so the work cannot go wrong unseen; the CRC of all of
 * it is printed. `mark_iterations` sets the amount of work (~420 k instructions an iteration,
 * ~300 M in all); tests lower it through the ELF symbol. */
#include "lib/lib.h"

volatile uint32_t mark_iterations = 720;

static uint16_t crc16(uint16_t crc, uint32_t v) {
  for (int i = 0; i < 32; i++) {
    uint32_t bit = (v ^ crc) & 1;
    v >>= 1;
    crc >>= 1;
    if (bit) crc ^= 0xa001;
  }
  return crc;
}

/* --- list ---------------------------------------------------------------------------------- */

#define LIST_N 256

struct node {
  struct node *next;
  int16_t value;
  int16_t index;
};

static struct node pool[LIST_N];

static struct node *list_build(uint32_t seed) {
  struct node *head = 0;
  for (int i = LIST_N - 1; i >= 0; i--) {
    seed = seed * 1103515245u + 12345u;
    pool[i].value = (int16_t)(seed >> 16);
    pool[i].index = (int16_t)i;
    pool[i].next = head;
    head = &pool[i];
  }
  return head;
}

static struct node *list_find(struct node *p, int16_t value) {
  while (p && p->value != value) p = p->next;
  return p;
}

static struct node *list_reverse(struct node *p) {
  struct node *r = 0;
  while (p) {
    struct node *n = p->next;
    p->next = r;
    r = p;
    p = n;
  }
  return r;
}

static int by_value(const struct node *a, const struct node *b) { return a->value - b->value; }
static int by_index(const struct node *a, const struct node *b) { return a->index - b->index; }

/* Bottom-up merge sort of a list (CoreMark's core_list_mergesort), with a comparison callback. */
static struct node *list_sort(struct node *list, int (*cmp)(const struct node *, const struct node *)) {
  for (int insize = 1;; insize *= 2) {
    struct node *p = list, *tail = 0;
    int merges = 0;
    list = 0;
    while (p) {
      merges++;
      struct node *q = p;
      int psize = 0;
      for (int i = 0; i < insize && q; i++) { psize++; q = q->next; }
      int qsize = insize;
      while (psize > 0 || (qsize > 0 && q)) {
        struct node *e;
        if (psize == 0) { e = q; q = q->next; qsize--; }
        else if (qsize == 0 || !q) { e = p; p = p->next; psize--; }
        else if (cmp(p, q) <= 0) { e = p; p = p->next; psize--; }
        else { e = q; q = q->next; qsize--; }
        if (tail) tail->next = e; else list = e;
        tail = e;
      }
      p = q;
    }
    tail->next = 0;
    if (merges <= 1) return list;
  }
}

static uint16_t list_work(uint32_t seed, int *ok) {
  struct node *head = list_build(seed);
  uint16_t crc = 0;
  int found = 0;
  for (int i = 0; i < 32; i++) {
    struct node *n = list_find(head, pool[((uint32_t)i * 37u + seed) % LIST_N].value);
    if (n) { found++; crc = crc16(crc, (uint32_t)(uint16_t)n->index); }
    if (!list_find(head, (int16_t)(i * 911))) crc = crc16(crc, (uint32_t)i);
  }
  head = list_reverse(head);
  head = list_sort(head, by_value);
  int count = 0;
  for (struct node *p = head; p; p = p->next, count++) {
    if (p->next && p->value > p->next->value) *ok = 0;
    crc = crc16(crc, (uint32_t)(uint16_t)p->value);
  }
  head = list_sort(head, by_index);
  for (int i = 0; head; head = head->next, i++) if (head->index != i) *ok = 0;
  if (count != LIST_N || found != 32) *ok = 0;
  return crc;
}

/* --- matrix -------------------------------------------------------------------------------- */

#define MAT_N 24

static int16_t ma[MAT_N * MAT_N], mb[MAT_N * MAT_N];
static int32_t mc[MAT_N * MAT_N], vec[MAT_N];

static uint16_t matrix_work(uint32_t seed, int *ok) {
  for (int i = 0; i < MAT_N * MAT_N; i++) {
    seed = seed * 1664525u + 1013904223u;
    ma[i] = (int16_t)((seed >> 20) & 0xff) - 128;
    mb[i] = (int16_t)((seed >> 8) & 0xff) - 128;
  }
  int16_t k = (int16_t)(seed & 0x3f) + 1;
  for (int i = 0; i < MAT_N * MAT_N; i++) ma[i] = (int16_t)(ma[i] + k);
  uint16_t crc = 0;
  int32_t sum = 0;
  for (int i = 0; i < MAT_N * MAT_N; i++) { mc[i] = (int32_t)ma[i] * k; sum += mc[i]; }
  crc = crc16(crc, (uint32_t)sum);
  for (int i = 0; i < MAT_N; i++) {
    int32_t acc = 0;
    for (int j = 0; j < MAT_N; j++) acc += (int32_t)ma[i * MAT_N + j] * mb[j];
    vec[i] = acc;
    crc = crc16(crc, (uint32_t)acc);
  }
  for (int i = 0; i < MAT_N; i++)
    for (int j = 0; j < MAT_N; j++) {
      int32_t acc = 0;
      for (int x = 0; x < MAT_N; x++) acc += (int32_t)ma[i * MAT_N + x] * mb[x * MAT_N + j];
      mc[i * MAT_N + j] = acc;
    }
  /* Check: row sums of A·B equal A times the row sums of B. */
  for (int x = 0; x < MAT_N; x++) {
    int32_t s = 0;
    for (int j = 0; j < MAT_N; j++) s += mb[x * MAT_N + j];
    vec[x] = s;
  }
  for (int i = 0; i < MAT_N; i++) {
    int32_t lhs = 0, rhs = 0;
    for (int j = 0; j < MAT_N; j++) lhs += mc[i * MAT_N + j];
    for (int x = 0; x < MAT_N; x++) rhs += (int32_t)ma[i * MAT_N + x] * vec[x];
    if (lhs != rhs) *ok = 0;
    crc = crc16(crc, (uint32_t)((lhs >> 3) & 0xffff));
  }
  return crc;
}

/* --- state machine ------------------------------------------------------------------------- */

#define TEXT_N 512

enum state { START, INT, SIGN, DOT, FRAC, EXP, EXPSIGN, EXPINT, INVALID, NSTATES };

static char text[TEXT_N + 1];
static const char *const tokens[] = { "5012", "1.23e-4", "-190", "+7.5", "x3", "0.0001", "9e9", "-.", "42", "3.14E+2" };

static void text_build(uint32_t seed) {
  int n = 0;
  while (n < TEXT_N - 10) {
    seed = seed * 1103515245u + 12345u;
    const char *t = tokens[(seed >> 16) % 10];
    while (*t && n < TEXT_N - 1) text[n++] = *t++;
    text[n++] = ',';
  }
  text[n] = 0;
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* One token: returns the final state; counts every transition out of a state. */
static enum state scan(const char **pp, uint32_t *moves) {
  const char *p = *pp;
  enum state s = START;
  for (char c; (c = *p) != 0 && c != ','; p++) {
    enum state from = s;
    switch (s) {
      case START: s = is_digit(c) ? INT : (c == '+' || c == '-') ? SIGN : c == '.' ? DOT : INVALID; break;
      case SIGN: s = is_digit(c) ? INT : c == '.' ? DOT : INVALID; break;
      case INT: s = is_digit(c) ? INT : c == '.' ? DOT : (c == 'e' || c == 'E') ? EXP : INVALID; break;
      case DOT: s = is_digit(c) ? FRAC : INVALID; break;
      case FRAC: s = is_digit(c) ? FRAC : (c == 'e' || c == 'E') ? EXP : INVALID; break;
      case EXP: s = is_digit(c) ? EXPINT : (c == '+' || c == '-') ? EXPSIGN : INVALID; break;
      case EXPSIGN: s = is_digit(c) ? EXPINT : INVALID; break;
      case EXPINT: s = is_digit(c) ? EXPINT : INVALID; break;
      default: break;
    }
    if (s != from) moves[from]++;
  }
  *pp = *p ? p + 1 : p;
  return s;
}

static uint16_t state_work(uint32_t seed, int *ok) {
  text_build(seed);
  uint32_t finals[NSTATES] = { 0 }, moves[NSTATES] = { 0 };
  int tokens_seen = 0, commas = 0;
  for (const char *p = text; *p;) { finals[scan(&p, moves)]++; tokens_seen++; }
  for (const char *p = text; *p; p++) commas += *p == ',';
  uint32_t total = 0;
  uint16_t crc = 0;
  for (int s = 0; s < NSTATES; s++) { total += finals[s]; crc = crc16(crc, finals[s]); crc = crc16(crc, moves[s]); }
  if ((int)total != tokens_seen || tokens_seen != commas) *ok = 0;
  return crc;
}

int main(void) {
  uint32_t iterations = mark_iterations;
  uint16_t crc = 0;
  int ok = 1;
  for (uint32_t it = 0; it < iterations && ok; it++) {
    uint32_t seed = 0x3415u + it * 0x9e3779b9u;
    crc = crc16(crc, list_work(seed, &ok));
    crc = crc16(crc, matrix_work(seed, &ok));
    crc = crc16(crc, state_work(seed, &ok));
  }
  if (!ok) { printf("mark: a self-check failed\n"); return 2; }
  printf("mark: %u iterations, crc %04x\n", iterations, (uint32_t)crc);
  return 0;
}
