// SPDX-License-Identifier: MIT
/* Perfetto (Chrome trace-event JSON) export: a golden file for a small nested run, nesting
 * repair, independence from input order, and the empty document. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export_perfetto.h"
#include "golden/golden.h"

#define T0 1700000000000000000ull

static struct zt_span span(uint32_t pid, uint32_t tid, const char *comm, uint64_t id,
			   uint64_t parent, uint64_t start, uint64_t end, const char *name)
{
	struct zt_span s = {
	    .span_id = id,
	    .parent_span_id = parent,
	    .start_ns = T0 + start,
	    .end_ns = T0 + end,
	    .pid = pid,
	    .tid = tid,
	    .kind = ZT_KIND_FUNCTION,
	    .status = ZT_STATUS_OK,
	    .name = name,
	    .probe = "u:/opt/orders/orders:*",
	};

	snprintf(s.comm, sizeof(s.comm), "%s", comm);
	return s;
}

/* One trace per root: its id is the root's span id, repeated. */
static void set_trace(struct zt_span *s, uint8_t n)
{
	memset(s->trace_id, n, sizeof(s->trace_id));
}

/*
 * orders (pid 100): thread 100 runs handle_request > process_order > openat (an error) and
 * handle_request > charge (incomplete) > log_line, whose recorded end overruns charge's, plus a
 * tracepoint; thread 101 runs process_order with two syscalls folded in. worker (pid 200, no
 * process record) runs tick and a zero-length call.
 */
static size_t nested_set(struct zt_span *s)
{
	size_t n = 0;

	s[n] = span(100, 100, "orders", 0xa, 0, 1000, 11000, "handle_request");
	set_trace(&s[n++], 0xa);
	s[n] = span(100, 100, "orders", 0xb, 0xa, 2000, 5000, "process_order");
	s[n].ret = 1;
	set_trace(&s[n++], 0xa);
	s[n] = span(100, 100, "orders", 0xc, 0xb, 2500, 3000, "openat");
	s[n].kind = ZT_KIND_SYSCALL;
	s[n].status = ZT_STATUS_ERROR;
	s[n].ret = -2;
	s[n].probe = "syscall:openat";
	set_trace(&s[n++], 0xa);
	s[n] = span(100, 100, "orders", 0xd, 0xa, 6000, 10500, "charge");
	s[n].status = ZT_STATUS_INCOMPLETE;
	set_trace(&s[n++], 0xa);
	s[n] = span(100, 100, "orders", 0xe, 0xd, 10000, 12000, "log_line");
	set_trace(&s[n++], 0xa);
	s[n] = span(100, 100, "orders", 0xf, 0xd, 7000, 7000, "sched:sched_switch");
	s[n].kind = ZT_KIND_TRACEPOINT;
	s[n].probe = "t:sched:sched_switch";
	set_trace(&s[n++], 0xa);
	s[n] = span(100, 101, "orders-w1", 0x10, 0, 1500, 4000, "process_order");
	s[n].syscall_count = 2;
	s[n].syscall_ns = 700;
	set_trace(&s[n++], 0x10);
	s[n] = span(200, 201, "worker", 0x11, 0, 0, 999, "tick \"fast\"");
	set_trace(&s[n++], 0x11);
	s[n] = span(200, 201, "worker", 0x12, 0, 500, 500, "noop");
	set_trace(&s[n++], 0x12);
	return n;
}

static const struct zt_store_process procs[] = {
    {.pid = 100, .comm = "orders", .exe = "/opt/orders/orders"},
};

static char *render(const struct zt_span *s, size_t n, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	cr_assert_not_null(f);
	cr_assert_eq(zt_perfetto_write(f, s, n, procs, 1), 0);
	cr_assert_eq(fclose(f), 0);
	return buf;
}

Test(perfetto, nested_run_matches_golden)
{
	struct zt_span s[16];
	size_t n = nested_set(s), len;
	char *out = render(s, n, &len);

	zt_golden_check("perfetto_nested.json", out, len);
	free(out);
}

Test(perfetto, overrunning_child_is_clipped_to_its_parent)
{
	struct zt_span s[16];
	size_t n = nested_set(s), len;
	char *out = render(s, n, &len);

	/* log_line starts at 10 us and was recorded ending at 12 us; charge ends at 10.5 us */
	cr_assert_not_null(strstr(out, "\"ts\":10.000,\"dur\":0.500,\"name\":\"log_line\""), "%s",
			   out);
	cr_assert_not_null(strstr(out, "\"ts\":6.000,\"dur\":4.500,\"name\":\"charge\""), "%s",
			   out);
	free(out);
}

Test(perfetto, output_does_not_depend_on_input_order)
{
	struct zt_span s[16], rev[16];
	size_t n = nested_set(s), len1, len2;
	char *a, *b;

	for (size_t i = 0; i < n; i++)
		rev[i] = s[n - 1 - i];
	a = render(s, n, &len1);
	b = render(rev, n, &len2);
	cr_assert_eq(len1, len2);
	cr_assert_str_eq(a, b);
	free(a);
	free(b);
}

Test(perfetto, empty_run_is_a_valid_document)
{
	size_t len;
	char *out = render(NULL, 0, &len);

	cr_assert_str_eq(out, "{\"traceEvents\":[\n],\n\"displayTimeUnit\":\"ns\",\n"
			      "\"otherData\":{\"time_origin_unix_ns\":\"0\"}}\n");
	free(out);
}
