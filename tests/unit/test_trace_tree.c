// SPDX-License-Identifier: MIT
/* Slowest traces as trees: golden text, choice and order of traces, orphans, the line cap. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "golden/golden.h"
#include "trace_tree.h"

#define T0 1700000000000000000ull

static struct zt_span span(uint8_t trace, uint64_t id, uint64_t parent, uint64_t start,
			   uint64_t end, const char *name)
{
	struct zt_span s = {
	    .span_id = id,
	    .parent_span_id = parent,
	    .start_ns = T0 + start,
	    .end_ns = T0 + end,
	    .pid = 4242,
	    .tid = 4243,
	    .comm = "orders",
	    .kind = ZT_KIND_FUNCTION,
	    .status = ZT_STATUS_OK,
	    .name = name,
	};

	memset(s.trace_id, trace, sizeof(s.trace_id));
	return s;
}

static char *render(const struct zt_span *s, size_t n, size_t top, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	cr_assert_not_null(f);
	cr_assert_eq(zt_trace_tree_print(f, s, n, top), 0);
	cr_assert_eq(fclose(f), 0);
	return buf;
}

/*
 * Four traces, listed out of order: trace 1 (2.5 ms, nested, with an error syscall and
 * incomplete call), trace 2 (the slowest, 1.2 s, with folded syscalls), trace 3 (fast) and
 * trace 4 (its root was never recorded: counts from first start to last end, 3 ms).
 */
static size_t four_traces(struct zt_span *s)
{
	size_t n = 0;

	s[n++] = span(1, 0x13, 0x11, 1800000, 2400000, "charge");
	s[n - 1].status = ZT_STATUS_INCOMPLETE;
	s[n++] = span(1, 0x10, 0, 0, 2500000, "handle_request");
	s[n++] = span(1, 0x12, 0x11, 200000, 240000, "openat");
	s[n - 1].kind = ZT_KIND_SYSCALL;
	s[n - 1].status = ZT_STATUS_ERROR;
	s[n - 1].ret = -2;
	s[n++] = span(1, 0x11, 0x10, 100000, 2450000, "process_order");
	s[n++] = span(1, 0x14, 0x10, 2460000, 2460812, "log_line");
	s[n++] = span(2, 0x20, 0, 5000000, 1205000000, "batch_job");
	s[n - 1].syscall_count = 12;
	s[n - 1].syscall_ns = 34500;
	s[n++] = span(2, 0x21, 0x20, 5000100, 5000100, "noop");
	s[n++] = span(3, 0x30, 0, 9000000, 9000500, "ping");
	s[n++] = span(4, 0x41, 0x40, 20000000, 21000000, "child_a");
	s[n++] = span(4, 0x42, 0x40, 22000000, 23000000, "child_b");
	s[n - 1].tid = 4244;
	return n;
}

Test(trace_tree, top_three_matches_golden)
{
	struct zt_span s[16];
	size_t n = four_traces(s), len;
	char *out = render(s, n, 3, &len);

	zt_golden_check("trace_tree_top3.txt", out, len);
	free(out);
}

Test(trace_tree, top_larger_than_traces_prints_all)
{
	struct zt_span s[16];
	size_t n = four_traces(s), len;
	char *out = render(s, n, 10, &len);
	const char *title = "Slowest 4 of 4 traces, by root span duration:\n\n";

	cr_assert_eq(strncmp(out, title, strlen(title)), 0, "%s", out);
	/* the fastest comes last */
	cr_assert_not_null(strstr(out, "trace 03030303030303030303030303030303  500ns  ping"));
	cr_assert_gt(strstr(out, "ping"), strstr(out, "child_b"));
	free(out);
}

Test(trace_tree, no_spans)
{
	size_t len;
	char *out = render(NULL, 0, 5, &len);

	cr_assert_str_eq(out, "No traces recorded.\n");
	free(out);
}

Test(trace_tree, long_trace_is_capped)
{
	size_t n = ZT_TRACE_TREE_MAX_LINES + 50, len, lines = 0;
	struct zt_span *s = calloc(n, sizeof(*s));
	char *out, tail[64];

	cr_assert_not_null(s);
	s[0] = span(7, 1, 0, 0, 1000000, "root");
	for (size_t i = 1; i < n; i++)
		s[i] = span(7, i + 1, 1, i * 10, i * 10 + 5, "leaf");
	out = render(s, n, 1, &len);
	for (char *p = out; *p; p++)
		lines += *p == '\n';
	/* title, blank, trace line, column header, the capped spans, the "more" line */
	cr_assert_eq(lines, 4 + ZT_TRACE_TREE_MAX_LINES + 1, "%s", out);
	snprintf(tail, sizeof(tail), "  ... 50 more spans in this trace\n");
	cr_assert_str_eq(out + len - strlen(tail), tail);
	free(s);
	free(out);
}
