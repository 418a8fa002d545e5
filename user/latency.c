// SPDX-License-Identifier: MIT
/* Log-linear latency distributions and duration formatting for the summary tables. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "latency.h"

void zt_latency_init(struct zt_latency *l)
{
	memset(l, 0, sizeof(*l));
}

void zt_latency_free(struct zt_latency *l)
{
	free(l->buckets);
	zt_latency_init(l);
}

/*
 * Bucket of ns. Below 2^SUB_BITS the value is its own bucket. Above, with k the index of the
 * highest set bit, the bucket is the next SUB_BITS bits of ns in the k-th group; for k =
 * SUB_BITS this continues the exact buckets without a gap (bucket 16..31 = value 16..31).
 */
static unsigned int bucket_of(uint64_t ns)
{
	unsigned int k, shift;

	if (ns < ZT_LATENCY_SUB_BUCKETS)
		return ns;
	k = 63 - __builtin_clzll(ns);
	shift = k - ZT_LATENCY_SUB_BITS;
	return ZT_LATENCY_SUB_BUCKETS * (shift + 1) +
	       ((ns >> shift) & (ZT_LATENCY_SUB_BUCKETS - 1));
}

/* Largest value that falls into bucket b (the inverse of bucket_of()). */
static uint64_t bucket_upper(unsigned int b)
{
	unsigned int group, sub, shift;
	uint64_t lower;

	if (b < ZT_LATENCY_SUB_BUCKETS)
		return b;
	group = b / ZT_LATENCY_SUB_BUCKETS; /* 1 for 2^SUB_BITS .. 2^(SUB_BITS+1) - 1 */
	sub = b % ZT_LATENCY_SUB_BUCKETS;
	shift = group - 1;
	lower = ((uint64_t)(ZT_LATENCY_SUB_BUCKETS + sub)) << shift;
	return lower + ((1ULL << shift) - 1);
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
	return a + b < a ? UINT64_MAX : a + b;
}

int zt_latency_add(struct zt_latency *l, uint64_t ns)
{
	uint32_t *slot;

	if (!l->buckets) {
		l->buckets = calloc(ZT_LATENCY_BUCKETS, sizeof(*l->buckets));
		if (!l->buckets)
			return -ENOMEM;
	}
	slot = &l->buckets[bucket_of(ns)];
	/* Four billion values in one bucket would take hours of tracing one function; saturate. */
	if (*slot != UINT32_MAX)
		(*slot)++;
	if (!l->count || ns < l->min_ns)
		l->min_ns = ns;
	if (!l->count || ns > l->max_ns)
		l->max_ns = ns;
	l->count++;
	l->sum_ns = add_sat(l->sum_ns, ns);
	return 0;
}

int zt_latency_add_log2(struct zt_latency *l, const uint64_t *log2_buckets, size_t nbuckets,
			uint64_t sum_ns, uint64_t max_ns)
{
	uint64_t total = 0;

	if (!l->buckets) {
		l->buckets = calloc(ZT_LATENCY_BUCKETS, sizeof(*l->buckets));
		if (!l->buckets)
			return -ENOMEM;
	}
	for (size_t i = 0; i < nbuckets; i++) {
		uint64_t c = log2_buckets[i], lo, hi;
		uint32_t *slot;

		if (!c)
			continue;
		/* log2 bucket i holds [2^(i-1), 2^i): count it at its top, never below the truth */
		lo = i ? 1ULL << (i - 1) : 0;
		hi = i ? (i < 64 ? (1ULL << i) - 1 : UINT64_MAX) : 0;
		if (hi > max_ns)
			hi = max_ns;
		slot = &l->buckets[bucket_of(hi)];
		*slot = *slot + c < *slot || *slot + c > UINT32_MAX ? UINT32_MAX : (uint32_t)(*slot + c);
		if (!l->count && !total)
			l->min_ns = lo;
		else if (lo < l->min_ns)
			l->min_ns = lo;
		total += c;
	}
	if (!total)
		return 0;
	if (!l->count || max_ns > l->max_ns)
		l->max_ns = max_ns;
	l->count += total;
	l->sum_ns = add_sat(l->sum_ns, sum_ns);
	return 0;
}

