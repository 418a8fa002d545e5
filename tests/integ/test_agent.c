/* SPDX-License-Identifier: MIT */
/*
 * Integration tests of `ztrace agent`: a config whose rule selects tests/targets/orders by
 * path; processes started before and after the agent are traced with exact counts (read from
 * its /metrics), another program is not, SIGHUP applies an edited rule and refuses a bad one.
 * Per-rule policies (error_if, sample, min_duration) and the per-rule reload run on two copies
 * of orders in a directory of the test's own, so each rule selects exactly one program.
 */
#include <criterion/criterion.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/jsonl.h"
#include "common/runproc.h"
#include "common/testenv.h"

#define START_MS 10000
#define RUN_MS	 10000
#define SETTLE_MS 1500 /* > the agent's 1 s metrics refresh */

static char ztrace_bin[PATH_MAX], orders_bin[PATH_MAX], sysload_bin[PATH_MAX];
static char args_bin[PATH_MAX], producer_bin[PATH_MAX];
static const char *top_extra = ""; /* more top-level YAML lines, for one test */
static char config[PATH_MAX];
static char workdir[PATH_MAX - 64], record[PATH_MAX], orders_a[PATH_MAX], orders_b[PATH_MAX];
static int port;

/* A config of the given rules (YAML list items), with metrics and the record file. */
static void write_rules(const char *rules)
{
	FILE *f = fopen(config, "w");

	cr_assert(f);
	fprintf(f,
		"log_format: logfmt\n"
		"log_level: info\n"
		"metrics_addr: 127.0.0.1:%d\n"
		"record:\n"
		"  path: %s\n"
		"%s"
		"rules:\n%s",
		port, record, top_extra, rules);
	fclose(f);
}

/* A rule named name selecting the program at exe, with more YAML lines (indented 4). */
static void rule_text(char *out, size_t len, const char *name, const char *exe,
		      const char *more)
{
	cr_assert_lt(snprintf(out, len,
			      "  - name: %s\n"
			      "    match:\n"
			      "      exe: \"%s\"\n"
			      "%s",
			      name, exe, more),
		     (int)len);
}

/* The rule "orders" on every program called orders, tracing probes with error_if ret<0. */
static void write_config(const char *probes)
{
	char rule[512], more[256];

	snprintf(more, sizeof(more), "    probes: [%s]\n    error_if: \"ret<0\"\n", probes);
	rule_text(rule, sizeof(rule), "orders", "*/targets/orders", more);
	write_rules(rule);
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
	snprintf(args_bin, sizeof(args_bin), "%s/targets/args_app", dir);
	snprintf(producer_bin, sizeof(producer_bin), "%s/targets/bench_producer", dir);
	top_extra = "";
	snprintf(config, sizeof(config), "/tmp/zt-agent-test-%d.yaml", (int)getpid());
	snprintf(workdir, sizeof(workdir), "/tmp/zt-agent-test-%d", (int)getpid());
	snprintf(record, sizeof(record), "%s/run.zt", workdir);
	snprintf(orders_a, sizeof(orders_a), "%s/a/orders", workdir);
	snprintf(orders_b, sizeof(orders_b), "%s/b/orders", workdir);
	port = zt_free_port();
	cr_assert_eq(mkdir(workdir, 0700), 0);
	write_config("process_order, validate_order");
}

