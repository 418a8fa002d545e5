/* SPDX-License-Identifier: MIT */
/*
 * Integration tests of event probes and kernel functions: USDT points and START..END spans on
 * tests/targets/usdt_app, kernel tracepoints, and k: probes. k: probes need kprobes or fentry:
 * where the kernel has neither (this project's CI host), the tests check the exact refusal
 * and skip the span checks with the reason; `make test-vm` runs them in a guest kernel that has
 * both, with ZT_REQUIRE_KPROBES=1 so that a skip there fails.
 */
#include <criterion/criterion.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/jsonl.h"
#include "common/runproc.h"

#define JOBS	     "3"
#define NJOBS	     3
#define TICKS_PER_JOB 2
#define SLEEPS	     100 /* sysload's nanosleep syscalls */
#define EXIT_MS	     20000
#define ARGV_MAX     32
#define NO_KPROBES_MSG                                                                             \
	"kernel has no kprobes (CONFIG_KPROBES) and refuses fentry (EPERM): k: probes are "          \
	"unavailable on this host"

static char ztrace_bin[PATH_MAX], usdt_bin[PATH_MAX], usdt_spec[PATH_MAX + 64],
	usdt_pair[PATH_MAX + 64], sysload_bin[PATH_MAX], orders_bin[PATH_MAX];

static void setup(void)
{
	const char *out = getenv("ZT_OUTPUT") ? getenv("ZT_OUTPUT") : ".output";
	char dir[PATH_MAX - 64], buf[PATH_MAX];

	cr_assert(strlen(out) < sizeof(dir) - 1);

	cr_assert(realpath(out, buf) && strlen(buf) < sizeof(dir), "no %s: run make first", out);
	snprintf(dir, sizeof(dir), "%s", buf);
	snprintf(ztrace_bin, sizeof(ztrace_bin), "%s/ztrace", dir);
	snprintf(usdt_bin, sizeof(usdt_bin), "%s/targets/usdt_app", dir);
	snprintf(sysload_bin, sizeof(sysload_bin), "%s/targets/sysload", dir);
	snprintf(orders_bin, sizeof(orders_bin), "%s/targets/orders", dir);
	snprintf(usdt_spec, sizeof(usdt_spec), "usdt:%s:app:tick", usdt_bin);
	snprintf(usdt_pair, sizeof(usdt_pair), "usdt:%s:app:job_start..job_end", usdt_bin);
}

/* generous: every wait has its own (scaled) deadline; this only stops a hang in the VM */
TestSuite(events, .init = setup, .timeout = 600);

/* Run ztrace with argv (NULL-terminated after argv[0..]), parse its JSON spans. */
static int run_json(char *const argv[], struct zt_spans *spans, struct zt_proc *zt)
{
	char err[256];
	int code = zt_run(zt, argv, NULL, EXIT_MS);

	if (code == 0)
		cr_assert_eq(zt_jsonl_parse(zt_proc_text(zt, ZT_STDOUT), spans, err, sizeof(err)),
			     0, "%s", err);
	return code;
}

static size_t count_kind(const struct zt_spans *s, const char *name, const char *kind)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n; i++)
		n += !strcmp(s->v[i].name, name) && !strcmp(s->v[i].kind, kind);
	return n;
}

Test(events, usdt_points_and_pair_spans_nest)
{
	char *argv[] = { ztrace_bin, "trace", "--format", "json", "do_job", usdt_spec, usdt_pair,
			 "--", usdt_bin, "--jobs", JOBS, NULL };
	struct zt_spans s = { 0 };
	struct zt_proc zt = { 0 };

	cr_assert_eq(run_json(argv, &s, &zt), 0, "%s", zt_proc_text(&zt, ZT_STDERR));
	cr_assert_eq(count_kind(&s, "app:tick", "usdt"), NJOBS * TICKS_PER_JOB);
	cr_assert_eq(count_kind(&s, "app:job_start..job_end", "usdt"), NJOBS);
	cr_assert_eq(count_kind(&s, "do_job", "function"), NJOBS);
	cr_assert_eq(s.n, NJOBS * (TICKS_PER_JOB + 2), "%zu spans", s.n);
	for (size_t i = 0; i < s.n; i++) {
		const struct zt_span *sp = &s.v[i], *parent = zt_span_parent(&s, sp);

		if (!strcmp(sp->name, "app:tick")) {
			/* a point: on the span of the function it fired in */
			cr_assert(parent && !strcmp(parent->name, "do_job"));
			cr_assert_eq(sp->duration_ns, 0);
		} else if (!strcmp(sp->name, "do_job")) {
			cr_assert(parent && !strcmp(parent->name, "app:job_start..job_end"));
			cr_assert_geq(parent->duration_ns, sp->duration_ns);
		} else {
			cr_assert_str_eq(sp->parent_span_id, "");
		}
		cr_assert_str_eq(sp->status, "ok");
	}
	zt_spans_free(&s);
	zt_proc_free(&zt);
}

Test(events, tracepoint_hits_of_the_target_only)
{
	char *argv[] = { ztrace_bin, "trace", "--format", "json", "t:sched:sched_process_exit", "--",
			 orders_bin, "--orders", "2", "--threads", "2", "--quiet", NULL };
	struct zt_spans s = { 0 };
	struct zt_proc zt = { 0 };

	cr_assert_eq(run_json(argv, &s, &zt), 0, "%s", zt_proc_text(&zt, ZT_STDERR));
	/* two worker threads and the main thread exit; no other process is counted */
	cr_assert_eq(count_kind(&s, "sched:sched_process_exit", "tracepoint"), 3);
	cr_assert_eq(s.n, 3);
	zt_spans_free(&s);
	zt_proc_free(&zt);
}

