// SPDX-License-Identifier: GPL-2.0
/*
 * kv: a memcached-shaped in-memory key-value store under random access, for `make bench`.
 *
 *   kv DATA_MB SECS [GET_PERCENT]
 *
 * DATA_MB MiB of 1 KiB items (16-byte key, 1008-byte value) in a hash-indexed table in
 * anonymous memory. After loading every key, clients' requests are replayed for SECS seconds
 * (after 2 s of warm-up): a uniformly random key, GET (default 90 %: find the slot, compare the
 * key, copy the value out and check it) or SET (write a new value). Each operation is timed.
 * Prints one JSON object: operations, ops/s, p50/p99/p99.9 latency in microseconds.
 * Build: gcc -O2 -o kv kv.c
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#define ITEM 1024
#define KEYLEN 16
#define VALLEN (ITEM - KEYLEN)

struct item {
	uint8_t key[KEYLEN];
	uint8_t val[VALLEN];
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static uint64_t rng = 0x2545F4914F6CDD1Dull;
static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static uint64_t mix(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static size_t n, stride;
static struct item *table;

/* The slot of key k: a multiplicative permutation of 0..n-1 (stride coprime to n). */
static size_t slot_of(uint64_t k) { return (size_t)((k * stride) % n); }

static void make_key(uint64_t k, uint8_t *key)
{
	uint64_t a = k, b = mix(k);
	memcpy(key, &a, 8);
	memcpy(key + 8, &b, 8);
}

static void fill_value(uint64_t k, uint32_t version, uint8_t *val)
{
	uint64_t s = mix(k * 1000003 + version) | 1;
	size_t i;
	for (i = 0; i + 8 <= VALLEN; i += 8) {
		s ^= s << 13;
		s ^= s >> 7;
		s ^= s << 17;
		memcpy(val + i, &s, 8);
	}
	memcpy(val + VALLEN - 4, &version, 4);
}

/* The first 8 bytes fill_value writes for (k, version): a GET checks them. */
static uint64_t first_word(uint64_t k, uint32_t version)
{
	uint64_t s = mix(k * 1000003 + version) | 1;
	s ^= s << 13;
	s ^= s >> 7;
	s ^= s << 17;
	return s;
}

static uint64_t gcd(uint64_t a, uint64_t b)
{
	while (b) {
		uint64_t t = a % b;
		a = b;
		b = t;
	}
	return a;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	size_t mb, k, nlat = 0, cap = 1 << 22;
	double secs;
	int get_pct;
	uint64_t *lat, t_load, t_start, t_end, warm_end, ops = 0, gets = 0, sets = 0, bad = 0;
	uint8_t key[KEYLEN], out[VALLEN];

	if (argc < 3) {
		fprintf(stderr, "usage: kv DATA_MB SECS [GET_PERCENT]\n");
		return 2;
	}
	mb = strtoul(argv[1], NULL, 0);
	secs = atof(argv[2]);
	get_pct = argc > 3 ? atoi(argv[3]) : 90;
	n = (mb << 20) / ITEM;
	for (stride = (size_t)(n * 0.618) | 1; gcd(stride, n) != 1; stride += 2)
		;
	table = mmap(NULL, n * ITEM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (table == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	madvise(table, n * ITEM, MADV_NOHUGEPAGE);
	lat = malloc(cap * sizeof(*lat));
	t_load = now_ns();
	for (k = 0; k < n; k++) {
		struct item *it = &table[slot_of(k)];
		make_key(k, it->key);
		fill_value(k, 0, it->val);
	}
	t_load = now_ns() - t_load;
	t_start = now_ns();
	warm_end = t_start + 2000000000ull;
	t_end = warm_end + (uint64_t)(secs * 1e9);
	for (;;) {
		uint64_t t = now_ns(), k = next_rand() % n, d;
		struct item *it = &table[slot_of(k)];
		int is_get = (int)(next_rand() % 100) < get_pct;
		if (t >= t_end)
			break;
		make_key(k, key);
		if (memcmp(it->key, key, KEYLEN)) {
			bad++;
		} else if (is_get) {
			uint32_t version;
			uint64_t first, want;
			memcpy(out, it->val, VALLEN);
			memcpy(&version, out + VALLEN - 4, 4);
			memcpy(&first, out, 8);
			want = first_word(k, version);
			if (first != want)
				bad++;
		} else {
			uint32_t version;
			memcpy(&version, it->val + VALLEN - 4, 4);
			fill_value(k, version + 1, it->val);
		}
		d = now_ns() - t;
		if (t >= warm_end) {
			ops++;
			if (is_get)
				gets++;
			else
				sets++;
			if (nlat < cap)
				lat[nlat++] = d;
		}
	}
	qsort(lat, nlat, sizeof(*lat), cmp_u64);
#define P(p) (nlat ? lat[(size_t)((p) / 100.0 * (nlat - 1))] / 1000.0 : 0)
	printf("{\"data_mb\":%zu,\"items\":%zu,\"secs\":%.3f,\"ops\":%llu,\"gets\":%llu,\"sets\":%llu,"
	       "\"ops_per_s\":%.1f,\"p50_us\":%.2f,\"p99_us\":%.2f,\"p999_us\":%.2f,\"load_secs\":%.3f,"
	       "\"bad\":%llu}\n",
	       mb, n, secs, (unsigned long long)ops, (unsigned long long)gets, (unsigned long long)sets,
	       ops / secs, P(50), P(99), P(99.9), t_load / 1e9, (unsigned long long)bad);
	return bad ? 1 : 0;
}
