// SPDX-License-Identifier: MIT
/*
 * The agent's memory budget against the real kernel: with --max-memory at its smallest and a
 * rule with syscalls (each process's series take ~10 KiB), short-lived processes of
 * tests/targets/orders exit one after another; their series would linger for a minute, but the
 * budget evicts the oldest exited ones. Every process the agent selected is accounted for: its
 * series are shown or counted in ztrace_cache_evictions_total{cache="series"}; the caches stay
 * within the budget and the eviction is logged.
 *
 * Binaries come from $ZT_OUTPUT (default .output). Run from the repository root, as root.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/runproc.h"
#include "common/webget.h"
#include "common/testenv.h"

#define NPROCS	   400
#define MAX_MEMORY "4MiB"
#define BUDGET	   (4u << 20)
/* A loose ceiling on the agent's RSS: without the budget NPROCS processes' series would add
 * ~5 MiB to a ~25 MiB agent; the exact bound is the cache gauge checked below. */
#define RSS_LIMIT (48u << 20)

#define START_MS  10000
#define RUN_MS	  10000
#define SETTLE_MS 5000
#define EXIT_MS	  10000
#define POLL_MS	  200
#define OUT_TAIL  3000

static char ztrace_bin[PATH_MAX], orders_bin[PATH_MAX], config[PATH_MAX];

static void setup(void)
{
	if (geteuid() != 0)
		cr_skip_test("integration tests load BPF programs: run as root");
	zt_output_path(ztrace_bin, "ztrace");
	zt_output_path(orders_bin, "targets/orders");
	snprintf(config, sizeof(config), "/tmp/zt-membudget-test-%d.yaml", (int)getpid());
}

static const char *tail(const char *s, size_t max)
{
	size_t len = s ? strlen(s) : 0;

	return len > max ? s + len - max : (s ? s : "");
}

/* Lines of text holding needle. */
static size_t count_lines(const char *text, const char *needle)
{
	size_t n = 0;

	for (const char *line = text; line && *line; line = strchr(line, '\n'), line += !!line) {
		const char *end = strchr(line, '\n'), *hit = strstr(line, needle);

		n += hit && (!end || hit < end);
	}
	return n;
}

/* Distinct pids with ztrace_syscalls_total series in an exposition. */
static size_t pids_shown(const char *text)
{
	static char seen[1 << 22];
	size_t n = 0;

	memset(seen, 0, sizeof(seen));
	for (const char *line = text; line && *line; line = strchr(line, '\n'), line += !!line) {
		long pid;

		if (strncmp(line, "ztrace_syscalls_total{pid=\"", 27))
			continue;
		pid = strtol(line + 27, NULL, 10);
		if (pid > 0 && pid < (long)sizeof(seen) && !seen[pid]) {
			seen[pid] = 1;
			n++;
		}
	}
	return n;
}

