// SPDX-License-Identifier: MIT
/*
 * The agent's memory budget: the process table counts its bytes and evicts the entries of gone
 * processes first, least recently used first, then live ones; the metrics registry evicts the
 * series of exited processes, longest exited first, never live ones; zt_membudget_enforce goes
 * through them in that order, counts and publishes what it evicted.
 */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "membudget.h"
#include "metrics.h"
#include "proctable.h"

#define NPROCS 8

/* Processes with an odd pid run; even ones are gone. */
static bool odd_alive(uint32_t pid, uint64_t start_time)
{
	(void)start_time;
	return pid & 1;
}

/* A table of pids 1..NPROCS, each with a 100-byte cmdline, used in pid order. */
static struct zt_proctable *table(void)
{
	struct zt_proctable *pt = zt_proctable_new();
	char cmdline[101];

	cr_assert_not_null(pt);
	memset(cmdline, 'x', 100);
	cmdline[100] = '\0';
	for (uint32_t pid = 1; pid <= NPROCS; pid++) {
		struct zt_process_info info = {.pid = pid, .start_time = pid, .cmdline = cmdline};

		snprintf(info.comm, sizeof(info.comm), "p%u", pid);
		cr_assert_eq(zt_proctable_put(pt, &info), 0);
	}
	return pt;
}

static void assert_present(struct zt_proctable *pt, const char *want)
{
	for (uint32_t pid = 1; pid <= NPROCS; pid++)
		cr_assert_eq(zt_proctable_peek(pt, pid) != NULL, want[pid - 1] == '1',
			     "pid %u: want %s (%s)", pid, want[pid - 1] == '1' ? "kept" : "evicted",
			     want);
}

Test(membudget, proctable_counts_bytes)
{
	struct zt_proctable *pt = zt_proctable_new();
	uint64_t empty = zt_proctable_bytes(pt);
	struct zt_process_info info = {.pid = 7, .cmdline = "abc"};
	uint64_t one;

	cr_assert_eq(zt_proctable_put(pt, &info), 0);
	one = zt_proctable_bytes(pt);
	cr_assert_gt(one, empty + 4);
	/* replacing keeps one entry's worth */
	cr_assert_eq(zt_proctable_put(pt, &info), 0);
	cr_assert_eq(zt_proctable_bytes(pt), one);
	zt_proctable_remove(pt, 7);
	cr_assert_eq(zt_proctable_bytes(pt), empty);
	zt_proctable_free(pt);
}

Test(membudget, proctable_evicts_gone_processes_first_least_recent_first)
{
	struct zt_proctable *pt = table();
	struct zt_proctable *empty = zt_proctable_new();
	uint64_t full = zt_proctable_bytes(pt), per = (full - zt_proctable_bytes(empty)) / NPROCS;

	zt_proctable_free(empty);
	/* pid 2 used recently: of the gone ones (2, 4, 6, 8), 4 and 6 go first */
	cr_assert_not_null(zt_proctable_get(pt, 2, NULL, NULL));
	cr_assert_eq(zt_proctable_shrink(pt, full - 2 * per, true, odd_alive), 2);
	assert_present(pt, "11101011");
	/* dead only: live entries stay even when the table is still over */
	cr_assert_eq(zt_proctable_shrink(pt, 0, true, odd_alive), 2);
	assert_present(pt, "10101010");
	/* then live ones, least recently used first */
	cr_assert_not_null(zt_proctable_get(pt, 1, NULL, NULL));
	cr_assert_eq(zt_proctable_shrink(pt, zt_proctable_bytes(pt) - per, false, odd_alive), 1);
	assert_present(pt, "10001010");
	cr_assert_eq(zt_proctable_shrink(pt, 0, false, odd_alive), 3);
	assert_present(pt, "00000000");
	zt_proctable_free(pt);
}

static void set_fn(struct zt_metrics *m, uint32_t pid)
{
	struct zt_agg_val v;

	memset(&v, 0, sizeof(v));
	v.count = pid;
	cr_assert_eq(zt_metrics_set_function(m, pid, pid, "comm", "fn", "/bin/x", &v), 0);
}

static bool rendered(struct zt_metrics *m, uint32_t pid)
{
	char *text = NULL, want[64];
	size_t len;
	bool found;

	cr_assert_eq(zt_metrics_render(m, &text, &len), 0);
	snprintf(want, sizeof(want), "{pid=\"%u\",", pid);
	found = strstr(text, want) != NULL;
	free(text);
	return found;
}

static uint64_t fake_now = 1000000000000ull;

static uint64_t fake_clock(void)
{
	return fake_now;
}