static void teardown(void)
{
	char cmd[PATH_MAX + 16];

	unlink(config);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", workdir);
	cr_assert_eq(system(cmd), 0);
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

static void start_traced(struct zt_proc *agent, struct zt_proc *p, const char *exe,
			 const char *n, const char *sleep_ms);

/*
 * Run orders (N orders, 1 thread) to its end once the agent traces it (a program done in a few
 * milliseconds may end before any agent attaches); returns its pid.
 */
static pid_t run_orders(struct zt_proc *agent, const char *n)
{
	struct zt_proc p = { 0 };
	pid_t pid;

	start_traced(agent, &p, orders_bin, n, "2");
	cr_assert_eq(zt_proc_wait(&p, RUN_MS), 0);
	pid = p.pid;
	zt_proc_free(&p);
	return pid;
}

/*
 * Once the agent selected a process of a file by a rule on its executable alone, the kernel
 * selects the next processes of that file at their exec: nothing they do is missed, even a
 * program that is done within a millisecond, before the agent could read its exec.
 */
Test(agent, later_processes_of_a_selected_file_are_traced_from_their_first_call)
{
	char *argv[] = { orders_bin, "--orders", "3", "--threads", "1", "--sleep-ms", "0",
			 "--quiet", NULL };
	struct zt_proc agent = { 0 }, quick[5] = { 0 };

	start_agent(&agent);
	run_orders(&agent, "1"); /* the first process of the file: the agent attaches to it */
	for (int i = 0; i < 5; i++)
		cr_assert_eq(zt_run(&quick[i], argv, NULL, RUN_MS), 0);
	usleep(SETTLE_MS * 1000);
	for (int i = 0; i < 5; i++) {
		cr_assert_eq(calls_of(quick[i].pid, "process_order"), 3, "pid %d",
			     (int)quick[i].pid);
		cr_assert_eq(calls_of(quick[i].pid, "validate_order"), 3);
		zt_proc_free(&quick[i]);
	}
	zt_proc_signal(&agent, SIGINT);
	cr_assert_eq(zt_proc_wait(&agent, RUN_MS), 0, "%s", zt_proc_text(&agent, ZT_STDERR));
	zt_proc_free(&agent);
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
		after[i] = run_orders(&agent, "5");
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
	first = run_orders(&agent, "3");
	/* narrow the rule to validate_order */
	write_config("validate_order");
	zt_proc_signal(&agent, SIGHUP);
	cr_assert_eq(zt_proc_wait_line(&agent, ZT_STDERR, "config reloaded", RUN_MS, NULL, 0), 0,
		     "%s", zt_proc_text(&agent, ZT_STDERR));
	second = run_orders(&agent, "3");
	/* a broken config is refused; the running one stays */
	f = fopen(config, "w");
	cr_assert(f);
	fputs("rules:\n  - name: x\n    probez: [a]\n", f);
	fclose(f);
	zt_proc_signal(&agent, SIGHUP);
	cr_assert_eq(zt_proc_wait_line(&agent, ZT_STDERR, "config reload refused", RUN_MS, NULL, 0),
		     0, "%s", zt_proc_text(&agent, ZT_STDERR));
	third = run_orders(&agent, "3");
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

/*
 * Two copies of orders (with its library, found through $ORIGIN) in workdir/a and workdir/b:
 * distinct files, so each rule selects one program and attaches to its own file.
 */
static void copy_orders(void)
{
	const char *dir = strrchr(orders_bin, '/');
	char cmd[8 * PATH_MAX];

	snprintf(cmd, sizeof(cmd),
		 "mkdir -p %s/a %s/b && cp %s %.*s/libpricing.so %s/a/ && "
		 "cp %s %.*s/libpricing.so %s/b/",
		 workdir, workdir, orders_bin, (int)(dir - orders_bin), orders_bin, workdir,
		 orders_bin, (int)(dir - orders_bin), orders_bin, workdir);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
}

/*
 * Start exe making n orders (sleep_ms each) once the agent has attached to it: it waits on
 * stdin until the agent logged that it traces it, then goes.
 */
static void start_traced(struct zt_proc *agent, struct zt_proc *p, const char *exe,
			 const char *n, const char *sleep_ms)
{
	char *argv[] = { (char *)exe, "--orders", (char *)n, "--threads", "1", "--sleep-ms",
			 (char *)sleep_ms, "--wait", "--quiet", NULL };
	char line[64];

	cr_assert_eq(zt_proc_spawn(p, argv, NULL), 0);
	cr_assert_eq(zt_proc_wait_line(p, ZT_STDOUT, "ready", START_MS, NULL, 0), 0);
	snprintf(line, sizeof(line), "tracing pid %d ", (int)p->pid);
	cr_assert_eq(zt_proc_wait_line(agent, ZT_STDERR, line, START_MS, NULL, 0), 0, "%s",
		     zt_proc_text(agent, ZT_STDERR));
	cr_assert_eq(zt_proc_write(p, "g", 1), 0);
}

static long long errors_of(pid_t pid, const char *function)
{
	char prefix[256];

	snprintf(prefix, sizeof(prefix),
		 "ztrace_function_errors_total{pid=\"%d\",comm=\"orders\",function=\"%s\"",
		 (int)pid, function);
	return metric(prefix);
}

/* Stop the agent (SIGINT) and read back the spans of its record file. */
static void stop_and_read_spans(struct zt_proc *agent, struct zt_spans *spans)
{
	char *argv[] = { ztrace_bin, "export", record, "--format", "jsonl", NULL };
	struct zt_proc p = { 0 };
	char err[256];

	zt_proc_signal(agent, SIGINT);
	cr_assert_eq(zt_proc_wait(agent, RUN_MS), 0, "%s", zt_proc_text(agent, ZT_STDERR));
	cr_assert_eq(zt_run(&p, argv, NULL, RUN_MS), 0, "%s", zt_proc_text(&p, ZT_STDERR));
	memset(spans, 0, sizeof(*spans));
	cr_assert_eq(zt_jsonl_parse(zt_proc_text(&p, ZT_STDOUT), spans, err, sizeof(err)), 0,
		     "%s", err);
	zt_proc_free(&p);
}

/* Spans of pid named name (any when NULL) with status (any when NULL). */
static size_t count_spans(const struct zt_spans *s, pid_t pid, const char *name,
			  const char *status)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n; i++)
		n += s->v[i].pid == pid && (!name || !strcmp(s->v[i].name, name)) &&
		     (!status || !strcmp(s->v[i].status, status));
	return n;
}

