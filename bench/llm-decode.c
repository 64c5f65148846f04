// SPDX-License-Identifier: GPL-2.0
/*
 * llm-decode: the memory access pattern of LLM token generation (decode), for `make bench`.
 *
 *   llm-decode WEIGHTS_MB SECS [MAX_SECS]
 *
 * Holds WEIGHTS_MB MiB of int8 "weights" (a matrix of 4096 columns) in anonymous memory,
 * filled with pseudo-random bytes (quantised weights hardly compress), and for every token
 * streams through all of them once: a matrix-vector product with int32 accumulation whose
 * result becomes the next token's input vector, as in a decoder's layer stack. No weight is
 * reused within a token, so once the weights exceed the RAM the process may use, every token
 * pages most of them back in.
 *
 * One warm-up token is not counted; then tokens are generated for at least SECS seconds and
 * at least 2 tokens, but no new token starts after MAX_SECS (default 4 x SECS). Prints one
 * JSON object: tokens, seconds, tokens/s, ms per token (p50, min, max), the fill time and a
 * checksum (so the work cannot be optimised away).
 * Build: gcc -O2 -o llm-decode llm-decode.c
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#define COLS 4096

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static int8_t x[COLS];

/* One token: y = W x over all rows; the next x is folded from y. */
static int64_t token(const int8_t *w, size_t rows)
{
	int32_t acc_fold[COLS] = {0};
	int64_t sum = 0;
	size_t r;
	int c;

	for (r = 0; r < rows; r++) {
		const int8_t *row = w + r * COLS;
		int32_t acc = 0;
		for (c = 0; c < COLS; c++)
			acc += (int32_t)row[c] * (int32_t)x[c];
		acc_fold[r % COLS] += acc;
		sum += acc;
	}
	for (c = 0; c < COLS; c++)
		x[c] = (int8_t)((acc_fold[c] >> 7) ^ (acc_fold[c] >> 15));
	return sum;
}

int main(int argc, char **argv)
{
	size_t mb, bytes, rows, i;
	double secs, max_secs, t0, t_fill, start, *tok;
	int8_t *w;
	uint64_t s = 0x9E3779B97F4A7C15ull;
	int64_t check = 0;
	int n = 0, cap = 100000;

	if (argc < 3) {
		fprintf(stderr, "usage: llm-decode WEIGHTS_MB SECS [MAX_SECS]\n");
		return 2;
	}
	mb = strtoul(argv[1], NULL, 0);
	secs = atof(argv[2]);
	max_secs = argc > 3 ? atof(argv[3]) : 4 * secs;
	bytes = mb << 20;
	rows = bytes / COLS;
	w = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (w == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	/* No transparent huge pages: swap works on 4 KiB pages and THP would change the pattern. */
	madvise(w, bytes, MADV_NOHUGEPAGE);
	t0 = now();
	for (i = 0; i < bytes; i += 8) {
		s ^= s << 13;
		s ^= s >> 7;
		s ^= s << 17;
		memcpy(w + i, &s, 8);
	}
	for (i = 0; i < COLS; i++)
		x[i] = (int8_t)(i * 37 + 11);
	t_fill = now() - t0;
	tok = malloc(cap * sizeof(*tok));
	check += token(w, rows); /* warm-up */
	start = now();
	for (;;) {
		double t = now(), el = t - start;
		if (n >= 2 && el >= secs)
			break;
		if (n >= 1 && el >= max_secs)
			break;
		check += token(w, rows);
		if (n < cap)
			tok[n] = now() - t;
		n++;
	}
	{
		double el = now() - start;
		int m = n < cap ? n : cap;
		qsort(tok, m, sizeof(*tok), cmp_d);
		printf("{\"weights_mb\":%zu,\"tokens\":%d,\"secs\":%.3f,\"tokens_per_s\":%.4f,"
		       "\"token_ms_p50\":%.1f,\"token_ms_min\":%.1f,\"token_ms_max\":%.1f,"
		       "\"fill_secs\":%.3f,\"checksum\":%lld}\n",
		       mb, n, el, n / el, tok[m / 2] * 1e3, tok[0] * 1e3, tok[m - 1] * 1e3, t_fill,
		       (long long)check);
	}
	return 0;
}
