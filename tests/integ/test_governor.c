// SPDX-License-Identifier: MIT
/*
 * The overhead governor against the real kernel: tests/targets/hotcold calls hot() in a tight
 * loop and, from one hot call in 4096, cold(). With a probe budget far under hot's cost and far
 * over cold's, the governor samples hot in the kernel (log line, metrics) and leaves cold at
 * rate 1; the calls the target counted itself equal kept + sampled out exactly, and cold, which
 * runs inside sampled-out hot calls, loses no call.
 *
 * Binaries come from $ZT_OUTPUT (default .output). Run from the repository root, as root.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/runproc.h"
#include "common/webget.h"
#include "common/testenv.h"

/* 1 ms of BPF run time per second: hot costs tens of ms/s, cold (~30 calls/s) ~20 us/s. */
#define BUDGET	    "1000000"
#define RUN_SECONDS "4"

/* Deadlines, in milliseconds. */
#define RUN_MS	  60000 /* the target's loop ends (it runs RUN_SECONDS under a busy host) */
#define SETTLE_MS 5000	/* the registry catches up with the final counts (every second) */
#define EXIT_MS	  10000
#define POLL_MS	  200
#define OUT_TAIL  3000

static char ztrace_bin[PATH_MAX];
static char hotcold_bin[PATH_MAX];

static void setup(void)
{
	if (geteuid() != 0)
		cr_skip_test("integration tests load BPF programs: run as root");
	zt_output_path(ztrace_bin, "ztrace");
	zt_output_path(hotcold_bin, "targets/hotcold");
}

static const char *tail(const char *s, size_t max)
{
	size_t len = s ? strlen(s) : 0;

	return len > max ? s + len - max : (s ? s : "");
}

/* The sample of metric name{label="value"} or for a function's calls in process pid. */
static double probe_sample(const char *text, const char *name, const char *fn)
{
	char series[PATH_MAX + 128];

	snprintf(series, sizeof(series), "%s{probe=\"u:%s:%s\"}", name, hotcold_bin, fn);
	return zt_exposition_value(text, series);
}

static double calls_sample(const char *text, int pid, const char *fn)
{
	char series[PATH_MAX + 128];

	snprintf(series, sizeof(series),
		 "ztrace_function_calls_total{pid=\"%d\",comm=\"hotcold\",function=\"%s\","
		 "binary=\"%s\"}",
		 pid, fn, hotcold_bin);
	return zt_exposition_value(text, series);
}

/* The CALLS column of fn's row in the summary table. */
static long summary_calls(const char *out, const char *fn)
{
	size_t n = strlen(fn);

	for (const char *line = out; line && *line; line = strchr(line, '\n'), line += !!line)
		if (strncmp(line, fn, n) == 0 && line[n] == ' ')
			return strtol(line + n, NULL, 10);
	return -1;
}