/*
 * Rule a selects the copy in workdir/a, rule b the one in workdir/b, each with its own YAML
 * lines; start the agent and one process of each making n orders of sleep_ms, traced from
 * their first call; with wait, until they end and the metrics are refreshed.
 */
static void run_two_rules(struct zt_proc *agent, struct zt_proc *pa, struct zt_proc *pb,
			  const char *more_a, const char *more_b, const char *n,
			  const char *sleep_ms, bool wait)
{
	char a[512], b[512], rules[1024];

	copy_orders();
	rule_text(a, sizeof(a), "a", orders_a, more_a);
	rule_text(b, sizeof(b), "b", orders_b, more_b);
	snprintf(rules, sizeof(rules), "%s%s", a, b);
	write_rules(rules);
	start_agent(agent);
	start_traced(agent, pa, orders_a, n, sleep_ms);
	start_traced(agent, pb, orders_b, n, sleep_ms);
	if (!wait)
		return;
	cr_assert_eq(zt_proc_wait(pa, RUN_MS), 0);
	cr_assert_eq(zt_proc_wait(pb, RUN_MS), 0);
	usleep(SETTLE_MS * 1000);
}

Test(agent, error_if_is_per_rule_in_metrics_and_spans)
{
	struct zt_proc agent = { 0 }, pa = { 0 }, pb = { 0 };
	struct zt_spans spans;

	run_two_rules(&agent, &pa, &pb,
		      "    probes: [process_order, validate_order]\n    error_if: \"ret<0\"\n",
		      "    probes: [process_order, validate_order]\n    error_if: \"ret==0\"\n",
		      "10", "1", true);
	/* orders 5 and 10 fail: process_order -1, validate_order -22; the others return 0 */
	cr_assert_eq(calls_of(pa.pid, "process_order"), 10);
	cr_assert_eq(errors_of(pa.pid, "process_order"), 2);
	cr_assert_eq(errors_of(pa.pid, "validate_order"), 2);
	cr_assert_eq(calls_of(pb.pid, "process_order"), 10);
	cr_assert_eq(errors_of(pb.pid, "process_order"), 8, "rule b: ret==0 is an error");
	cr_assert_eq(errors_of(pb.pid, "validate_order"), 8);
	stop_and_read_spans(&agent, &spans);
	cr_assert_eq(count_spans(&spans, pa.pid, "process_order", "error"), 2);
	cr_assert_eq(count_spans(&spans, pa.pid, "process_order", "ok"), 8);
	cr_assert_eq(count_spans(&spans, pa.pid, "validate_order", "error"), 2);
	cr_assert_eq(count_spans(&spans, pb.pid, "process_order", "error"), 8);
	cr_assert_eq(count_spans(&spans, pb.pid, "process_order", "ok"), 2);
	cr_assert_eq(count_spans(&spans, pb.pid, "validate_order", "error"), 8);
	{
		char *argv[] = { ztrace_bin, "report", record, "--top", "0", NULL };
		struct zt_proc r = { 0 };

		/* the processes are in the file too (service names, command lines) */
		cr_assert_eq(zt_run(&r, argv, NULL, RUN_MS), 0);
		cr_assert(strstr(zt_proc_text(&r, ZT_STDOUT), " spans from 2 processes"), "%s",
			  zt_proc_text(&r, ZT_STDOUT));
		zt_proc_free(&r);
	}
	zt_spans_free(&spans);
	zt_proc_free(&agent);
	zt_proc_free(&pa);
	zt_proc_free(&pb);
}

