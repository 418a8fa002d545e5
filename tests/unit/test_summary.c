// SPDX-License-Identifier: MIT
/* The end-of-run summary: exact tables and capture lines for synthetic spans. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "summary.h"

static const char orders[] = "/opt/orders/orders";
static uint64_t clock_ns = 1700000000000000000ULL;

static void add(struct zt_summary *s, enum zt_span_kind kind, const char *name, const char *binary,
		uint64_t dur_ns, enum zt_span_status status, int64_t ret)
{
	struct zt_span span = {
	    .kind = kind,
	    .name = name,
	    .binary = binary,
	    .start_ns = clock_ns,
	    .end_ns = clock_ns + dur_ns,
	    .status = status,
	    .ret = ret,
	};

	clock_ns += 1000000;
	cr_assert_eq(zt_summary_add(s, &span), 0);
}

/* Print s into a string the caller frees. */
static char *print_to_string(const struct zt_summary *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert_not_null(f);
	cr_assert_eq(zt_summary_print(s, f), 0);
	cr_assert_eq(fclose(f), 0);
	return buf;
}

static void add_functions(struct zt_summary *s)
{
	char name[32];

	for (int i = 1; i <= 3; i++)
		add(s, ZT_KIND_FUNCTION, "process_order", orders, i * 1000000ULL, ZT_STATUS_OK, 0);
	add(s, ZT_KIND_FUNCTION, "process_order", orders, 4000000, ZT_STATUS_ERROR, -1);
	add(s, ZT_KIND_FUNCTION, "process_order", orders, 0, ZT_STATUS_INCOMPLETE, 0);
	/* The same name in two binaries: two rows, each naming its binary. */
	add(s, ZT_KIND_FUNCTION, "main", orders, 20000000, ZT_STATUS_OK, 0);
	add(s, ZT_KIND_FUNCTION, "main", "/usr/bin/other", 5000000, ZT_STATUS_OK, 0);
	for (int i = 0; i < 3; i++)
		add(s, ZT_KIND_FUNCTION, "a_very_long_function_name_that_widens_the_column", orders,
		    100, ZT_STATUS_OK, 0);
	/* Names are copied: the span's buffer may be reused. */
	snprintf(name, sizeof(name), "vfs_read");
	add(s, ZT_KIND_KERNEL, name, NULL, 1500, ZT_STATUS_OK, 0);
	add(s, ZT_KIND_KERNEL, name, NULL, 1500, ZT_STATUS_OK, 0);
	memset(name, 'z', sizeof(name) - 1);
	add(s, ZT_KIND_FUNCTION, "stuck", orders, 0, ZT_STATUS_INCOMPLETE, 0);
}

static void add_syscalls(struct zt_summary *s)
{
	/* openat: 50 x ENOENT, 6 ok, 3 x EAGAIN, 1 x EACCES, 10us each. */
	for (int i = 0; i < 60; i++) {
		int64_t ret = i < 50 ? -ENOENT : i < 56 ? 3 : i < 59 ? -EAGAIN : -EACCES;

		add(s, ZT_KIND_SYSCALL, "openat", orders, 10000,
		    ret < 0 ? ZT_STATUS_ERROR : ZT_STATUS_OK, ret);
	}
	/* A syscall row does not depend on the binary. */
	for (int i = 0; i < 200; i++)
		add(s, ZT_KIND_SYSCALL, "read", i % 2 ? orders : NULL, 5000, ZT_STATUS_OK, 100);
	add(s, ZT_KIND_SYSCALL, "futex", NULL, 0, ZT_STATUS_INCOMPLETE, 0);
	/* The kernel-internal restart code raw_syscalls sys_exit can see. */
	add(s, ZT_KIND_SYSCALL, "nanosleep", NULL, 3000000, ZT_STATUS_ERROR, -512);
}

Test(summary, full_output)
{
	/* One table row per line, as printed. */
	// clang-format off
	static const char want[] =
		"FUNCTION                                          CALLS  ERRORS  INCOMPL     MIN    MEAN     P50     P90     P99     MAX\n"
		"main (/opt/orders/orders)                             1       0        0  20.0ms  20.0ms  20.0ms  20.0ms  20.0ms  20.0ms\n"
		"process_order                                         5       1        1  1.00ms  2.50ms  2.03ms  4.00ms  4.00ms  4.00ms\n"
		"main (/usr/bin/other)                                 1       0        0  5.00ms  5.00ms  5.00ms  5.00ms  5.00ms  5.00ms\n"
		"k:vfs_read                                            2       0        0  1.50us  1.50us  1.50us  1.50us  1.50us  1.50us\n"
		"a_very_long_function_name_that_widens_the_column      3       0        0   100ns   100ns   100ns   100ns   100ns   100ns\n"
		"stuck                                                 1       0        1       -       -       -       -       -       -\n"
		"\n"
		"SYSCALL    COUNT  ERRORS                            TOTAL    MEAN     P50     P99     MAX\n"
		"nanosleep      1  1 (ERESTARTSYS x1)               3.00ms  3.00ms  3.00ms  3.00ms  3.00ms\n"
		"read         200  0                                1.00ms  5.00us  5.00us  5.00us  5.00us\n"
		"openat        60  54 (ENOENT x50, EAGAIN x3, ...)   600us  10.0us  10.0us  10.0us  10.0us\n"
		"futex          1  0                                     -       -       -       -       -\n"
		"\n"
		"probe u:/opt/orders/orders:process_order: delivered 995, lost 5, capture rate 99.50%\n"
		"probe k:vfs_read: delivered 2, lost 2, capture rate 50.00%\n"
		"events: delivered 1997, lost 7, capture rate 99.65%\n";
	// clang-format on
	struct zt_summary *s = zt_summary_new();
	char *got;

	cr_assert_not_null(s);
	add_functions(s);
	add_syscalls(s);
	cr_assert_eq(zt_summary_set_capture(s, "u:/opt/orders/orders:process_order", 990, 10), 0);
	cr_assert_eq(zt_summary_set_capture(s, "syscalls", 1000, 0), 0);
	cr_assert_eq(zt_summary_set_capture(s, "k:vfs_read", 2, 2), 0);
	/* Set, not add: the latest numbers of a probe replace the earlier ones. */
	cr_assert_eq(zt_summary_set_capture(s, "u:/opt/orders/orders:process_order", 995, 5), 0);
	got = print_to_string(s);
	cr_assert_str_eq(got, want, "got:\n%s", got);
	free(got);
	zt_summary_free(s);
}

