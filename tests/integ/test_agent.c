/* SPDX-License-Identifier: MIT */
/*
 * Integration tests of `ztrace agent`: a config whose rule selects tests/targets/orders by
 * path; processes started before and after the agent are traced with exact counts (read from
 * its /metrics), another program is not, SIGHUP applies an edited rule and refuses a bad one.
 */
#include <criterion/criterion.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/runproc.h"
#include "common/testenv.h"

#define START_MS 10000
#define RUN_MS	 10000
#define SETTLE_MS 1500 /* > the agent's 1 s metrics refresh */

static char ztrace_bin[PATH_MAX], orders_bin[PATH_MAX], sysload_bin[PATH_MAX];
static char config[PATH_MAX];
static int port;

static void write_config(const char *probes)
{
	FILE *f = fopen(config, "w");

	cr_assert(f);
	fprintf(f,
		"log_format: logfmt\n"
		"log_level: info\n"
		"metrics_addr: 127.0.0.1:%d\n"
		"rules:\n"
		"  - name: orders\n"
		"    match:\n"
		"      exe: \"*/targets/orders\"\n"
		"    probes: [%s]\n"
		"    error_if: \"ret<0\"\n",
		port, probes);
	fclose(f);
}

static void setup(void)
{
	const char *out = getenv("ZT_OUTPUT") ? getenv("ZT_OUTPUT") : ".output";
	char dir[PATH_MAX - 64], buf[PATH_MAX];

	cr_assert(realpath(out, buf) && strlen(buf) < sizeof(dir));
	snprintf(dir, sizeof(dir), "%s", buf);
	snprintf(ztrace_bin, sizeof(ztrace_bin), "%s/ztrace", dir);
	snprintf(orders_bin, sizeof(orders_bin), "%s/targets/orders", dir);
	snprintf(sysload_bin, sizeof(sysload_bin), "%s/targets/sysload", dir);
	snprintf(config, sizeof(config), "/tmp/zt-agent-test-%d.yaml", (int)getpid());
	port = zt_free_port();
	write_config("process_order, validate_order");
}

static void teardown(void)
{
	unlink(config);
}

TestSuite(agent, .init = setup, .fini = teardown, .timeout = 60);

/* The value of the metric line starting with prefix (name{labels...), or -1. */
static long long metric(const char *prefix)
{
	char url[64], *argv[] = { "curl", "-s", url, NULL };
	struct zt_proc p = { 0 };
	const char *line;
	long long v = -1;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/metrics", port);
	cr_assert_eq(zt_run(&p, argv, NULL, RUN_MS), 0);
	line = strstr(zt_proc_text(&p, ZT_STDOUT), prefix);
	if (line)
		v = atoll(strchr(line, '}') + 1);
	zt_proc_free(&p);
	return v;
}

static long long calls_of(pid_t pid, const char *function)
{
	char prefix[256];

	snprintf(prefix, sizeof(prefix),
		 "ztrace_function_calls_total{pid=\"%d\",comm=\"orders\",function=\"%s\"", (int)pid,
		 function);
	return metric(prefix);
}

static void start_agent(struct zt_proc *agent)
{
	char *argv[] = { ztrace_bin, "agent", "--config", config, NULL };

	cr_assert_eq(zt_proc_spawn(agent, argv, NULL), 0);
	cr_assert_eq(zt_proc_wait_line(agent, ZT_STDERR, "agent running", START_MS, NULL, 0), 0,
		     "%s", zt_proc_text(agent, ZT_STDERR));
}

/* Run orders (N orders, 1 thread) to its end; returns its pid. */
static pid_t run_orders(const char *n)
{
	char *argv[] = { orders_bin, "--orders", (char *)n, "--threads", "1", "--quiet", NULL };
	struct zt_proc p = { 0 };
	pid_t pid;

	cr_assert_eq(zt_run(&p, argv, NULL, RUN_MS), 0);
	pid = p.pid;
	zt_proc_free(&p);
	return pid;
}