Test(agent, sample_keeps_or_drops_whole_traces_and_counts_the_rest)
{
	char a[512];
	struct zt_proc agent = { 0 }, pa = { 0 };
	struct zt_spans spans;
	size_t kept, roots;
	long long out;

	copy_orders();
	rule_text(a, sizeof(a), "half", orders_a,
		  "    probes: [process_order, validate_order, compute_price]\n"
		  "    sample: 0.5\n");
	write_rules(a);
	start_agent(&agent);
	/* 40 traces: 40 process_order, 40 validate_order, 32 compute_price (8 orders fail) */
	start_traced(&agent, &pa, orders_a, "40", "0");
	cr_assert_eq(zt_proc_wait(&pa, RUN_MS), 0);
	usleep(SETTLE_MS * 1000);
	cr_assert_eq(calls_of(pa.pid, "process_order"), 40, "the kernel counts every call");
	out = metric("ztrace_spans_sampled_out_total{rule=\"half\"}");
	stop_and_read_spans(&agent, &spans);
	kept = count_spans(&spans, pa.pid, NULL, NULL);
	roots = count_spans(&spans, pa.pid, "process_order", NULL);
	cr_assert_eq((long long)kept + out, 112, "kept %zu + sampled out %lld", kept, out);
	cr_assert(roots > 0 && roots < 40, "about half the traces kept: %zu", roots);
	/* whole traces: every kept span's root is kept, and every kept root has its children */
	cr_assert_eq(count_spans(&spans, pa.pid, "validate_order", NULL), roots);
	for (size_t i = 0; i < spans.n; i++) {
		const struct zt_span *root = zt_span_root(&spans, &spans.v[i]);

		cr_assert(root && !strcmp(root->name, "process_order"), "%s", spans.v[i].name);
	}
	cr_assert(strstr(zt_proc_text(&agent, ZT_STDERR), "spans sampled out"), "%s",
		  zt_proc_text(&agent, ZT_STDERR));
	zt_spans_free(&spans);
	zt_proc_free(&agent);
	zt_proc_free(&pa);
}

