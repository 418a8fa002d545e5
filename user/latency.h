/* SPDX-License-Identifier: MIT */
/*
 * Latency distributions for the summary tables, in bounded memory.
 *
 * Log-linear buckets, as in HdrHistogram: values below ZT_LATENCY_SUB_BUCKETS ns have a bucket
 * each; above, every power-of-two range [2^k, 2^(k+1)) is split into ZT_LATENCY_SUB_BUCKETS
 * equal sub-buckets. A bucket's width is thus at most 1/16 of its lower bound, so a percentile
 * is reported with a relative error below 1/16 (6.25%), and never below the true value.
 * count, sum, min and max are exact. The buckets (under 4 KiB) are allocated on the first add.
 */
#ifndef ZTRACE_LATENCY_H
#define ZTRACE_LATENCY_H

#include <stddef.h>
#include <stdint.h>

/* log2 of the sub-buckets per power of two: 4 gives 16, i.e. relative error below 1/16. */
#define ZT_LATENCY_SUB_BITS    4
#define ZT_LATENCY_SUB_BUCKETS (1u << ZT_LATENCY_SUB_BITS)
/* The exact buckets 0..15, then 16 sub-buckets for each power of two from 2^4 to 2^63. */
#define ZT_LATENCY_BUCKETS (ZT_LATENCY_SUB_BUCKETS * (64 - ZT_LATENCY_SUB_BITS + 1))

/* Buffer size that holds any zt_format_duration() output. */
#define ZT_DURATION_STR_LEN 24

struct zt_latency {
	uint64_t count;	   /* values added */
	uint64_t sum_ns;   /* saturates at UINT64_MAX (584 years) */
	uint64_t min_ns;   /* valid when count > 0 */
	uint64_t max_ns;   /* valid when count > 0 */
	uint32_t *buckets; /* ZT_LATENCY_BUCKETS counters, NULL until the first add; saturate */
};

/* Make l empty; it owns no memory until the first zt_latency_add(). */
void zt_latency_init(struct zt_latency *l);

/* Add one duration. Returns 0, or -ENOMEM when the buckets cannot be allocated (l unchanged). */
int zt_latency_add(struct zt_latency *l, uint64_t ns);

/*
 * The p-th percentile (p in [0, 100], clamped) by nearest rank: the upper bound of the bucket
 * that holds the value of rank ceil(p/100 * count), clamped to [min, max]. So it is never below
 * the true value and at most 1/16 above it; p = 0 gives min, p = 100 gives max, a single value
 * is exact. Returns 0 when l is empty.
 */
uint64_t zt_latency_percentile(const struct zt_latency *l, double p);

/*
 * Add a log2 histogram computed elsewhere (the kernel's: bucket i counts [2^(i-1), 2^i) ns)
 * with its exact sum and max. Each bucket's values count at the bucket's top (clamped to
 * max_ns), so percentiles stay upper bounds, within 2x; min becomes the lowest bucket's floor.
 * Returns 0 or -ENOMEM (l unchanged).
 */
int zt_latency_add_log2(struct zt_latency *l, const uint64_t *log2_buckets, size_t nbuckets,
			uint64_t sum_ns, uint64_t max_ns);

/* Mean of the values added, rounded down; 0 when empty. */
uint64_t zt_latency_mean(const struct zt_latency *l);

/* Add src's values to dst. Returns 0, or -ENOMEM (dst unchanged) when dst needs buckets. */
int zt_latency_merge(struct zt_latency *dst, const struct zt_latency *src);

/* Release l's buckets and make it empty again. */
void zt_latency_free(struct zt_latency *l);

/*
 * Write ns as a short human duration with three significant digits where the unit allows:
 * "812ns", "12.3us", "1.05ms", "2.00s", "1234s". Truncated to outlen like snprintf;
 * ZT_DURATION_STR_LEN always suffices.
 */
void zt_format_duration(uint64_t ns, char *out, size_t outlen);

#endif
