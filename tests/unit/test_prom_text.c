// SPDX-License-Identifier: MIT
/* The Prometheus text exposition writer: exact text, escaping, families, log2 histograms. */
#include <criterion/criterion.h>
#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ztrace/limits.h"
#include "common/runproc.h"
#include "prom_text.h"

#define PROMTOOL_TIMEOUT_MS 20000

/* Finish p, compare its text with want, free everything. */
static void expect_text(struct zt_prom *p, const char *want)
{
	char *text = NULL;
	size_t len = 0;

	cr_assert_eq(zt_prom_finish(p, &text, &len), 0);
	cr_assert_eq(len, strlen(text));
	cr_assert_str_eq(text, want);
	free(text);
	zt_prom_free(p);
}

Test(prom_text, counters_and_gauges)
{
	struct zt_prom p;
	struct zt_prom_label a[] = {{"pid", "42"}, {"comm", "orders"}};
	struct zt_prom_label b[] = {{"pid", "43"}, {"comm", NULL}};

	zt_prom_init(&p);
	cr_assert_eq(zt_prom_family(&p, "ztrace_x_total", ZT_PROM_COUNTER, "Things."), 0);
	cr_assert_eq(zt_prom_sample_u64(&p, a, 2, 7), 0);
	cr_assert_eq(zt_prom_sample_u64(&p, b, 2, UINT64_MAX), 0);
	cr_assert_eq(zt_prom_family(&p, "ztrace_fill_ratio", ZT_PROM_GAUGE, "Fill."), 0);
	cr_assert_eq(zt_prom_sample(&p, NULL, 0, 0.25), 0);
	expect_text(&p, "# HELP ztrace_x_total Things.\n"
			"# TYPE ztrace_x_total counter\n"
			"ztrace_x_total{pid=\"42\",comm=\"orders\"} 7\n"
			"ztrace_x_total{pid=\"43\",comm=\"\"} 18446744073709551615\n"
			"# HELP ztrace_fill_ratio Fill.\n"
			"# TYPE ztrace_fill_ratio gauge\n"
			"ztrace_fill_ratio 0.25\n");
}

Test(prom_text, label_value_and_help_escaping)
{
	struct zt_prom p;
	struct zt_prom_label l[] = {{"function", "a\\b\"c\nd"}};

	zt_prom_init(&p);
	zt_prom_family(&p, "m", ZT_PROM_GAUGE, "back\\slash \"quoted\"\nsecond line");
	zt_prom_sample_u64(&p, l, 1, 1);
	/* HELP escapes backslash and newline only; label values also the double quote. */
	expect_text(&p, "# HELP m back\\\\slash \"quoted\"\\nsecond line\n"
			"# TYPE m gauge\n"
			"m{function=\"a\\\\b\\\"c\\nd\"} 1\n");
}