Test(agent, min_duration_is_per_rule)
{
	struct zt_proc agent = { 0 }, pa = { 0 }, pb = { 0 };
	struct zt_spans spans;

	/* process_order sleeps 2 ms; validate_order takes microseconds */
	run_two_rules(&agent, &pa, &pb,
		      "    probes: [process_order, validate_order]\n    error_if: \"ret<0\"\n"
		      "    min_duration: 1ms\n",
		      "    probes: [process_order, validate_order]\n    error_if: \"ret<0\"\n",
		      "10", "2", true);
	cr_assert_eq(calls_of(pa.pid, "validate_order"), 10, "short calls are still counted");
	cr_assert_eq(calls_of(pb.pid, "validate_order"), 10);
	stop_and_read_spans(&agent, &spans);
	cr_assert_eq(count_spans(&spans, pa.pid, "process_order", NULL), 10);
	/* only the failed short calls are exported: a failure is always worth its span */
	cr_assert_eq(count_spans(&spans, pa.pid, "validate_order", NULL), 2);
	cr_assert_eq(count_spans(&spans, pa.pid, "validate_order", "error"), 2);
	cr_assert_eq(count_spans(&spans, pb.pid, "process_order", NULL), 10);
	cr_assert_eq(count_spans(&spans, pb.pid, "validate_order", NULL), 10);
	zt_spans_free(&spans);
	zt_proc_free(&agent);
	zt_proc_free(&pa);
	zt_proc_free(&pb);
}

Test(agent, reload_removes_one_rule_and_leaves_the_other_without_a_gap)
{
	struct zt_proc agent = { 0 }, pa = { 0 }, pb = { 0 };
	long long b_at_reload, b_calls;
	struct zt_spans spans;
	char a[512];

	/* 300 orders of 5 ms each: both run for 1.5 s, across the reload */
	run_two_rules(&agent, &pa, &pb, "    probes: [process_order]\n",
		      "    probes: [process_order]\n", "300", "5", false);
	usleep(400 * 1000);
	/* rule a exactly as it was, rule b gone */
	rule_text(a, sizeof(a), "a", orders_a, "    probes: [process_order]\n");
	write_rules(a);
	zt_proc_signal(&agent, SIGHUP);
	cr_assert_eq(zt_proc_wait_line(&agent, ZT_STDERR, "config reloaded", RUN_MS, NULL, 0), 0,
		     "%s", zt_proc_text(&agent, ZT_STDERR));
	cr_assert(strstr(zt_proc_text(&agent, ZT_STDERR), "1 rules (1 kept attached, 0 new or with "
							  "new probes, 1 detached)"),
		  "%s", zt_proc_text(&agent, ZT_STDERR));
	usleep(SETTLE_MS * 1000);
	b_at_reload = calls_of(pb.pid, "process_order");
	cr_assert_eq(zt_proc_wait(&pa, RUN_MS), 0);
	cr_assert_eq(zt_proc_wait(&pb, RUN_MS), 0);
	usleep(SETTLE_MS * 1000);
	/* a: every call counted and exported, before, during and after the reload */
	cr_assert_eq(calls_of(pa.pid, "process_order"), 300);
	b_calls = calls_of(pb.pid, "process_order");
	cr_assert(b_calls > 0 && b_calls < 300, "b stopped at the reload: %lld", b_calls);
	cr_assert_eq(b_calls, b_at_reload, "nothing of b counted after the reload");
	stop_and_read_spans(&agent, &spans);
	cr_assert_eq(count_spans(&spans, pa.pid, "process_order", NULL), 300);
	cr_assert_leq(count_spans(&spans, pb.pid, "process_order", NULL), (size_t)b_calls);
	zt_spans_free(&spans);
	zt_proc_free(&agent);
	zt_proc_free(&pa);
	zt_proc_free(&pb);
}