Test(governor, samples_hot_probe_exactly_and_leaves_cold_one, .init = setup, .timeout = 120)
{
	char addr[32], url[64], line[256], logline[PATH_MAX + 128];
	struct zt_argv a = {0};
	struct zt_proc zt;
	long hot = -1, cold = -1, sampled = -1, nprobes = -1;
	char *body = NULL;
	const char *err, *w;
	unsigned int port = zt_free_port();
	int ret, pid, waited;

	snprintf(addr, sizeof(addr), "127.0.0.1:%u", port);
	snprintf(url, sizeof(url), "http://%s/metrics", addr);
	zt_argv_add(&a, ztrace_bin);
	zt_argv_add(&a, "trace");
	zt_argv_add(&a, "hot");
	zt_argv_add(&a, "cold");
	zt_argv_add(&a, "--probe-budget");
	zt_argv_add(&a, BUDGET);
	zt_argv_add(&a, "--metrics-addr");
	zt_argv_add(&a, addr);
	zt_argv_add(&a, "-q");
	zt_argv_add(&a, "--");
	zt_argv_add(&a, hotcold_bin);
	zt_argv_add(&a, "--seconds");
	zt_argv_add(&a, RUN_SECONDS);
	zt_argv_add(&a, "--wait");
	ret = zt_proc_spawn(&zt, a.v, NULL);
	cr_assert_eq(ret, 0, "spawn %s: %s", ztrace_bin, strerror(-ret));

	/* The decision, published then logged in the same tick, while hot still runs: hot is
	 * sampled, cold is not. (Once the loop ends hot costs nothing and the sampling is lifted.)
	 */
	snprintf(logline, sizeof(logline), "ztrace: probe u:%s:hot costs ", hotcold_bin);
	ret = zt_proc_wait_line(&zt, ZT_STDERR, logline, RUN_MS, line, sizeof(line));
	cr_assert_eq(ret, 0, "no governor line for hot (%s); stderr:\n%s", strerror(-ret),
		     tail(zt_proc_text(&zt, ZT_STDERR), OUT_TAIL));
	cr_assert_not_null(strstr(line, " ns/s over budget " BUDGET " ns/s: sampling 1 in "), "%s",
			   line);
	cr_assert_eq(zt_http_get(url, &body), 200);
	cr_assert_gt(probe_sample(body, "ztrace_probe_sample_rate", "hot"), 1, "%s",
		     tail(body, OUT_TAIL));
	cr_assert_eq(probe_sample(body, "ztrace_probe_sample_rate", "cold"), 1, "%s",
		     tail(body, OUT_TAIL));

	ret = zt_proc_wait_line(&zt, ZT_STDOUT, "hotcold: hot=", RUN_MS, line, sizeof(line));
	cr_assert_eq(ret, 0, "no counts from hotcold (%s); stderr:\n%s", strerror(-ret),
		     tail(zt_proc_text(&zt, ZT_STDERR), OUT_TAIL));
	cr_assert_eq(sscanf(line, "hotcold: hot=%ld cold=%ld", &hot, &cold), 2, "%s", line);
	cr_assert_gt(cold, 0, "%s", line);
	err = strstr(zt_proc_text(&zt, ZT_STDERR), "in pid ");
	cr_assert_not_null(err);
	pid = atoi(err + strlen("in pid "));

	/* While the target waits: its final counts reach the registry within a tick or two. */
	for (waited = 0;; waited += POLL_MS) {
		double kept, out;

		free(body);
		body = NULL;
		cr_assert_eq(zt_http_get(url, &body), 200);
		/* calls_total counts every call, the sampled-out ones untimed */
		kept = calls_sample(body, pid, "hot");
		out = probe_sample(body, "ztrace_function_calls_sampled_out_total", "hot");
		if (kept == (double)hot && out > 0 && calls_sample(body, pid, "cold") == (double)cold)
			break;
		cr_assert_lt(waited, SETTLE_MS, "hot=%ld cold=%ld never settled; metrics:\n%s", hot,
			     cold, tail(body, OUT_TAIL));
		usleep(POLL_MS * 1000);
	}
	cr_assert_gt(probe_sample(body, "ztrace_function_calls_sampled_out_total", "hot"), 0);
	cr_assert_eq(probe_sample(body, "ztrace_probe_sample_rate", "cold"), 1, "%s",
		     tail(body, OUT_TAIL));
	cr_assert_eq(probe_sample(body, "ztrace_function_calls_sampled_out_total", "cold"), 0);
	/* idle since the loop ended: hot back at 1 only with the lift logged */
	if (probe_sample(body, "ztrace_probe_sample_rate", "hot") == 1) {
		snprintf(logline, sizeof(logline), "ztrace: probe u:%s:hot costs ", hotcold_bin);
		w = strstr(zt_proc_text(&zt, ZT_STDERR), logline);
		cr_assert_not_null(w);
		cr_assert_not_null(strstr(w, " ns/s, under budget " BUDGET
					     " ns/s: sampling lifted, every call kept\n"),
				   "%s", zt_proc_text(&zt, ZT_STDERR));
	}
	free(body);

	zt_proc_close_stdin(&zt);
	ret = zt_proc_wait(&zt, EXIT_MS);
	err = zt_proc_text(&zt, ZT_STDERR);
	cr_assert_eq(ret, 0, "ztrace exit %d; stderr:\n%s", ret, tail(err, OUT_TAIL));

	/* cold was never sampled */
	snprintf(logline, sizeof(logline), "probe u:%s:cold costs", hotcold_bin);
	cr_assert_null(strstr(err, logline), "cold was sampled; stderr:\n%s", err);

	/* The summary counts the calls kept and says how many were left out. */
	w = strstr(err, "the overhead governor sampled out ");
	cr_assert_not_null(w, "%s", err);
	cr_assert_eq(sscanf(w, "the overhead governor sampled out %ld calls of %ld probe", &sampled,
			    &nprobes),
		     2, "%s", w);
	cr_assert_eq(nprobes, 1);
	cr_assert_eq(summary_calls(zt_proc_text(&zt, ZT_STDOUT), "hot") + sampled, hot, "%s",
		     zt_proc_text(&zt, ZT_STDOUT));
	cr_assert_eq(summary_calls(zt_proc_text(&zt, ZT_STDOUT), "cold"), cold, "%s",
		     zt_proc_text(&zt, ZT_STDOUT));
	zt_proc_free(&zt);
}

Test(governor, bad_budget_exits_2, .init = setup)
{
	static const char *const bad[] = {"0", "101%", "-5", "2%x", "1e12", "nan%"};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *argv[] = {ztrace_bin, "trace", "--probe-budget", (char *)bad[i],
				"hot",	    "--",    hotcold_bin,      NULL};
		char want[256];
		struct zt_proc zt;
		int ret = zt_proc_spawn(&zt, argv, NULL);

		cr_assert_eq(ret, 0);
		ret = zt_proc_wait(&zt, EXIT_MS);
		snprintf(
		    want, sizeof(want),
		    "ztrace: bad probe budget '%s': give a percentage of one CPU (e.g. 2%%) or "
		    "nanoseconds of BPF run time per second (1 to 999999999)\n",
		    bad[i]);
		cr_assert_eq(ret, 2, "'%s': exit %d", bad[i], ret);
		cr_assert_str_eq(zt_proc_text(&zt, ZT_STDERR), want);
		zt_proc_free(&zt);
	}
}