Test(membudget, metrics_evicts_exited_series_oldest_first_never_live)
{
	struct zt_metrics *m = zt_metrics_new();
	uint64_t before;

	zt_metrics_set_clock(m, fake_clock);
	for (uint32_t pid = 1; pid <= 4; pid++)
		set_fn(m, pid);
	/* 3 exits first, then 1; 2 and 4 live */
	cr_assert_eq(zt_metrics_process_exited(m, 3, 3), 0);
	fake_now += 1000;
	cr_assert_eq(zt_metrics_process_exited(m, 1, 1), 0);
	before = zt_metrics_bytes(m);
	cr_assert_eq(zt_metrics_evict_exited(m, before - 1), 1);
	cr_assert_lt(zt_metrics_bytes(m), before);
	cr_assert(!rendered(m, 3));
	cr_assert(rendered(m, 1) && rendered(m, 2) && rendered(m, 4));
	/* an update for an evicted process does not bring it back */
	{
		struct zt_agg_val v = {.count = 9};

		cr_assert_eq(zt_metrics_set_function(m, 3, 3, "comm", "fn", "/bin/x", &v), -ESRCH);
	}
	cr_assert_eq(zt_metrics_evict_exited(m, 0), 1);
	cr_assert(!rendered(m, 1));
	cr_assert(rendered(m, 2) && rendered(m, 4));
	zt_metrics_free(m);
}

/* The next line of the redirected stderr holds want. */
static void expect_log(FILE *err, const char *want)
{
	char line[512];

	cr_assert_not_null(fgets(line, sizeof(line), err), "no log line with '%s'", want);
	cr_assert_not_null(strstr(line, want), "log line '%s' lacks '%s'", line, want);
}

Test(membudget, enforce_goes_in_order_and_publishes, .init = cr_redirect_stderr)
{
	struct zt_proctable *pt = table();
	struct zt_metrics *m = zt_metrics_new();
	struct zt_membudget b = {.alive = odd_alive};
	uint64_t procs, series, used, per;
	char *text = NULL;
	size_t len;

	zt_metrics_set_clock(m, fake_clock);
	for (uint32_t pid = 1; pid <= 4; pid++)
		set_fn(m, pid);
	cr_assert_eq(zt_metrics_process_exited(m, 2, 2), 0);
	procs = zt_proctable_bytes(pt);
	series = zt_metrics_bytes(m);
	{
		struct zt_proctable *empty = zt_proctable_new();

		per = (procs - zt_proctable_bytes(empty)) / NPROCS;
		zt_proctable_free(empty);
	}

	/* within budget: nothing evicted, the gauge shows what is held */
	b.max_bytes = procs + series;
	cr_assert_eq(zt_membudget_enforce(&b, pt, m), procs + series);
	cr_assert_eq(b.evicted_procs + b.evicted_series, 0);

	/* one byte over: one gone process's entry goes, nothing else */
	b.max_bytes = procs + series - 1;
	used = zt_membudget_enforce(&b, pt, m);
	cr_assert_leq(used, b.max_bytes);
	cr_assert_eq(b.evicted_procs, 1);
	cr_assert_eq(b.evicted_series, 0);

	/* past every gone entry: the exited series go before live entries */
	b.max_bytes = zt_proctable_bytes(pt) - 3 * per + series - 1;
	zt_membudget_enforce(&b, pt, m);
	cr_assert_eq(b.evicted_procs, 4, "%llu", (unsigned long long)b.evicted_procs);
	cr_assert_eq(b.evicted_series, 1);
	assert_present(pt, "10101010");

	/* the live series alone are over: live entries all go, the series stay */
	b.max_bytes = 1;
	zt_membudget_enforce(&b, pt, m);
	assert_present(pt, "00000000");
	cr_assert_eq(b.evicted_procs, 8);
	cr_assert(b.warned);
	cr_assert(rendered(m, 1) && rendered(m, 3) && rendered(m, 4));

	fflush(stderr);
	expect_log(cr_get_redirected_stderr(),
		   "evicted 1 process entries (0 of live processes) and the series of 0 exited");
	expect_log(cr_get_redirected_stderr(),
		   "evicted 3 process entries (0 of live processes) and the series of 1 exited");
	expect_log(cr_get_redirected_stderr(),
		   "ztrace: memory budget 1 bytes: evicted 4 process entries (4 of live processes) "
		   "and the series of 0 exited");
	expect_log(cr_get_redirected_stderr(),
		   "ztrace: warning: memory budget 1 bytes exceeded by the metrics of live "
		   "processes (");

	cr_assert_eq(zt_metrics_render(m, &text, &len), 0);
	cr_assert_not_null(strstr(text, "\nztrace_cache_evictions_total{cache=\"processes\"} 8\n"));
	cr_assert_not_null(strstr(text, "\nztrace_cache_evictions_total{cache=\"series\"} 1\n"));
	cr_assert_not_null(strstr(text, "\nztrace_cache_memory_budget_bytes 1\n"));
	free(text);
	zt_proctable_free(pt);
	zt_metrics_free(m);
}