Test(agent, reload_of_a_new_policy_keeps_the_rule_attached)
{
	struct zt_proc agent = { 0 }, pa = { 0 }, pb = { 0 }, later = { 0 };
	char a[512];

	run_two_rules(&agent, &pa, &pb,
		      "    probes: [process_order]\n    error_if: \"ret<0\"\n",
		      "    probes: [process_order]\n", "300", "5", false);
	usleep(400 * 1000);
	/* only a's error rule changes (and b goes): a's functions stay attached */
	rule_text(a, sizeof(a), "a", orders_a,
		  "    probes: [process_order]\n    error_if: \"ret==0\"\n");
	write_rules(a);
	zt_proc_signal(&agent, SIGHUP);
	cr_assert_eq(zt_proc_wait_line(&agent, ZT_STDERR, "config reloaded", RUN_MS, NULL, 0), 0,
		     "%s", zt_proc_text(&agent, ZT_STDERR));
	cr_assert(strstr(zt_proc_text(&agent, ZT_STDERR),
			 "rule 'a': a new policy for its processes, attachments kept"),
		  "%s", zt_proc_text(&agent, ZT_STDERR));
	start_traced(&agent, &later, orders_a, "10", "1");
	cr_assert_eq(zt_proc_wait(&pa, RUN_MS), 0);
	cr_assert_eq(zt_proc_wait(&later, RUN_MS), 0);
	usleep(SETTLE_MS * 1000);
	cr_assert_eq(calls_of(pa.pid, "process_order"), 300, "no gap for a");
	/* the running process changed rules at the reload: errors by both, some of each */
	cr_assert_gt(errors_of(pa.pid, "process_order"), 0);
	cr_assert_eq(calls_of(later.pid, "process_order"), 10);
	cr_assert_eq(errors_of(later.pid, "process_order"), 8, "the new rule: ret==0");
	zt_proc_signal(&agent, SIGINT);
	cr_assert_eq(zt_proc_wait(&agent, RUN_MS), 0, "%s", zt_proc_text(&agent, ZT_STDERR));
	zt_proc_free(&agent);
	zt_proc_free(&pa);
	zt_proc_free(&pb);
	zt_proc_free(&later);
}

/*
 * metrics_retention: 3s. An exited process's series are in every scrape until the first one at
 * least 3 s after its exit, then gone; a new process given the same pid starts a series of its
 * own (its counts are not added to the old ones).
 */
Test(agent, exited_series_stay_for_the_retention_then_go_and_a_reused_pid_is_fresh)
{
	char *again_argv[] = {orders_bin,   "--orders", "2",	   "--threads", "1",
			      "--sleep-ms", "0",	"--quiet", NULL};
	struct zt_proc agent = {0};
	char prefix[64];
	pid_t pid, again;
	int status;

	top_extra = "metrics_retention: 3s\n";
	write_config("process_order, validate_order");
	start_agent(&agent);
	pid = run_orders(&agent, "3");
	usleep(SETTLE_MS * 1000); /* the exit is seen: the retention runs from here at the latest */
	cr_assert_eq(calls_of(pid, "process_order"), 3, "the first scrape after the exit");
	cr_assert_eq(calls_of(pid, "process_order"), 3, "and the next, within the retention");
	usleep(3100 * 1000);
	cr_assert_eq(calls_of(pid, "process_order"), 3, "the first scrape after the retention");
	snprintf(prefix, sizeof(prefix), "pid=\"%d\"", (int)pid);
	cr_assert_eq(metric(prefix), -1, "gone by the next scrape");
	/* the same file again, with the same pid: the kernel selects it at its exec */
	again = zt_spawn_as_pid(pid, again_argv, -1, -1);
	cr_assert_eq(again, pid, "clone3 with set_tid %d: %s", (int)pid,
		     again < 0 ? strerror(-again) : "another pid");
	cr_assert_eq(waitpid(again, &status, 0), again);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	usleep(SETTLE_MS * 1000);
	cr_assert_eq(calls_of(pid, "process_order"), 2, "a fresh series, not 3 + 2");
	cr_assert_eq(calls_of(pid, "validate_order"), 2);
	zt_proc_signal(&agent, SIGINT);
	cr_assert_eq(zt_proc_wait(&agent, RUN_MS), 0, "%s", zt_proc_text(&agent, ZT_STDERR));
	zt_proc_free(&agent);
}