Test(events, unknown_tracepoint_and_usdt_are_refused)
{
	char bad_usdt[PATH_MAX + 64];
	char *tp[] = { ztrace_bin, "trace", "t:sched:no_such_event", "--", usdt_bin, NULL };
	char *ud[] = { ztrace_bin, "trace", bad_usdt, "--", usdt_bin, NULL };
	struct zt_proc zt = { 0 };

	cr_assert_eq(zt_run(&zt, tp, NULL, EXIT_MS), 2);
	cr_assert(strstr(zt_proc_text(&zt, ZT_STDERR), "no kernel tracepoint sched:no_such_event"),
		  "%s", zt_proc_text(&zt, ZT_STDERR));
	cr_assert_eq(zt_count_lines(zt_proc_text(&zt, ZT_STDERR)), 1);
	zt_proc_free(&zt);
	snprintf(bad_usdt, sizeof(bad_usdt), "usdt:%s:app:no_such_probe", usdt_bin);
	memset(&zt, 0, sizeof(zt));
	cr_assert_eq(zt_run(&zt, ud, NULL, EXIT_MS), 2, "%s", zt_proc_text(&zt, ZT_STDERR));
	cr_assert(strstr(zt_proc_text(&zt, ZT_STDERR), "app:no_such_probe"), "%s",
		  zt_proc_text(&zt, ZT_STDERR));
	zt_proc_free(&zt);
}

Test(events, list_usdt)
{
	char *argv[] = { ztrace_bin, "probes", "--list-usdt", usdt_bin, NULL };
	struct zt_proc zt = { 0 };
	const char *out;

	cr_assert_eq(zt_run(&zt, argv, NULL, EXIT_MS), 0);
	out = zt_proc_text(&zt, ZT_STDOUT);
	cr_assert(strstr(out, "usdt:app:tick"));
	cr_assert(strstr(out, "usdt:app:job_start"));
	cr_assert(strstr(out, "usdt:app:job_end"));
	/* two tick sites, start, end, and the header */
	cr_assert_eq(zt_count_lines(out), 5, "%s", out);
	zt_proc_free(&zt);
}

/*
 * k:do_nanosleep under sysload's nanosleep syscalls, through mechanism mech: each kernel span's
 * parent is a nanosleep syscall span whose parent is the do_sleeps function span.
 */
static void kernel_spans(const char *mech)
{
	char *argv[] = { ztrace_bin, "trace", "--format", "json", "--kprobe-mechanism", (char *)mech,
			 "-v", "--syscalls=nanosleep", "--syscall-spans", "do_sleeps",
			 "k:do_nanosleep", "--", sysload_bin, NULL };
	struct zt_spans s = { 0 };
	struct zt_proc zt = { 0 };
	char want[128];
	int code = run_json(argv, &s, &zt);

	if (code == 2 && strstr(zt_proc_text(&zt, ZT_STDERR), "unavailable on this host")) {
		cr_assert_null(getenv("ZT_REQUIRE_KPROBES"), "k: probes unavailable where required: %s",
			       zt_proc_text(&zt, ZT_STDERR));
		zt_proc_free(&zt);
		cr_skip_test("this kernel has no %s: run make test-vm", mech);
	}
	cr_assert_eq(code, 0, "%s", zt_proc_text(&zt, ZT_STDERR));
	snprintf(want, sizeof(want), "kernel functions through %s",
		 !strcmp(mech, "kprobe") ? "kprobe/kretprobe" : "fentry/fexit");
	cr_assert(strstr(zt_proc_text(&zt, ZT_STDERR), want), "%s", zt_proc_text(&zt, ZT_STDERR));
	cr_assert_eq(count_kind(&s, "do_nanosleep", "kernel"), SLEEPS);
	cr_assert_eq(count_kind(&s, "nanosleep", "syscall"), SLEEPS);
	for (size_t i = 0; i < s.n; i++) {
		const struct zt_span *sp = &s.v[i], *parent = zt_span_parent(&s, sp);

		if (strcmp(sp->kind, "kernel"))
			continue;
		cr_assert(parent && !strcmp(parent->name, "nanosleep"), "kernel span parent");
		cr_assert(zt_span_parent(&s, parent) &&
			  !strcmp(zt_span_parent(&s, parent)->name, "do_sleeps"));
		cr_assert_str_eq(sp->probe, "k:do_nanosleep");
		cr_assert_eq(sp->ret, 0);
	}
	zt_spans_free(&s);
	zt_proc_free(&zt);
}

Test(events, kernel_function_spans_fentry)
{
	kernel_spans("fentry");
}

Test(events, kernel_function_spans_kprobe)
{
	kernel_spans("kprobe");
}

Test(events, kernel_probes_refused_with_reason_where_unavailable)
{
	char *argv[] = { ztrace_bin, "trace", "k:do_nanosleep", "-d", "1", NULL };
	struct zt_proc zt = { 0 };
	int code = zt_run(&zt, argv, NULL, EXIT_MS);

	if (code == 0) {
		zt_proc_free(&zt);
		cr_skip_test("this kernel has kprobes or fentry: nothing to refuse");
	}
	cr_assert_eq(code, 2, "%s", zt_proc_text(&zt, ZT_STDERR));
	cr_assert_str_eq(zt_proc_text(&zt, ZT_STDERR), "ztrace: " NO_KPROBES_MSG "\n");
	zt_proc_free(&zt);
}