Test(prom_text, invalid_utf8_is_replaced)
{
	struct zt_prom p;
	/* A comm may hold any bytes; Prometheus rejects a whole scrape over one bad label. */
	struct zt_prom_label l[] = {
	    {"ok", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"},
	    {"bad", "a\xff"
		    "b\xc0\xaf"
		    "c\xed\xa0\x80"
		    "d\xe2\x82"},
	};

	zt_prom_init(&p);
	zt_prom_family(&p, "m", ZT_PROM_GAUGE, "h");
	zt_prom_sample_u64(&p, l, 2, 1);
	expect_text(&p, "# HELP m h\n# TYPE m gauge\n"
			"m{ok=\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\","
			"bad=\"a\xef\xbf\xbd"
			"b\xef\xbf\xbd\xef\xbf\xbd"
			"c\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
			"d\xef\xbf\xbd\xef\xbf\xbd\"} 1\n");
}

Test(prom_text, one_help_and_type_per_family)
{
	struct zt_prom p;
	char *text = NULL;
	size_t len;

	zt_prom_init(&p);
	cr_assert_eq(zt_prom_family(&p, "m_total", ZT_PROM_COUNTER, "h"), 0);
	cr_assert_eq(zt_prom_sample_u64(&p, NULL, 0, 1), 0);
	cr_assert_eq(zt_prom_family(&p, "n", ZT_PROM_GAUGE, "h"), 0);
	cr_assert_eq(zt_prom_family(&p, "m_total", ZT_PROM_COUNTER, "h"), -EEXIST);
	/* Errors are sticky: nothing more is written and finish reports the first one. */
	cr_assert_eq(zt_prom_sample_u64(&p, NULL, 0, 1), -EEXIST);
	cr_assert_eq(zt_prom_finish(&p, &text, &len), -EEXIST);
	cr_assert_null(text);
	zt_prom_free(&p);
}

Test(prom_text, family_without_samples_is_omitted)
{
	struct zt_prom p;

	zt_prom_init(&p);
	zt_prom_family(&p, "empty_total", ZT_PROM_COUNTER, "h");
	zt_prom_family(&p, "empty_seconds", ZT_PROM_HISTOGRAM, "h");
	zt_prom_family(&p, "full", ZT_PROM_GAUGE, "h");
	zt_prom_sample(&p, NULL, 0, -1.5);
	expect_text(&p, "# HELP full h\n# TYPE full gauge\nfull -1.5\n");

	zt_prom_init(&p);
	expect_text(&p, "");
}

Test(prom_text, misuse_is_refused)
{
	static const char *const bad_names[] = {"", "9lives", "a-b", "a b", "é"};
	struct zt_prom_label le[] = {{"le", "1"}};
	struct zt_prom_label badlabel[] = {{"a:b", "1"}};
	uint64_t buckets[ZT_HIST_BUCKETS] = {0};
	struct zt_prom p;

	for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
		zt_prom_init(&p);
		cr_assert_eq(zt_prom_family(&p, bad_names[i], ZT_PROM_GAUGE, "h"), -EINVAL, "'%s'",
			     bad_names[i]);
		zt_prom_free(&p);
	}
	zt_prom_init(&p);
	cr_assert_eq(zt_prom_family(&p, "ns:rule_total", ZT_PROM_COUNTER, "h"), 0);
	zt_prom_free(&p);

	zt_prom_init(&p);
	cr_assert_eq(zt_prom_sample_u64(&p, NULL, 0, 1), -EINVAL, "sample before any family");
	zt_prom_free(&p);

	zt_prom_init(&p);
	zt_prom_family(&p, "h_seconds", ZT_PROM_HISTOGRAM, "h");
	cr_assert_eq(zt_prom_sample_u64(&p, NULL, 0, 1), -EINVAL, "plain sample in a histogram");
	zt_prom_free(&p);

	zt_prom_init(&p);
	zt_prom_family(&p, "c_total", ZT_PROM_COUNTER, "h");
	cr_assert_eq(zt_prom_histogram_log2(&p, NULL, 0, buckets, ZT_HIST_BUCKETS, 0), -EINVAL);
	zt_prom_free(&p);

	zt_prom_init(&p);
	zt_prom_family(&p, "h_seconds", ZT_PROM_HISTOGRAM, "h");
	cr_assert_eq(zt_prom_histogram_log2(&p, le, 1, buckets, ZT_HIST_BUCKETS, 0), -EINVAL);
	zt_prom_free(&p);

	zt_prom_init(&p);
	zt_prom_family(&p, "g", ZT_PROM_GAUGE, "h");
	cr_assert_eq(zt_prom_sample(&p, badlabel, 1, 1), -EINVAL);
	zt_prom_free(&p);
}

Test(prom_text, histogram_cumulative_buckets)
{
	uint64_t buckets[ZT_HIST_BUCKETS] = {0};
	struct zt_prom_label l[] = {{"syscall", "read"}};
	struct zt_prom p;

	buckets[3] = 2;	 /* [4, 8) ns */
	buckets[5] = 1;	 /* [16, 32) ns */
	buckets[10] = 4; /* [512, 1024) ns */
	zt_prom_init(&p);
	zt_prom_family(&p, "lat_seconds", ZT_PROM_HISTOGRAM, "Latency.");
	cr_assert_eq(zt_prom_histogram_log2(&p, l, 1, buckets, ZT_HIST_BUCKETS, 12345), 0);
	/* From one bucket below the lowest non-empty one to the highest, then +Inf = _count. */
	expect_text(&p, "# HELP lat_seconds Latency.\n"
			"# TYPE lat_seconds histogram\n"
			"lat_seconds_bucket{syscall=\"read\",le=\"0.000000004\"} 0\n"
			"lat_seconds_bucket{syscall=\"read\",le=\"0.000000008\"} 2\n"
			"lat_seconds_bucket{syscall=\"read\",le=\"0.000000016\"} 2\n"
			"lat_seconds_bucket{syscall=\"read\",le=\"0.000000032\"} 3\n"
			"lat_seconds_bucket{syscall=\"read\",le=\"0.000000064\"} 3\n"
			"lat_seconds_bucket{syscall=\"read\",le=\"0.000000128\"} 3\n"
			"lat_seconds_bucket{syscall=\"read\",le=\"0.000000256\"} 3\n"
			"lat_seconds_bucket{syscall=\"read\",le=\"0.000000512\"} 3\n"
			"lat_seconds_bucket{syscall=\"read\",le=\"0.000001024\"} 7\n"
			"lat_seconds_bucket{syscall=\"read\",le=\"+Inf\"} 7\n"
			"lat_seconds_sum{syscall=\"read\"} 0.000012345\n"
			"lat_seconds_count{syscall=\"read\"} 7\n");
}