/* Run args_app once the agent traces it, to its end. */
static void run_args_app(struct zt_proc *agent, struct zt_proc *p)
{
	char *argv[] = {args_bin, "--wait", NULL};
	char line[64];

	cr_assert_eq(zt_proc_spawn(p, argv, NULL), 0);
	snprintf(line, sizeof(line), "tracing pid %d ", (int)p->pid);
	cr_assert_eq(zt_proc_wait_line(agent, ZT_STDERR, line, START_MS, NULL, 0), 0, "%s",
		     zt_proc_text(agent, ZT_STDERR));
	cr_assert_eq(zt_proc_write(p, "g", 1), 0);
	cr_assert_eq(zt_proc_wait(p, RUN_MS), 0);
}

/*
 * A rule's capture: its processes' submit_order spans carry the arguments, audit_order's
 * (a probe of the rule with no capture spec) none; the rule reloaded without capture, the
 * next process's spans carry none.
 */
Test(agent, rule_capture_gives_its_processes_the_arguments)
{
	char rule[512];
	struct zt_proc agent = {0}, p = {0}, later = {0};
	struct zt_spans spans;
	size_t seen = 0;

	rule_text(rule, sizeof(rule), "args", args_bin,
		  "    probes: [submit_order, audit_order]\n"
		  "    capture: [\"submit_order:arg0/i32,str1/8\"]\n");
	write_rules(rule);
	start_agent(&agent);
	run_args_app(&agent, &p);
	rule_text(rule, sizeof(rule), "args", args_bin, "    probes: [submit_order, audit_order]\n");
	write_rules(rule);
	zt_proc_signal(&agent, SIGHUP);
	cr_assert_eq(zt_proc_wait_line(&agent, ZT_STDERR, "config reloaded", RUN_MS, NULL, 0), 0,
		     "%s", zt_proc_text(&agent, ZT_STDERR));
	run_args_app(&agent, &later);
	stop_and_read_spans(&agent, &spans);
	cr_assert_eq(count_spans(&spans, later.pid, "submit_order", NULL), 4);
	for (size_t i = 0; i < spans.n; i++)
		if (spans.v[i].pid == later.pid)
			cr_assert_str_eq(spans.v[i].attributes, "{}", "reloaded without capture");
	cr_assert_eq(count_spans(&spans, p.pid, "submit_order", NULL), 4);
	cr_assert_eq(count_spans(&spans, p.pid, "audit_order", NULL), 1);
	for (size_t i = 0; i < spans.n; i++) {
		const struct zt_span *sp = &spans.v[i];

		if (sp->pid != p.pid)
			continue;
		cr_assert(sp->attributes, "span %zu", i);
		if (!strcmp(sp->name, "audit_order")) {
			cr_assert_str_eq(sp->attributes, "{}", "no capture spec, nothing read");
			continue;
		}
		/* args_app's first call: submit_order(42, "abc"); the second a 100-byte string */
		if (sp->ret == 3) {
			cr_assert_str_eq(sp->attributes, "{\"arg0\":42,\"arg1\":\"abc\"}");
			seen++;
		} else if (sp->ret == 100) {
			cr_assert_str_eq(sp->attributes, "{\"arg0\":-7,\"arg1\":\"01234567\","
							 "\"arg1.truncated\":true}");
			seen++;
		}
	}
	cr_assert_eq(seen, 2);
	zt_spans_free(&spans);
	zt_proc_free(&agent);
	zt_proc_free(&p);
	zt_proc_free(&later);
}

/* The number in "N spans from M processes" of ztrace report FILE. */
static long long spans_in_file(const char *file)
{
	char *argv[] = {ztrace_bin, "report", (char *)file, "--top", "0", NULL};
	struct zt_proc r = {0};
	const char *at;
	long long n = -1;

	cr_assert_eq(zt_run(&r, argv, NULL, RUN_MS), 0, "report %s: %s", file,
		     zt_proc_text(&r, ZT_STDERR));
	at = strstr(zt_proc_text(&r, ZT_STDOUT), " spans from ");
	cr_assert(at, "%s", zt_proc_text(&r, ZT_STDOUT));
	while (at > zt_proc_text(&r, ZT_STDOUT) && at[-1] != ' ')
		at--;
	n = atoll(at);
	zt_proc_free(&r);
	return n;
}

