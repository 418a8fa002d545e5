/* SPDX-License-Identifier: MIT */
/*
 * A writer for the Prometheus text exposition format (version 0.0.4): metric families with one
 * HELP and one TYPE line each, escaped label values, counters, gauges and histograms built from
 * the kernel's log2 latency buckets. Output is built in memory; errors are sticky, so callers
 * can write a whole exposition and check once, at zt_prom_finish().
 */
#ifndef ZTRACE_PROM_TEXT_H
#define ZTRACE_PROM_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Room for any number zt_prom_format_ns or zt_prom_format_double writes, NUL included. */
#define ZT_PROM_NUM_LEN 32

enum zt_prom_type {
	ZT_PROM_COUNTER,
	ZT_PROM_GAUGE,
	ZT_PROM_HISTOGRAM,
};

struct zt_prom_label {
	const char *name;  /* [a-zA-Z_][a-zA-Z0-9_]* */
	const char *value; /* any bytes; escaped, invalid UTF-8 replaced by U+FFFD; NULL = "" */
};

struct zt_prom {
	char *buf;
	size_t len;
	size_t cap;
	int err;	 /* first error, 0 or -errno; every later call is a no-op */
	char **families; /* names declared so far: a family may be declared only once */
	size_t nfamilies;
	size_t families_cap;
	/* The family samples go to; its HELP/TYPE lines are written with its first sample. */
	const char *family;
	const char *help;
	enum zt_prom_type type;
	bool header_written;
};

/* Start an empty exposition. */
void zt_prom_init(struct zt_prom *p);

/* Release everything p holds (also after zt_prom_finish handed the text over). */
void zt_prom_free(struct zt_prom *p);

/*
 * Make name the current family: the samples that follow belong to it. Its "# HELP" and "# TYPE"
 * lines are written before its first sample, so a family without samples leaves no trace.
 * Returns 0, -EINVAL for a name that is not a valid metric name, -EEXIST when name was
 * declared before (text format: all samples of a family are one group). name and help must
 * stay valid until the next zt_prom_family or zt_prom_finish call.
 */
int zt_prom_family(struct zt_prom *p, const char *name, enum zt_prom_type type, const char *help);

/* One sample of the current counter or gauge family, an exact integer value. Returns 0/-errno. */
int zt_prom_sample_u64(struct zt_prom *p, const struct zt_prom_label *labels, size_t nlabels,
		       uint64_t value);

/* One sample of the current counter or gauge family, a float value. Returns 0/-errno. */
int zt_prom_sample(struct zt_prom *p, const struct zt_prom_label *labels, size_t nlabels,
		   double value);

/*
 * One histogram of the current histogram family from log2 buckets: buckets[i] counts durations
 * in [2^(i-1), 2^i) ns, except the last one, buckets[nbuckets - 1], which also holds every
 * longer duration (the kernel clamps there) and so only counts towards le="+Inf".
 * Writes name_bucket lines with le = 2^i ns in seconds, cumulative, from one bucket below the
 * lowest non-empty one (so histogram_quantile interpolates from the right lower bound) up to the
 * highest non-empty one, then le="+Inf", name_sum (sum_ns in seconds) and name_count. _count and
 * +Inf are the total of the buckets, so the histogram is consistent even when the kernel's
 * separate count was read mid-update. Returns 0/-errno (-EINVAL: "le" among labels).
 */
int zt_prom_histogram_log2(struct zt_prom *p, const struct zt_prom_label *labels, size_t nlabels,
			   const uint64_t *buckets, size_t nbuckets, uint64_t sum_ns);

/*
 * End the exposition. On success hand the text (NUL-terminated, malloc'd, the caller frees it)
 * and its length over and return 0; otherwise return the first error and hand nothing over.
 * Call zt_prom_free afterwards either way.
 */
int zt_prom_finish(struct zt_prom *p, char **text, size_t *len);

/* Write ns nanoseconds as exact decimal seconds ("0.000001024", "3", "0") into buf. */
void zt_prom_format_ns(uint64_t ns, char *buf, size_t len);

/* Write v as the shortest decimal that reads back as v ("0.25", "1e-09", "NaN", "+Inf"). */
void zt_prom_format_double(double v, char *buf, size_t len);

#endif