Test(prom_text, histogram_edges)
{
	uint64_t buckets[ZT_HIST_BUCKETS] = {0};
	struct zt_prom p;

	/* Nothing recorded: only +Inf, _sum and _count. */
	zt_prom_init(&p);
	zt_prom_family(&p, "h_seconds", ZT_PROM_HISTOGRAM, "h");
	zt_prom_histogram_log2(&p, NULL, 0, buckets, ZT_HIST_BUCKETS, 0);
	expect_text(&p, "# HELP h_seconds h\n# TYPE h_seconds histogram\n"
			"h_seconds_bucket{le=\"+Inf\"} 0\n"
			"h_seconds_sum 0\n"
			"h_seconds_count 0\n");

	/*
	 * Bucket 0 (0 ns) has no bucket below it; the last bucket is open-ended (the kernel
	 * clamps longer calls into it) so it counts towards +Inf only.
	 */
	buckets[0] = 1;
	buckets[1] = 2;
	buckets[ZT_HIST_BUCKETS - 1] = 5;
	zt_prom_init(&p);
	zt_prom_family(&p, "h_seconds", ZT_PROM_HISTOGRAM, "h");
	zt_prom_histogram_log2(&p, NULL, 0, buckets, ZT_HIST_BUCKETS, 3000000000001ull);
	expect_text(&p, "# HELP h_seconds h\n# TYPE h_seconds histogram\n"
			"h_seconds_bucket{le=\"0.000000001\"} 1\n"
			"h_seconds_bucket{le=\"0.000000002\"} 3\n"
			"h_seconds_bucket{le=\"+Inf\"} 8\n"
			"h_seconds_sum 3000.000000001\n"
			"h_seconds_count 8\n");

	/* With 40 buckets, the highest one with a finite bound is bucket 38: 2^38 ns. */
	memset(buckets, 0, sizeof(buckets));
	buckets[38] = 1;
	buckets[39] = 2;
	zt_prom_init(&p);
	zt_prom_family(&p, "h_seconds", ZT_PROM_HISTOGRAM, "h");
	zt_prom_histogram_log2(&p, NULL, 0, buckets, 40, 400000000000ull);
	expect_text(&p, "# HELP h_seconds h\n# TYPE h_seconds histogram\n"
			"h_seconds_bucket{le=\"137.438953472\"} 0\n"
			"h_seconds_bucket{le=\"274.877906944\"} 1\n"
			"h_seconds_bucket{le=\"+Inf\"} 3\n"
			"h_seconds_sum 400\n"
			"h_seconds_count 3\n");
}

/* Every bucket bound is exactly 2^i ns, written in seconds: read it back with integers only. */
Test(prom_text, log2_bucket_bounds_are_exact)
{
	char buf[ZT_PROM_NUM_LEN];

	for (int i = 0; i < ZT_HIST_BUCKETS - 1; i++) {
		uint64_t sec = 0, frac = 0;
		int fdigits = 0;
		const char *c = buf;

		zt_prom_format_ns(1ull << i, buf, sizeof(buf));
		for (; *c >= '0' && *c <= '9'; c++)
			sec = sec * 10 + (uint64_t)(*c - '0');
		if (*c == '.')
			for (c++; *c >= '0' && *c <= '9'; c++, fdigits++)
				frac = frac * 10 + (uint64_t)(*c - '0');
		cr_assert_eq(*c, '\0', "bound %d is '%s'", i, buf);
		cr_assert_leq(fdigits, 9);
		for (; fdigits < 9; fdigits++)
			frac *= 10;
		cr_assert_eq(sec * 1000000000ull + frac, 1ull << i, "bound %d is '%s'", i, buf);
		/* And a float parser lands on the nearest double to 2^i / 1e9. */
		cr_assert_eq(strtod(buf, NULL), (double)(1ull << i) / 1e9, "bound %d", i);
	}
}