/*
 * record: {max_size: 1MiB, keep: 2}. Short runs of bench_producer (about 0.2 MiB of records
 * each) until the file rotated twice: then the three files hold every span produced, less
 * those the agent counted lost, and each reads on its own.
 */
Test(agent, record_rotates_twice_and_every_span_is_in_a_file_or_counted)
{
	char *first_argv[] = {producer_bin, "--threads", "1", "--duration-ms", "100", "--rate",
			      "50000",	    "--wait",	 NULL};
	char *argv[] = {producer_bin, "--threads", "1",	    "--duration-ms",
			"100",	      "--rate",	   "50000", NULL};
	char rule[512], files[3][PATH_MAX + 8], line[64];
	long long produced = 0, in_files = 0, delivered = -1, lost = -1;
	struct zt_proc agent = {0}, p = {0};
	const char *summary;
	int runs = 0;

	rule_text(rule, sizeof(rule), "producer", producer_bin, "    probes: [bench_span]\n");
	{
		/* the record file with rotation; no governor: its sampling would leave calls out */
		FILE *f = fopen(config, "w");

		cr_assert(f);
		fprintf(f,
			"probe_budget: off\nrecord:\n  path: %s\n  max_size: 1MiB\n  keep: 2\n"
			"rules:\n%s",
			record, rule);
		fclose(f);
	}
	for (int i = 0; i < 3; i++)
		snprintf(files[i], sizeof(files[i]), i ? "%s.%d" : "%s", record, i);
	start_agent(&agent);
	/* the first process once the agent attached; the later ones the kernel selects at exec */
	cr_assert_eq(zt_proc_spawn(&p, first_argv, NULL), 0);
	cr_assert_eq(zt_proc_wait_line(&p, ZT_STDOUT, "ready", START_MS, NULL, 0), 0);
	snprintf(line, sizeof(line), "tracing pid %d ", (int)p.pid);
	cr_assert_eq(zt_proc_wait_line(&agent, ZT_STDERR, line, START_MS, NULL, 0), 0, "%s",
		     zt_proc_text(&agent, ZT_STDERR));
	cr_assert_eq(zt_proc_write(&p, "g", 1), 0);
	for (;;) {
		const char *calls;

		cr_assert_eq(zt_proc_wait(&p, RUN_MS), 0);
		calls = strstr(zt_proc_text(&p, ZT_STDOUT), "calls=");
		cr_assert(calls, "%s", zt_proc_text(&p, ZT_STDOUT));
		produced += atoll(calls + strlen("calls="));
		zt_proc_free(&p);
		runs++;
		if (access(files[2], F_OK) == 0)
			break;
		cr_assert_lt(runs, 40, "no second rotation after %lld spans", produced);
		memset(&p, 0, sizeof(p));
		cr_assert_eq(zt_proc_spawn(&p, argv, NULL), 0);
	}
	zt_proc_signal(&agent, SIGINT);
	cr_assert_eq(zt_proc_wait(&agent, RUN_MS), 0, "%s", zt_proc_text(&agent, ZT_STDERR));
	summary = strstr(zt_proc_text(&agent, ZT_STDOUT), "events: delivered ");
	cr_assert(summary &&
		      sscanf(summary, "events: delivered %lld, lost %lld", &delivered, &lost) == 2,
		  "%s", zt_proc_text(&agent, ZT_STDOUT));
	for (int i = 0; i < 3; i++)
		in_files += spans_in_file(files[i]);
	cr_assert_eq(in_files + lost, produced,
		     "%lld in files + %lld lost, %lld produced in %d runs", in_files, lost,
		     produced, runs);
	cr_assert_eq(delivered, in_files);
	zt_proc_free(&agent);
}
