// SPDX-License-Identifier: MIT
/* Latency distributions: percentiles on known data, error bound, merge, duration formatting. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "latency.h"

Test(latency, empty_is_zero)
{
	struct zt_latency l;

	zt_latency_init(&l);
	cr_assert_eq(l.count, 0);
	cr_assert_null(l.buckets, "no memory before the first value");
	cr_assert_eq(zt_latency_percentile(&l, 50), 0);
	cr_assert_eq(zt_latency_percentile(&l, 100), 0);
	cr_assert_eq(zt_latency_mean(&l), 0);
	zt_latency_free(&l);
}

Test(latency, single_value_is_exact)
{
	static const uint64_t values[] = {0, 1, 15, 16, 17, 123457, 1000000007, UINT64_MAX};

	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		struct zt_latency l;

		zt_latency_init(&l);
		cr_assert_eq(zt_latency_add(&l, values[i]), 0);
		cr_assert_eq(l.count, 1);
		cr_assert_eq(l.min_ns, values[i]);
		cr_assert_eq(l.max_ns, values[i]);
		cr_assert_eq(l.sum_ns, values[i]);
		cr_assert_eq(zt_latency_percentile(&l, 0), values[i]);
		cr_assert_eq(zt_latency_percentile(&l, 50), values[i], "p50 of %llu",
			     (unsigned long long)values[i]);
		cr_assert_eq(zt_latency_percentile(&l, 99.9), values[i]);
		cr_assert_eq(zt_latency_percentile(&l, 100), values[i]);
		zt_latency_free(&l);
		cr_assert_null(l.buckets);
		cr_assert_eq(l.count, 0);
	}
}

/* 1, 2, ..., 1000 microseconds. */
static void add_uniform_us(struct zt_latency *l, unsigned int from, unsigned int to)
{
	for (unsigned int us = from; us <= to; us++)
		cr_assert_eq(zt_latency_add(l, us * 1000ULL), 0);
}

Test(latency, uniform_microseconds)
{
	struct zt_latency l;
	uint64_t p50, p90;

	zt_latency_init(&l);
	add_uniform_us(&l, 1, 1000);
	cr_assert_eq(l.count, 1000);
	cr_assert_eq(l.sum_ns, 500500000ULL);
	cr_assert_eq(l.min_ns, 1000);
	cr_assert_eq(l.max_ns, 1000000);
	cr_assert_eq(zt_latency_mean(&l), 500500);

	/* Rank 500 = 500000 ns, in the bucket [491520, 507904) of [2^18, 2^19) split by 16. */
	p50 = zt_latency_percentile(&l, 50);
	cr_assert_eq(p50, 507903);
	cr_assert(p50 >= 500000 && p50 <= 500000 + 500000 / 16);
	/* Rank 900 = 900000 ns, in [884736, 917504). */
	p90 = zt_latency_percentile(&l, 90);
	cr_assert_eq(p90, 917503);
	cr_assert(p90 >= 900000 && p90 <= 900000 + 900000 / 16);
	/* Rank 990 = 990000 ns, in [983040, 1015808): the upper bound is clamped to max. */
	cr_assert_eq(zt_latency_percentile(&l, 99), 1000000);
	cr_assert_eq(zt_latency_percentile(&l, 0), 1000);
	cr_assert_eq(zt_latency_percentile(&l, -5), 1000, "p below 0 is clamped");
	cr_assert_eq(zt_latency_percentile(&l, 100), 1000000);
	cr_assert_eq(zt_latency_percentile(&l, 250), 1000000, "p above 100 is clamped");
	/* Rank ceil(0.15) = 1: the bucket of 1000 ns is [992, 1023]. */
	cr_assert_eq(zt_latency_percentile(&l, 0.015), 1023);
	zt_latency_free(&l);
}

Test(latency, small_values_are_exact)
{
	struct zt_latency l;

	zt_latency_init(&l);
	for (uint64_t v = 0; v < 32; v++)
		zt_latency_add(&l, v);
	/* Below 32 every value has its own bucket: rank r holds value r - 1. */
	cr_assert_eq(zt_latency_percentile(&l, 50), 15);
	cr_assert_eq(zt_latency_percentile(&l, 25), 7);
	cr_assert_eq(zt_latency_percentile(&l, 75), 23);
	zt_latency_free(&l);
}

/*
 * For v and a larger value, p50 is v's bucket's upper bound: it must be >= v and less than
 * v + v/16 + 1 (the width of a bucket is at most 1/16 of its lower bound).
 */