uint64_t zt_latency_percentile(const struct zt_latency *l, double p)
{
	uint64_t rank, seen = 0, v;
	double r;
	unsigned int b;

	if (!l->count || !l->buckets)
		return 0;
	if (!(p > 0)) /* also catches NaN */
		return l->min_ns;
	if (p >= 100)
		return l->max_ns;
	/* Multiply before dividing so integer p on integer counts gives an exact rank. */
	r = p * (double)l->count / 100.0;
	rank = (uint64_t)r;
	if ((double)rank < r)
		rank++;
	if (rank < 1)
		rank = 1;
	if (rank > l->count)
		rank = l->count;
	for (b = 0; b < ZT_LATENCY_BUCKETS; b++) {
		seen += l->buckets[b];
		if (seen >= rank)
			break;
	}
	/* Only reached with saturated buckets: the rank lies beyond what they hold. */
	if (b == ZT_LATENCY_BUCKETS)
		return l->max_ns;
	v = bucket_upper(b);
	if (v < l->min_ns)
		v = l->min_ns;
	if (v > l->max_ns)
		v = l->max_ns;
	return v;
}

uint64_t zt_latency_mean(const struct zt_latency *l)
{
	return l->count ? l->sum_ns / l->count : 0;
}

int zt_latency_merge(struct zt_latency *dst, const struct zt_latency *src)
{
	unsigned int b;
	uint64_t sum;

	if (!src->count || !src->buckets)
		return 0;
	if (!dst->buckets) {
		dst->buckets = calloc(ZT_LATENCY_BUCKETS, sizeof(*dst->buckets));
		if (!dst->buckets)
			return -ENOMEM;
	}
	for (b = 0; b < ZT_LATENCY_BUCKETS; b++) {
		sum = (uint64_t)dst->buckets[b] + src->buckets[b];
		dst->buckets[b] = sum > UINT32_MAX ? UINT32_MAX : sum;
	}
	if (!dst->count || src->min_ns < dst->min_ns)
		dst->min_ns = src->min_ns;
	if (!dst->count || src->max_ns > dst->max_ns)
		dst->max_ns = src->max_ns;
	dst->count += src->count;
	dst->sum_ns = add_sat(dst->sum_ns, src->sum_ns);
	return 0;
}

/* ns / div rounded half up, without the overflow of (ns + div / 2) / div near UINT64_MAX. */
static uint64_t div_round(uint64_t ns, uint64_t div)
{
	return ns / div + (ns % div >= div - div / 2 ? 1 : 0);
}

void zt_format_duration(uint64_t ns, char *out, size_t outlen)
{
	static const struct {
		uint64_t ns;
		const char *suffix;
	} units[] = {
	    {1000ULL, "us"},
	    {1000000ULL, "ms"},
	    {1000000000ULL, "s"},
	};
	static const uint64_t pow10[] = {1, 10, 100};
	const size_t nunits = sizeof(units) / sizeof(units[0]);
	uint64_t whole, scaled;
	unsigned int dec;
	size_t i;

	if (ns < units[0].ns) {
		snprintf(out, outlen, "%lluns", (unsigned long long)ns);
		return;
	}
	for (i = 0; i < nunits; i++) {
		whole = ns / units[i].ns;
		if (whole >= 1000 && i + 1 < nunits)
			continue;
		/* Three significant digits: 1.23, 12.3, 123; seconds grow past that. */
		dec = whole < 10 ? 2 : whole < 100 ? 1 : 0;
		scaled = div_round(ns, units[i].ns / pow10[dec]);
		/* Rounding can add a digit (9.996 -> 10.00): drop a decimal to keep three. */
		while (dec > 0 && scaled >= 1000) {
			dec--;
			scaled = div_round(ns, units[i].ns / pow10[dec]);
		}
		/* 999.6us rounds to 1000us: that is 1.00ms. */
		if (scaled >= 1000 && i + 1 < nunits)
			continue;
		break;
	}
	if (dec)
		snprintf(out, outlen, "%llu.%0*llu%s", (unsigned long long)(scaled / pow10[dec]),
			 (int)dec, (unsigned long long)(scaled % pow10[dec]), units[i].suffix);
	else
		snprintf(out, outlen, "%llu%s", (unsigned long long)scaled, units[i].suffix);
}
