/* SPDX-License-Identifier: MIT */
/*
 * Integration tests of syscall tracing: the real ztrace attached to tests/targets/sysload, which
 * makes exactly 100 nanosleep(1 ms), 50 failing openat (ENOENT) and 10 read syscalls once
 * released. Counts, errors, attribution to the enclosing function span and the summary table
 * are checked exactly. Run as root from the repository root.
 */
#include <criterion/criterion.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/jsonl.h"
#include "common/runproc.h"

#define SLEEPS	      100
#define MISSING_OPENS 50
#define READS	      10
#define ENOENT_RET    (-2)
#define NS_PER_MS     1000000LL

#define READY_MS  3000
#define ATTACH_MS 5000
#define EXIT_MS	  15000
#define ARGV_MAX  32

static char ztrace_bin[PATH_MAX];
static char sysload_bin[PATH_MAX];

static void setup(void)
{
	const char *out = getenv("ZT_OUTPUT") ? getenv("ZT_OUTPUT") : ".output";

	snprintf(ztrace_bin, sizeof(ztrace_bin), "%s/ztrace", out);
	snprintf(sysload_bin, sizeof(sysload_bin), "%s/targets/sysload", out);
	cr_assert(access(ztrace_bin, X_OK) == 0, "no %s: run make first", ztrace_bin);
	cr_assert(access(sysload_bin, X_OK) == 0, "no %s: run make first", sysload_bin);
}

/* generous: every wait has its own (scaled) deadline; this only stops a hang in the VM */
TestSuite(syscalls, .init = setup, .timeout = 600);

/* Start sysload --wait and return its pid once it is ready. */
static pid_t start_sysload(struct zt_proc *p)
{
	char *argv[] = { sysload_bin, "--wait", NULL };
	char line[64];
	int pid = 0;

	cr_assert_eq(zt_proc_spawn(p, argv, NULL), 0);
	cr_assert_eq(zt_proc_wait_line(p, ZT_STDOUT, "ready ", READY_MS, line, sizeof(line)), 0);
	cr_assert_eq(sscanf(line, "ready %d", &pid), 1);
	return pid;
}

/*
 * Trace a released sysload with extra ztrace arguments; returns ztrace's process (exited).
 * ztrace ends by itself when sysload exits.
 */
static void run_traced(struct zt_proc *zt, const char *const *extra)
{
	struct zt_proc target = { 0 };
	char pidarg[16], *argv[ARGV_MAX];
	int n = 0, code;
	pid_t pid = start_sysload(&target);

	snprintf(pidarg, sizeof(pidarg), "%d", pid);
	argv[n++] = ztrace_bin;
	argv[n++] = "trace";
	argv[n++] = "-p";
	argv[n++] = pidarg;
	for (; *extra; extra++)
		argv[n++] = (char *)*extra;
	argv[n] = NULL;
	cr_assert_eq(zt_proc_spawn(zt, argv, NULL), 0);
	cr_assert_eq(zt_proc_wait_line(zt, ZT_STDERR, "ztrace: tracing ", ATTACH_MS, NULL, 0), 0,
		     "ztrace did not attach: %s", zt_proc_text(zt, ZT_STDERR));
	cr_assert_eq(zt_proc_write(&target, "g", 1), 0);
	cr_assert_eq(zt_proc_wait(&target, EXIT_MS), 0);
	code = zt_proc_wait(zt, EXIT_MS);
	cr_assert_eq(code, 0, "ztrace exited %d: %s", code, zt_proc_text(zt, ZT_STDERR));
	zt_proc_free(&target);
}

static size_t count_named(const struct zt_spans *s, const char *name, const char *kind)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n; i++)
		n += !strcmp(s->v[i].name, name) && !strcmp(s->v[i].kind, kind);
	return n;
}

static const struct zt_span *find_named(const struct zt_spans *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i].name, name))
			return &s->v[i];
	return NULL;
}

/* The summary row of a syscall, e.g. "nanosleep  100  0  ...", as its whitespace-split words. */
static int summary_row(const char *text, const char *syscall, char words[8][64])
{
	const char *line = text;

	while (line && *line) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		char buf[512];
		int n = 0;

		snprintf(buf, sizeof(buf), "%.*s", (int)(len < sizeof(buf) ? len : sizeof(buf) - 1),
			 line);
		if (strncmp(buf, syscall, strlen(syscall)) == 0 && buf[strlen(syscall)] == ' ') {
			for (char *save, *w = strtok_r(buf, " ", &save); w && n < 8;
			     w = strtok_r(NULL, " ", &save))
				snprintf(words[n++], 64, "%s", w);
			return n;
		}
		line = end ? end + 1 : NULL;
	}
	return 0;
}

/* "812ns", "12.3us", "1.05ms", "2.00s" in ns; -1 when it is none of those. */
static long long duration_ns(const char *text)
{
	static const struct {
		const char *unit;
		double scale;
	} units[] = { { "ns", 1 }, { "us", 1e3 }, { "ms", 1e6 }, { "s", 1e9 } };
	char *end;
	double v = strtod(text, &end);

	for (size_t i = 0; end != text && i < sizeof(units) / sizeof(units[0]); i++)
		if (!strcmp(end, units[i].unit))
			return (long long)(v * units[i].scale);
	return -1;
}