Test(latency, relative_error_bound)
{
	uint64_t x = 88172645463325252ULL;
	int checked = 0;

	for (int k = 0; k < 64; k++) {
		uint64_t top = 1ULL << k;
		uint64_t values[4] = {top, top - 1, top + 1, 0};

		/* and a pseudo-random value in [2^k, 2^(k+1)) (xorshift64) */
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		values[3] = top | (k ? x >> (64 - k) : 0);
		for (size_t i = 0; i < 4; i++) {
			uint64_t v = values[i], p;
			struct zt_latency l;

			zt_latency_init(&l);
			zt_latency_add(&l, v);
			zt_latency_add(&l, UINT64_MAX);
			p = zt_latency_percentile(&l, 50);
			cr_assert(p >= v, "p50 %llu below value %llu", (unsigned long long)p,
				  (unsigned long long)v);
			cr_assert(p - v <= v / 16, "p50 %llu too far above %llu",
				  (unsigned long long)p, (unsigned long long)v);
			zt_latency_free(&l);
			checked++;
		}
	}
	cr_assert_eq(checked, 64 * 4);
}

Test(latency, merge_equals_adding_all)
{
	struct zt_latency a, b, all, empty;

	zt_latency_init(&a);
	zt_latency_init(&b);
	zt_latency_init(&all);
	zt_latency_init(&empty);
	add_uniform_us(&a, 1, 400);
	add_uniform_us(&b, 401, 1000);
	add_uniform_us(&all, 1, 1000);

	cr_assert_eq(zt_latency_merge(&a, &b), 0);
	cr_assert_eq(a.count, 1000);
	cr_assert_eq(a.sum_ns, all.sum_ns);
	cr_assert_eq(a.min_ns, 1000);
	cr_assert_eq(a.max_ns, 1000000);
	cr_assert_eq(memcmp(a.buckets, all.buckets, ZT_LATENCY_BUCKETS * sizeof(*a.buckets)), 0);
	cr_assert_eq(zt_latency_percentile(&a, 50), 507903);

	/* Into an empty one: becomes a copy, min included. */
	cr_assert_eq(zt_latency_merge(&empty, &b), 0);
	cr_assert_eq(empty.count, 600);
	cr_assert_eq(empty.min_ns, 401000);
	cr_assert_eq(empty.max_ns, 1000000);
	/* From an empty one: nothing changes. */
	zt_latency_free(&b);
	cr_assert_eq(zt_latency_merge(&all, &b), 0);
	cr_assert_eq(all.count, 1000);
	cr_assert_eq(all.min_ns, 1000);

	zt_latency_free(&a);
	zt_latency_free(&all);
	zt_latency_free(&empty);
}

Test(latency, sum_saturates)
{
	struct zt_latency l;

	zt_latency_init(&l);
	zt_latency_add(&l, UINT64_MAX - 1);
	zt_latency_add(&l, 5);
	cr_assert_eq(l.sum_ns, UINT64_MAX);
	cr_assert_eq(l.count, 2);
	zt_latency_free(&l);
}

struct fmt_case {
	uint64_t ns;
	const char *want;
};

Test(latency, format_duration)
{
	static const struct fmt_case cases[] = {
	    {0, "0ns"},
	    {812, "812ns"},
	    {999, "999ns"},
	    {1000, "1.00us"},
	    {1004, "1.00us"},
	    {1005, "1.01us"}, /* half rounds up */
	    {9994, "9.99us"},
	    {9995, "10.0us"}, /* rounding adds a digit: one decimal fewer */
	    {12345, "12.3us"},
	    {99950, "100us"},
	    {123456, "123us"},
	    {999499, "999us"},
	    {999500, "1.00ms"}, /* rounds to 1000us: next unit */
	    {1050000, "1.05ms"},
	    {12300000, "12.3ms"},
	    {999999999, "1.00s"},
	    {2000000000, "2.00s"},
	    {61500000000ULL, "61.5s"},
	    {1234000000000ULL, "1234s"},
	    {UINT64_MAX, "18446744074s"},
	};
	char out[ZT_DURATION_STR_LEN];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(out, 'x', sizeof(out));
		zt_format_duration(cases[i].ns, out, sizeof(out));
		cr_assert_str_eq(out, cases[i].want, "%llu ns", (unsigned long long)cases[i].ns);
	}
}

Test(latency, format_duration_truncates)
{
	char out[4];

	zt_format_duration(12345, out, sizeof(out));
	cr_assert_str_eq(out, "12.");
}