Test(membudget, short_lived_processes_evicted_within_budget, .init = setup, .timeout = 180)
{
	char url[64], *body = NULL;
	struct zt_proc agent;
	unsigned int port = zt_free_port();
	double evicted = -1, held = -1, rss = -1;
	size_t shown = 0, selected = 0;
	FILE *f = fopen(config, "w");
	int ret;

	cr_assert_not_null(f);
	fprintf(f,
		"log_level: info\n"
		"metrics_addr: 127.0.0.1:%u\n"
		"probe_budget: off\n"
		"rules:\n"
		"  - name: orders\n"
		"    match: {exe: \"%s\"}\n"
		"    probes: [process_order]\n"
		"    syscalls: true\n",
		port, orders_bin);
	fclose(f);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/metrics", port);
	{
		char *argv[] = {ztrace_bin,	"agent",    "--config", config,
				"--max-memory", MAX_MEMORY, NULL};

		ret = zt_proc_spawn(&agent, argv, NULL);
	}
	cr_assert_eq(ret, 0);
	ret = zt_proc_wait_line(&agent, ZT_STDERR, "agent running", START_MS, NULL, 0);
	cr_assert_eq(ret, 0, "agent did not start: %s",
		     tail(zt_proc_text(&agent, ZT_STDERR), OUT_TAIL));

	/*
	 * The first process of the file is held until the agent traces it (a process selected in
	 * its last syscall would leave nothing to show); from then on the kernel selects every
	 * process of the file at its exec, before its first syscall.
	 */
	{
		char *argv[] = {orders_bin, "--orders", "1", "--threads", "1", "--wait", "--quiet",
				NULL};
		char needle[64];
		struct zt_proc p;

		cr_assert_eq(zt_proc_spawn(&p, argv, NULL), 0);
		snprintf(needle, sizeof(needle), "tracing pid %d ", (int)p.pid);
		ret = zt_proc_wait_line(&agent, ZT_STDERR, needle, START_MS, NULL, 0);
		cr_assert_eq(ret, 0, "the agent did not trace pid %d", (int)p.pid);
		cr_assert_eq(zt_proc_write(&p, "g", 1), 0);
		cr_assert_eq(zt_proc_wait(&p, RUN_MS), 0);
		zt_proc_free(&p);
	}
	/* one after another */
	for (int i = 1; i < NPROCS; i++) {
		char *argv[] = {orders_bin,   "--orders", "1",	     "--threads", "1",
				"--sleep-ms", "20",	  "--quiet", NULL};
		struct zt_proc p;

		cr_assert_eq(zt_proc_spawn(&p, argv, NULL), 0);
		ret = zt_proc_wait(&p, RUN_MS);
		cr_assert_eq(ret, 0, "orders exit %d: %s", ret, zt_proc_text(&p, ZT_STDERR));
		zt_proc_free(&p);
		zt_proc_pump(&agent, 0);
	}

	/* every exit reaches the registry within a refresh or two */
	for (int waited = 0;; waited += POLL_MS) {
		free(body);
		body = NULL;
		cr_assert_eq(zt_http_get(url, &body), 200);
		evicted =
		    zt_exposition_value(body, "ztrace_cache_evictions_total{cache=\"series\"}");
		held = zt_exposition_value(body, "ztrace_cache_memory_bytes");
		rss = zt_exposition_value(body, "process_resident_memory_bytes");
		shown = pids_shown(body);
		zt_proc_pump(&agent, 0);
		/* the processes the agent selected (one it saw too late is discovery's business) */
		selected = count_lines(zt_proc_text(&agent, ZT_STDERR), "msg=\"tracing pid ");
		if (evicted >= 0 && shown + (size_t)evicted == selected)
			break;
		cr_assert_lt(waited, SETTLE_MS, "%zu shown + %.0f evicted != %zu selected", shown,
			     evicted, selected);
		usleep(POLL_MS * 1000);
	}
	cr_assert_gt(selected, NPROCS / 2, "only %zu of %d processes selected", selected, NPROCS);
	cr_assert_gt(evicted, 0, "nothing evicted: %zu shown", shown);
	cr_assert_gt(held, 0);
	cr_assert_leq(held, BUDGET);
	cr_assert_eq(zt_exposition_value(body, "ztrace_cache_memory_budget_bytes"), BUDGET);
	cr_assert_lt(rss, RSS_LIMIT, "agent RSS %.0f bytes", rss);
	free(body);

	zt_proc_signal(&agent, SIGTERM);
	ret = zt_proc_wait(&agent, EXIT_MS);
	cr_assert_eq(ret, 0, "agent exit %d", ret);
	cr_assert_not_null(
	    strstr(zt_proc_text(&agent, ZT_STDERR), "msg=\"memory budget 4194304 bytes: evicted "),
	    "%s", tail(zt_proc_text(&agent, ZT_STDERR), OUT_TAIL));
	zt_proc_free(&agent);
	unlink(config);
}
