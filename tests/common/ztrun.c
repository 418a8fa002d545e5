// SPDX-License-Identifier: MIT
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "ztrun.h"

void zt_expect_refusal(struct zt_argv *a, const struct zt_spawn_opts *opts,
		       const char *const *needles, char *line, size_t size)
{
	struct zt_proc zt;
	const char *err;
	int code;

	code = zt_run(&zt, a->v, opts, ZT_REFUSE_MS);
	err = zt_proc_text(&zt, ZT_STDERR);
	cr_assert_eq(code, 2, "'%s %s ...' exited %d, want 2; stderr:\n%s", a->v[1],
		     a->n > 2 ? a->v[2] : "", code, err);
	cr_assert_eq(zt_count_lines(err), 1, "want one line on stderr, got:\n%s", err);
	cr_assert_eq(strncmp(err, "ztrace: ", 8), 0, "message must start 'ztrace: ': %s", err);
	cr_assert_str_eq(zt_proc_text(&zt, ZT_STDOUT), "", "a refusal printed on stdout");
	for (; needles && *needles; needles++)
		cr_assert_not_null(strstr(err, *needles), "message lacks '%s': %s", *needles, err);
	if (line)
		snprintf(line, size, "%.*s", (int)strcspn(err, "\n"), err);
	zt_proc_free(&zt);
}

void zt_start_waiting(struct zt_proc *p, const char *bin, const char *const *extra)
{
	struct zt_argv a = {0};
	char line[128];
	int ret, pid = 0;

	zt_argv_add(&a, bin);
	zt_argv_add(&a, "--wait");
	for (; extra && *extra; extra++)
		zt_argv_add(&a, *extra);
	ret = zt_proc_spawn(p, a.v, NULL);
	cr_assert_eq(ret, 0, "spawn %s: %s", bin, strerror(-ret));
	ret = zt_proc_wait_line(p, ZT_STDOUT, "ready ", ZT_READY_MS, line, sizeof(line));
	cr_assert_eq(ret, 0, "%s did not print 'ready' (%s); stderr: %s", bin, strerror(-ret),
		     zt_proc_text(p, ZT_STDERR));
	cr_assert_eq(sscanf(line, "ready %d", &pid), 1, "bad ready line '%s'", line);
	cr_assert_eq(pid, p->pid);
}

void zt_release(struct zt_proc *target)
{
	int ret = zt_proc_write(target, "g", 1);

	cr_assert_eq(ret, 0, "write to the target's stdin: %s", strerror(-ret));
}

void zt_start_tracing(struct zt_proc *zt, struct zt_argv *a)
{
	int ret = zt_proc_spawn(zt, a->v, NULL);

	cr_assert_eq(ret, 0, "spawn %s: %s", a->v[0], strerror(-ret));
	ret = zt_proc_wait_line(zt, ZT_STDERR, ZT_TRACING_LINE, ZT_ATTACH_MS, NULL, 0);
	cr_assert_eq(ret, 0, "ztrace did not attach (%s); stderr:\n%s", strerror(-ret),
		     zt_proc_text(zt, ZT_STDERR));
}

void zt_trace_waiting_json(const char *ztrace, struct zt_proc *zt, struct zt_proc *target,
			   const char *bin, const char *const *extra, const char *const *args)
{
	struct zt_argv a = {0};
	char pid[16];

	zt_start_waiting(target, bin, extra);
	snprintf(pid, sizeof(pid), "%d", (int)target->pid);
	zt_argv_add(&a, ztrace);
	zt_argv_add(&a, "trace");
	zt_argv_add(&a, "--format");
	zt_argv_add(&a, "json");
	zt_argv_add(&a, "-p");
	zt_argv_add(&a, pid);
	for (; args && *args; args++)
		zt_argv_add(&a, *args);
	zt_start_tracing(zt, &a);
}

void zt_expect_exit(struct zt_proc *p, const char *what, int code, int timeout_ms)
{
	int ret = zt_proc_wait(p, timeout_ms);

	cr_assert_eq(ret, code, "%s: exit %d, want %d; stderr:\n%s", what, ret, code,
		     zt_proc_text(p, ZT_STDERR));
}

void zt_parse_spans(struct zt_proc *zt, struct zt_spans *spans)
{
	char err[512];

	memset(spans, 0, sizeof(*spans));
	cr_assert_eq(zt_jsonl_parse(zt_proc_text(zt, ZT_STDOUT), spans, err, sizeof(err)), 0,
		     "ztrace's JSON output does not parse: %s", err);
	cr_assert_eq(spans->other_lines, 0, "non-span lines on stdout:\n%s",
		     zt_proc_text(zt, ZT_STDOUT));
}