Test(agent, traces_processes_before_and_after_start_and_no_others)
{
	char *wait_argv[] = { orders_bin, "--orders", "5", "--threads", "1", "--wait", "--quiet",
			      NULL };
	char *other[] = { sysload_bin, NULL };
	struct zt_proc agent = { 0 }, before = { 0 }, o = { 0 };
	pid_t after[5];

	/* one already running when the agent starts, held until the agent runs */
	cr_assert_eq(zt_proc_spawn(&before, wait_argv, NULL), 0);
	cr_assert_eq(zt_proc_wait_line(&before, ZT_STDOUT, "ready", START_MS, NULL, 0), 0);
	start_agent(&agent);
	cr_assert_eq(zt_proc_write(&before, "g", 1), 0);
	cr_assert_eq(zt_proc_wait(&before, RUN_MS), 0);
	for (int i = 0; i < 5; i++)
		after[i] = run_orders("5");
	cr_assert_eq(zt_run(&o, other, NULL, RUN_MS), 0);
	usleep(SETTLE_MS * 1000);
	cr_assert_eq(calls_of(before.pid, "process_order"), 5);
	cr_assert_eq(calls_of(before.pid, "validate_order"), 5);
	for (int i = 0; i < 5; i++) {
		cr_assert_eq(calls_of(after[i], "process_order"), 5, "pid %d", (int)after[i]);
		cr_assert_eq(calls_of(after[i], "validate_order"), 5);
	}
	{
		char prefix[128];

		/* order 5 fails validation in each run */
		snprintf(prefix, sizeof(prefix),
			 "ztrace_function_errors_total{pid=\"%d\",comm=\"orders\",function=\""
			 "process_order\"",
			 (int)after[0]);
		cr_assert_eq(metric(prefix), 1);
		snprintf(prefix, sizeof(prefix), "pid=\"%d\"", (int)o.pid);
		cr_assert_eq(metric(prefix), -1, "sysload is not selected by any rule");
	}
	zt_proc_signal(&agent, SIGINT);
	cr_assert_eq(zt_proc_wait(&agent, RUN_MS), 0, "%s", zt_proc_text(&agent, ZT_STDERR));
	zt_proc_free(&agent);
	zt_proc_free(&before);
	zt_proc_free(&o);
}

Test(agent, sighup_applies_an_edited_rule_and_refuses_a_bad_one)
{
	struct zt_proc agent = { 0 };
	pid_t first, second, third;
	FILE *f;

	start_agent(&agent);
	first = run_orders("3");
	/* narrow the rule to validate_order */
	write_config("validate_order");
	zt_proc_signal(&agent, SIGHUP);
	cr_assert_eq(zt_proc_wait_line(&agent, ZT_STDERR, "config reloaded", RUN_MS, NULL, 0), 0,
		     "%s", zt_proc_text(&agent, ZT_STDERR));
	second = run_orders("3");
	/* a broken config is refused; the running one stays */
	f = fopen(config, "w");
	cr_assert(f);
	fputs("rules:\n  - name: x\n    probez: [a]\n", f);
	fclose(f);
	zt_proc_signal(&agent, SIGHUP);
	cr_assert_eq(zt_proc_wait_line(&agent, ZT_STDERR, "config reload refused", RUN_MS, NULL, 0),
		     0, "%s", zt_proc_text(&agent, ZT_STDERR));
	third = run_orders("3");
	usleep(SETTLE_MS * 1000);
	cr_assert_eq(calls_of(first, "process_order"), 3);
	cr_assert_eq(calls_of(second, "process_order"), -1, "process_order left the rule");
	cr_assert_eq(calls_of(second, "validate_order"), 3);
	cr_assert_eq(calls_of(third, "validate_order"), 3);
	cr_assert_eq(calls_of(third, "process_order"), -1);
	zt_proc_signal(&agent, SIGTERM);
	cr_assert_eq(zt_proc_wait(&agent, RUN_MS), 0);
	zt_proc_free(&agent);
}

Test(agent, bad_config_is_refused_with_its_line)
{
	char *argv[] = { ztrace_bin, "agent", "--config", config, NULL };
	struct zt_proc p = { 0 };
	FILE *f = fopen(config, "w");

	cr_assert(f);
	fputs("rules:\n  - name: x\n    probez: [a]\n", f);
	fclose(f);
	cr_assert_eq(zt_run(&p, argv, NULL, RUN_MS), 2);
	cr_assert(strstr(zt_proc_text(&p, ZT_STDERR), ":3:"), "%s", zt_proc_text(&p, ZT_STDERR));
	cr_assert(strstr(zt_proc_text(&p, ZT_STDERR), "probez"));
	zt_proc_free(&p);
}
