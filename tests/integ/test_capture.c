// SPDX-License-Identifier: MIT
/*
 * --capture against tests/targets/args_app, whose calls and arguments are known: exact values
 * in text, JSON and the record file, a string cut at its limit and flagged, a probe without
 * capture showing none (its record keeping its size), and nothing of the process's memory in
 * any output without --capture.
 */
#include <criterion/criterion.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "common/runproc.h"
#include "common/testenv.h"

#define EXIT_MS	      8000 /* a traced run of args_app ends */
#define ERROR_EXIT_MS 5000 /* ztrace refuses bad input */
#define OUT_TAIL      3000
/* args_app's last line: 4 calls of submit_order and 1 of audit_order, ids 42 - 7 + 7 + 9 */
#define APP_DONE "args_app: calls=5 id_sum=51"
/* audit_order's string argument: no output may ever hold it (tests/targets/args_app.c) */
#define SECRET "secret-token-3f9a1c"
/* a probe that captures nothing: exactly this line (its record has no trailing part, or the
 * agent would count it malformed: see the stderr checks) */
#define AUDIT_JSON_TAIL "args_app:audit_order\",\"ret\":42,\"status\":\"ok\",\"attributes\":{}}"

static char ztrace_bin[PATH_MAX];
static char app_bin[PATH_MAX];

static void setup(void)
{
	if (geteuid() != 0)
		cr_skip_test("integration tests load BPF programs: run as root");
	zt_output_path(ztrace_bin, "ztrace");
	zt_output_path(app_bin, "targets/args_app");
}

TestSuite(capture, .init = setup, .timeout = 60);

static const char *tail(const char *s, size_t max)
{
	size_t n = strlen(s);

	return n > max ? s + n - max : s;
}

/* ztrace CMD [extra...] submit_order audit_order -- args_app; run to its end with exit code 0
 * (or want_exit) into *p. */
static void run_app(struct zt_proc *p, const char *cmd, const char *const *extra, int want_exit)
{
	struct zt_argv a = {0};
	int ret;

	zt_argv_add(&a, ztrace_bin);
	zt_argv_add(&a, cmd);
	for (; extra && *extra; extra++)
		zt_argv_add(&a, *extra);
	zt_argv_add(&a, "submit_order");
	zt_argv_add(&a, "audit_order");
	zt_argv_add(&a, "--");
	zt_argv_add(&a, app_bin);
	ret = zt_run(p, a.v, NULL, want_exit ? ERROR_EXIT_MS : EXIT_MS);
	cr_assert_eq(ret, want_exit, "ztrace exited %d, want %d; stderr:\n%s", ret, want_exit,
		     tail(zt_proc_text(p, ZT_STDERR), OUT_TAIL));
	if (!want_exit) {
		cr_assert_not_null(strstr(zt_proc_text(p, ZT_STDOUT), APP_DONE), "stdout:\n%s",
				   zt_proc_text(p, ZT_STDOUT));
		cr_assert_null(strstr(zt_proc_text(p, ZT_STDERR), "malformed"), "stderr:\n%s",
			       zt_proc_text(p, ZT_STDERR));
	}
}

/* The one line of text holding needle; fails unless exactly one does. Returns a copy. */
static char *only_line(const char *text, const char *needle)
{
	const char *hit = strstr(text, needle), *start, *end;

	cr_assert_not_null(hit, "no line with '%s' in:\n%s", needle, text);
	end = strchrnul(hit, '\n');
	cr_assert_null(strstr(end, needle), "more than one line with '%s' in:\n%s", needle, text);
	for (start = hit; start > text && start[-1] != '\n'; start--)
		;
	return strndup(start, (size_t)(end - start));
}

/* The line of text with needle ends with want. */
static void expect_line_end(const char *text, const char *needle, const char *want)
{
	char *line = only_line(text, needle);
	size_t n = strlen(line), w = strlen(want);

	cr_expect(n >= w && !strcmp(line + n - w, want), "line:\n%s\nshould end with:\n%s", line,
		  want);
	free(line);
}

/* The JSON attributes of submit_order and audit_order, as captured by f:arg0/i32,str1. */
static void expect_json_args(const char *out)
{
	expect_line_end(out, "\"ret\":3,", "\"attributes\":{\"arg0\":42,\"arg1\":\"abc\"}}");
	/* 100 bytes: the first 32 (the default limit), flagged */
	expect_line_end(out, "\"ret\":100,",
			"\"attributes\":{\"arg0\":-7,\"arg1\":\"0123456789abcdefghijklmnopqrstuv\","
			"\"arg1.truncated\":true}}");
	/* exactly 32 bytes: whole, not flagged */
	expect_line_end(
	    out, "\"ret\":32,",
	    "\"attributes\":{\"arg0\":7,\"arg1\":\"abcdefghijklmnopqrstuvwxyz012345\"}}");
	expect_line_end(out, "\"ret\":-1,",
			"\"attributes\":{\"arg0\":9,\"arg1.unreadable\":true}}");
	expect_line_end(out, "\"name\":\"audit_order\"", AUDIT_JSON_TAIL);
	cr_expect_null(strstr(out, SECRET));
}

Test(capture, json_exact_values_and_truncation)
{
	const char *extra[] = {"--format", "json", "--capture", "submit_order:arg0/i32,str1", NULL};
	struct zt_proc p;

	run_app(&p, "trace", extra, 0);
	expect_json_args(zt_proc_text(&p, ZT_STDOUT));
	zt_proc_free(&p);
}