Test(prom_text, number_formats)
{
	char buf[ZT_PROM_NUM_LEN];

	zt_prom_format_ns(0, buf, sizeof(buf));
	cr_assert_str_eq(buf, "0");
	zt_prom_format_ns(1500000000, buf, sizeof(buf));
	cr_assert_str_eq(buf, "1.5");
	zt_prom_format_ns(UINT64_MAX, buf, sizeof(buf));
	cr_assert_str_eq(buf, "18446744073.709551615");

	zt_prom_format_double(0.1, buf, sizeof(buf));
	cr_assert_str_eq(buf, "0.1");
	zt_prom_format_double(1.0 / 3.0, buf, sizeof(buf));
	cr_assert_str_eq(buf, "0.3333333333333333");
	zt_prom_format_double(1e-9, buf, sizeof(buf));
	cr_assert_str_eq(buf, "1e-09");
	zt_prom_format_double(123456789.0, buf, sizeof(buf));
	cr_assert_str_eq(buf, "123456789");
	zt_prom_format_double(-0.0, buf, sizeof(buf));
	cr_assert_str_eq(buf, "-0");
	zt_prom_format_double(NAN, buf, sizeof(buf));
	cr_assert_str_eq(buf, "NaN");
	zt_prom_format_double(INFINITY, buf, sizeof(buf));
	cr_assert_str_eq(buf, "+Inf");
	zt_prom_format_double(-INFINITY, buf, sizeof(buf));
	cr_assert_str_eq(buf, "-Inf");
	zt_prom_format_double(DBL_MAX, buf, sizeof(buf));
	cr_assert_eq(strtod(buf, NULL), DBL_MAX);
}

/* Feed text to `promtool check metrics`; return its exit code, its complaints in out. */
static int promtool_check(const char *text, char *out, size_t outlen)
{
	char *argv[] = {"promtool", "check", "metrics", NULL};
	struct zt_proc proc;
	int ret;

	ret = zt_proc_spawn(&proc, argv, NULL);
	cr_assert_eq(ret, 0, "cannot run promtool: %s", strerror(-ret));
	cr_assert_eq(zt_proc_write(&proc, text, strlen(text)), 0);
	zt_proc_close_stdin(&proc);
	ret = zt_proc_wait(&proc, PROMTOOL_TIMEOUT_MS);
	snprintf(out, outlen, "%s%s", zt_proc_text(&proc, ZT_STDOUT),
		 zt_proc_text(&proc, ZT_STDERR));
	zt_proc_free(&proc);
	return ret;
}

/* promtool (the real parser and linter from Prometheus) accepts what the writer produces. */
Test(prom_text, promtool_accepts_output)
{
	uint64_t buckets[ZT_HIST_BUCKETS] = {0};
	struct zt_prom_label l[] = {{"pid", "1"}, {"comm", "we\"ird\\ \n\xff"}};
	char *text, out[4096];
	struct zt_prom p;
	size_t len;
	int ret;

	buckets[7] = 3;
	buckets[12] = 1;
	buckets[ZT_HIST_BUCKETS - 1] = 1;
	zt_prom_init(&p);
	zt_prom_family(&p, "ztrace_syscalls_total", ZT_PROM_COUNTER, "Syscalls \"made\".\n");
	zt_prom_sample_u64(&p, l, 2, 5);
	zt_prom_family(&p, "ztrace_syscall_duration_seconds", ZT_PROM_HISTOGRAM, "Latency.");
	zt_prom_histogram_log2(&p, l, 2, buckets, ZT_HIST_BUCKETS, 700000004242ull);
	zt_prom_family(&p, "ztrace_ringbuf_fill_ratio", ZT_PROM_GAUGE, "Fill.");
	zt_prom_sample(&p, NULL, 0, 1.0 / 3.0);
	cr_assert_eq(zt_prom_finish(&p, &text, &len), 0);
	zt_prom_free(&p);

	ret = promtool_check(text, out, sizeof(out));
	cr_assert_eq(ret, 0, "promtool exit %d: %s\n%s", ret, out, text);
	free(text);

	/* The check can fail: a family declared twice is refused. */
	ret = promtool_check("# TYPE a gauge\na 1\n# TYPE a gauge\na 2\n", out, sizeof(out));
	cr_assert_neq(ret, 0, "promtool accepted a second TYPE line: %s", out);
}