Test(summary, empty)
{
	struct zt_summary *s = zt_summary_new();
	char *got = print_to_string(s);

	cr_assert_str_eq(got,
			 "no calls recorded\n\nevents: delivered 0, lost 0, capture rate n/a\n");
	free(got);
	zt_summary_free(s);
}

Test(summary, syscalls_only_and_no_loss)
{
	static const char want[] =
	    "SYSCALL  COUNT  ERRORS   TOTAL    MEAN     P50     P99     MAX\n"
	    "close        2  0       2.00us  1.00us  1.00us  1.00us  1.00us\n"
	    "\n"
	    "events: delivered 2, lost 0, capture rate 100.00%\n";
	struct zt_summary *s = zt_summary_new();
	char *got;

	add(s, ZT_KIND_SYSCALL, "close", NULL, 1000, ZT_STATUS_OK, 0);
	add(s, ZT_KIND_SYSCALL, "close", NULL, 1000, ZT_STATUS_OK, 0);
	zt_summary_set_capture(s, "syscalls", 2, 0);
	got = print_to_string(s);
	cr_assert_str_eq(got, want, "got:\n%s", got);
	free(got);
	zt_summary_free(s);
}

Test(summary, tiny_loss_never_shows_full_capture)
{
	struct zt_summary *s = zt_summary_new();
	char *got;

	zt_summary_set_capture(s, "t:sched:sched_switch", 999999999, 1);
	got = print_to_string(s);
	cr_assert_str_eq(
	    got, "no calls recorded\n\n"
		 "probe t:sched:sched_switch: delivered 999999999, lost 1, capture rate 99.99%\n"
		 "events: delivered 999999999, lost 1, capture rate 99.99%\n");
	free(got);
	zt_summary_free(s);
}

/* Ties in total time fall back to calls, then name, so the order never depends on input. */
Test(summary, ties_sort_by_calls_then_name)
{
	static const char want[] =
	    "FUNCTION  CALLS  ERRORS  INCOMPL     MIN    MEAN     P50     P90     P99     MAX\n"
	    "many          4       0        0   250ns   250ns   250ns   250ns   250ns   250ns\n"
	    "alpha         1       0        0  1.00us  1.00us  1.00us  1.00us  1.00us  1.00us\n"
	    "beta          1       0        0  1.00us  1.00us  1.00us  1.00us  1.00us  1.00us\n"
	    "\n"
	    "events: delivered 0, lost 0, capture rate n/a\n";
	struct zt_summary *s = zt_summary_new();
	char *got;

	add(s, ZT_KIND_FUNCTION, "beta", orders, 1000, ZT_STATUS_OK, 0);
	add(s, ZT_KIND_FUNCTION, "alpha", orders, 1000, ZT_STATUS_OK, 0);
	for (int i = 0; i < 4; i++)
		add(s, ZT_KIND_FUNCTION, "many", orders, 250, ZT_STATUS_OK, 0);
	got = print_to_string(s);
	cr_assert_str_eq(got, want, "got:\n%s", got);
	free(got);
	zt_summary_free(s);
}

Test(summary, many_rows_keep_their_counts)
{
	static const char first[] =
	    "f0999         3       0        0  2.00us  2.00us  2.00us  2.00us  2.00us  2.00us\n";
	struct zt_summary *s = zt_summary_new();
	char name[32], *got, *line;
	int i;

	/* Enough distinct keys to grow the index several times. */
	for (int round = 0; round < 3; round++) {
		for (i = 0; i < 1000; i++) {
			snprintf(name, sizeof(name), "f%04d", i);
			add(s, ZT_KIND_FUNCTION, name, orders, 1000 + i, ZT_STATUS_OK, 0);
		}
	}
	got = print_to_string(s);
	/* Longest first: f0999 took 1999ns three times. */
	line = strchr(got, '\n') + 1;
	cr_assert(!strncmp(line, first, strlen(first)), "%.90s", line);
	for (i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "\nf%04d         3 ", i);
		cr_assert_not_null(strstr(got, name), "row %d", i);
	}
	free(got);
	zt_summary_free(s);
}

Test(summary, bad_arguments)
{
	struct zt_summary *s = zt_summary_new();

	cr_assert_eq(zt_summary_add(s, NULL), -EINVAL);
	cr_assert_eq(zt_summary_add(NULL, NULL), -EINVAL);
	zt_summary_free(s);
	zt_summary_free(NULL);
}