Test(syscalls, spans_counts_errors_and_parents)
{
	static const char *const extra[] = { "--syscalls=nanosleep,openat,read", "--syscall-spans",
					     "do_*", "--format", "json", NULL };
	struct zt_proc zt = { 0 };
	struct zt_spans spans = { 0 };
	const struct zt_span *sleeps, *opens, *reads;
	char err[256];

	run_traced(&zt, extra);
	cr_assert_eq(zt_jsonl_parse(zt_proc_text(&zt, ZT_STDOUT), &spans, err, sizeof(err)), 0,
		     "%s", err);
	cr_assert_eq(count_named(&spans, "nanosleep", "syscall"), SLEEPS);
	cr_assert_eq(count_named(&spans, "openat", "syscall"), MISSING_OPENS);
	cr_assert_eq(count_named(&spans, "read", "syscall"), READS);
	/* only the selected syscalls, and the three functions */
	cr_assert_eq(spans.n, SLEEPS + MISSING_OPENS + READS + 3, "%zu spans", spans.n);
	sleeps = find_named(&spans, "do_sleeps");
	opens = find_named(&spans, "do_missing_opens");
	reads = find_named(&spans, "do_reads");
	cr_assert(sleeps && opens && reads);
	for (size_t i = 0; i < spans.n; i++) {
		const struct zt_span *s = &spans.v[i];

		if (strcmp(s->kind, "syscall"))
			continue;
		if (!strcmp(s->name, "nanosleep")) {
			cr_assert_str_eq(s->parent_span_id, sleeps->span_id);
			cr_assert_str_eq(s->trace_id, sleeps->trace_id);
			cr_assert_geq(s->duration_ns, NS_PER_MS);
			cr_assert_str_eq(s->status, "ok");
		} else if (!strcmp(s->name, "openat")) {
			cr_assert_str_eq(s->parent_span_id, opens->span_id);
			cr_assert_eq(s->ret, ENOENT_RET);
			cr_assert_str_eq(s->status, "error");
		} else {
			cr_assert_str_eq(s->parent_span_id, reads->span_id);
			cr_assert_eq(s->ret, 1);
			cr_assert_str_eq(s->probe, "syscall:read");
		}
	}
	/* each function span carries the count of the syscalls made inside it */
	cr_assert(strstr(sleeps->attributes, "\"syscall_count\":100"), "%s", sleeps->attributes);
	cr_assert(strstr(opens->attributes, "\"syscall_count\":50"), "%s", opens->attributes);
	cr_assert(strstr(reads->attributes, "\"syscall_count\":10"), "%s", reads->attributes);
	zt_spans_free(&spans);
	zt_proc_free(&zt);
}

Test(syscalls, summary_is_exact_without_spans)
{
	static const char *const extra[] = { "--syscalls", NULL };
	struct zt_proc zt = { 0 };
	char w[8][64];
	const char *out;

	run_traced(&zt, extra);
	out = zt_proc_text(&zt, ZT_STDOUT);
	/* no spans at all: syscalls are counted in the kernel */
	cr_assert_null(strstr(out, "\"kind\":\"syscall\""));
	cr_assert_geq(summary_row(out, "nanosleep", w), 3, "%s", out);
	cr_assert_str_eq(w[1], "100");
	cr_assert_str_eq(w[2], "0");
	cr_assert_geq(summary_row(out, "openat", w), 5, "%s", out);
	cr_assert_str_eq(w[1], "50");
	cr_assert_str_eq(w[2], "50");
	cr_assert_str_eq(w[3], "(ENOENT");
	cr_assert_str_eq(w[4], "x50)");
	cr_assert_geq(summary_row(out, "read", w), 3, "%s", out);
	cr_assert_str_eq(w[1], "10");
	cr_assert_str_eq(w[2], "0");
	zt_proc_free(&zt);
}

Test(syscalls, p50_of_1ms_sleeps_is_at_least_1ms)
{
	static const char *const extra[] = { "--syscalls=nanosleep", NULL };
	struct zt_proc zt = { 0 };
	char w[8][64];

	run_traced(&zt, extra);
	/* SYSCALL COUNT ERRORS TOTAL MEAN P50 P99 MAX */
	cr_assert_eq(summary_row(zt_proc_text(&zt, ZT_STDOUT), "nanosleep", w), 8);
	cr_assert_geq(duration_ns(w[5]), NS_PER_MS, "p50 %s is below 1ms", w[5]);
	cr_assert_geq(duration_ns(w[7]), duration_ns(w[5]), "max %s below p50 %s", w[7], w[5]);
	zt_proc_free(&zt);
}

Test(syscalls, unknown_syscall_name_is_refused)
{
	char *argv[] = { ztrace_bin, "trace", "--syscalls=read,frobnicate", "-d", "1", NULL };
	struct zt_proc zt = { 0 };

	cr_assert_eq(zt_run(&zt, argv, NULL, EXIT_MS), 2);
	cr_assert(strstr(zt_proc_text(&zt, ZT_STDERR), "unknown syscall 'frobnicate'"), "%s",
		  zt_proc_text(&zt, ZT_STDERR));
	cr_assert_eq(zt_count_lines(zt_proc_text(&zt, ZT_STDERR)), 1);
	zt_proc_free(&zt);
}

Test(syscalls, metrics_port_in_use_is_refused)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	char port[16], *argv[] = { ztrace_bin, "trace", "--syscalls", "-d", "1", "--metrics-addr",
				   port, NULL };
	struct zt_proc zt = { 0 };

	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(listen(fd, 1), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	snprintf(port, sizeof(port), "%d", ntohs(sa.sin_port));
	cr_assert_eq(zt_run(&zt, argv, NULL, EXIT_MS), 2);
	cr_assert(strstr(zt_proc_text(&zt, ZT_STDERR), "already in use"), "%s",
		  zt_proc_text(&zt, ZT_STDERR));
	cr_assert_eq(zt_count_lines(zt_proc_text(&zt, ZT_STDERR)), 1);
	zt_proc_free(&zt);
	close(fd);
}