Test(capture, text_lines_and_the_64_byte_maximum)
{
	const char *extra[] = {"--capture", "sub*:arg0/i32,str1/64", NULL};
	const char *out;
	struct zt_proc p;

	run_app(&p, "trace", extra, 0);
	out = zt_proc_text(&p, ZT_STDOUT);
	expect_line_end(out, "submit_order(42,", "submit_order(42, \"abc\") = 3");
	expect_line_end(out, "submit_order(-7,",
			"submit_order(-7, \"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ"
			"RSTUVWXYZ01\"...) = 100");
	expect_line_end(out, "submit_order(7,",
			"submit_order(7, \"abcdefghijklmnopqrstuvwxyz012345\") = 32");
	expect_line_end(out, "submit_order(9,", "submit_order(9, ?) = -1");
	expect_line_end(out, " audit_order =", " audit_order = 42");
	zt_proc_free(&p);
}

Test(capture, record_file_keeps_arguments)
{
	char path[] = "/tmp/zt-capture-XXXXXX", file[PATH_MAX];
	const char *extra[] = {"-o", file, "--capture", "submit_order:arg0/i32,str1", NULL};
	char *argv[] = {ztrace_bin, "export", file, "--format", "jsonl", NULL};
	char *report[] = {ztrace_bin, "report", file, "--top", "5", NULL};
	struct zt_proc p, e;
	int ret;

	cr_assert_not_null(mkdtemp(path));
	snprintf(file, sizeof(file), "%s/run.zt", path);
	run_app(&p, "record", extra, 0);
	ret = zt_run(&e, argv, NULL, EXIT_MS);
	cr_assert_eq(ret, 0, "export: %s", zt_proc_text(&e, ZT_STDERR));
	expect_json_args(zt_proc_text(&e, ZT_STDOUT));
	zt_proc_free(&e);
	ret = zt_run(&e, report, NULL, EXIT_MS);
	cr_assert_eq(ret, 0, "report: %s", zt_proc_text(&e, ZT_STDERR));
	cr_expect_not_null(strstr(zt_proc_text(&e, ZT_STDOUT), "submit_order(42, \"abc\")\n"), "%s",
			   zt_proc_text(&e, ZT_STDOUT));
	zt_proc_free(&e);
	zt_proc_free(&p);
	unlink(file);
	rmdir(path);
}

/* Without --capture no output holds anything read from the process's memory. */
Test(capture, nothing_from_memory_by_default)
{
	const char *json[] = {"--format", "json", NULL};
	char path[] = "/tmp/zt-capture-XXXXXX", file[PATH_MAX];
	const char *rec[] = {"-o", file, NULL};
	char *argv[] = {ztrace_bin, "export", file, "--format", "jsonl", NULL};
	char *otlp[] = {ztrace_bin, "export", file, "--format", "otlp-json", NULL};
	struct zt_proc p, e;
	const char *out;

	run_app(&p, "trace", json, 0);
	out = zt_proc_text(&p, ZT_STDOUT);
	cr_expect_eq(zt_count_lines(out), 6, "5 spans and args_app's line:\n%s", out);
	/* not "arg: the comm is args_app */
	cr_expect_null(strstr(out, "\"arg0"), "%s", out);
	cr_expect_null(strstr(out, "\"arg1"), "%s", out);
	cr_expect_null(strstr(out, "\"abc\""), "%s", out);
	cr_expect_null(strstr(out, SECRET), "%s", out);
	expect_line_end(out, "\"name\":\"audit_order\"", AUDIT_JSON_TAIL);
	zt_proc_free(&p);

	cr_assert_not_null(mkdtemp(path));
	snprintf(file, sizeof(file), "%s/run.zt", path);
	run_app(&p, "record", rec, 0);
	cr_assert_eq(zt_run(&e, argv, NULL, EXIT_MS), 0, "%s", zt_proc_text(&e, ZT_STDERR));
	cr_expect_null(strstr(zt_proc_text(&e, ZT_STDOUT), "\"arg1"));
	cr_expect_null(strstr(zt_proc_text(&e, ZT_STDOUT), SECRET));
	zt_proc_free(&e);
	cr_assert_eq(zt_run(&e, otlp, NULL, EXIT_MS), 0, "%s", zt_proc_text(&e, ZT_STDERR));
	cr_expect_not_null(strstr(zt_proc_text(&e, ZT_STDOUT), "ztrace.return_value"));
	cr_expect_null(strstr(zt_proc_text(&e, ZT_STDOUT), "ztrace.arg"));
	cr_expect_null(strstr(zt_proc_text(&e, ZT_STDOUT), SECRET));
	zt_proc_free(&e);
	zt_proc_free(&p);
	unlink(file);
	rmdir(path);
}

struct bad_case {
	const char *capture, *msg;
};

Test(capture, bad_capture_exit_2_with_one_line)
{
	static const struct bad_case bad[] = {
	    {"submit_order:str1/65", "ztrace: bad --capture 'submit_order:str1/65': string length "
				     "65 in 'str1/65' is over the maximum of 64 bytes\n"},
	    {"submit_order:arg6", "ztrace: bad --capture 'submit_order:arg6': argument 6 in "
				  "'arg6' is not a register argument: x86-64 passes the first 6 "
				  "in registers, arg0 to arg5\n"},
	    {"nomatch*:arg0", "ztrace: --capture glob 'nomatch*' matches none of the traced "
			      "functions: name functions that a u: or GLOB probe spec traces\n"},
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *extra[] = {"--capture", bad[i].capture, NULL};
		struct zt_proc p;

		run_app(&p, "trace", extra, 2);
		cr_expect_str_eq(zt_proc_text(&p, ZT_STDERR), bad[i].msg);
		zt_proc_free(&p);
	}
}
