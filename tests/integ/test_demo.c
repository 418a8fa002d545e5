// SPDX-License-Identifier: MIT
/*
 * The README's first command ends in scripts/demo.sh: it must run on this machine as a new
 * user would see it, and show what it says it shows (spans, the summary, JSON lines, metrics)
 * with the exact counts of the bundled program's known work.
 *
 * Binaries come from $ZT_OUTPUT (default .output). Run from the repository root.
 */
#include <criterion/criterion.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/runproc.h"

#define DEMO_MS 60000

TestSuite(demo, .timeout = 90);

/* Whether a line of text starts with these words, in order, separated by any spaces. */
static bool has_row(const char *text, const char *const *words)
{
	for (const char *line = text; line; line = strchr(line, '\n')) {
		const char *p = line + (*line == '\n');
		size_t i = 0;

		for (; words[i]; i++) {
			size_t n = strlen(words[i]);

			while (*p == ' ')
				p++;
			if (strncmp(p, words[i], n) != 0 || (p[n] != ' ' && p[n] != '\n' && p[n]))
				break;
			p += n;
		}
		if (!words[i])
			return true;
		line = line + (*line == '\n');
	}
	return false;
}

Test(demo, runs_and_shows_spans_summary_json_and_metrics)
{
	const char *out_dir = getenv("ZT_OUTPUT") ? getenv("ZT_OUTPUT") : ".output";
	char *argv[] = {"scripts/demo.sh", (char *)out_dir, NULL};
	/* orders --orders 4 --threads 2: 8 orders, 1 failing validation, 7 priced, fib 105 */
	static const char *const process_row[] = {"process_order", "8", "1", "0", NULL};
	static const char *const fib_row[] = {"fib", "105", "0", "0", NULL};
	struct zt_proc p = {0};
	const char *text;
	int ret;

	ret = zt_run(&p, argv, NULL, DEMO_MS);
	text = zt_proc_text(&p, ZT_STDOUT);
	cr_assert_eq(ret, 0, "demo exited %d\nstdout:\n%s\nstderr:\n%s", ret, text,
		     zt_proc_text(&p, ZT_STDERR));
	cr_expect_not_null(strstr(text, "process_order = -1  [error]"), "%s", text);
	/* the summary's first columns: calls, errors, incomplete */
	cr_expect(has_row(text, process_row), "%s", text);
	cr_expect(has_row(text, fib_row), "%s", text);
	cr_expect_not_null(strstr(text, "events: delivered 142, lost 0, capture rate 100.00%"),
			   "%s", text);
	cr_expect_not_null(strstr(text, "{\"trace_id\":\""), "%s", text);
	cr_expect_not_null(strstr(text, "ztrace_function_calls_total{pid=\""), "%s", text);
	cr_expect_not_null(strstr(text, "ztrace_events_total{probe=\""), "%s", text);
	zt_proc_free(&p);
}
