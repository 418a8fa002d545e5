// SPDX-License-Identifier: MIT
/*
 * The metrics registry: exact exposition (golden file), process lifecycle, pid reuse, own
 * metrics. Regenerate the golden file with ZT_UPDATE_GOLDEN=1 and review the diff.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <inttypes.h>
#include <libgen.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ztrace/limits.h"
#include "common/runproc.h"
#include "metrics.h"

#define NS_PER_SEC	    1000000000ull
#define PROMTOOL_TIMEOUT_MS 20000
/* Self metrics vary run to run: the golden file holds this instead of their values. */
#define NORMALISED "<value>"

static uint64_t fake_now;

static uint64_t fake_clock(void)
{
	return fake_now;
}

static struct zt_metrics *new_metrics(void)
{
	struct zt_metrics *m = zt_metrics_new();

	cr_assert_not_null(m);
	fake_now = 1000 * NS_PER_SEC;
	zt_metrics_set_clock(m, fake_clock);
	return m;
}

static char *render(struct zt_metrics *m)
{
	char *text = NULL;
	size_t len = 0;

	cr_assert_eq(zt_metrics_render(m, &text, &len), 0);
	cr_assert_eq(len, strlen(text));
	return text;
}

/* An aggregate with count calls, errors errors, all in bucket b, sum_ns in total. */
static struct zt_agg_val agg(uint64_t count, uint64_t errors, int b, uint64_t sum_ns)
{
	struct zt_agg_val v;

	memset(&v, 0, sizeof(v));
	v.count = count;
	v.errors = errors;
	v.sum_ns = sum_ns;
	v.buckets[b] = count;
	return v;
}

/*
 * Value of the sample whose line starts with series (name and labels, exactly as rendered),
 * or -1 when text has no such line.
 */
static double sample(const char *text, const char *series)
{
	size_t n = strlen(series);

	for (const char *line = text; line && *line; line = strchr(line, '\n'), line += !!line) {
		if (strncmp(line, series, n) == 0 && line[n] == ' ')
			return strtod(line + n + 1, NULL);
	}
	return -1;
}

/* Number of lines of text that start with prefix. */
static int count_lines(const char *text, const char *prefix)
{
	int n = 0;

	for (const char *line = text; line && *line; line = strchr(line, '\n'), line += !!line)
		n += strncmp(line, prefix, strlen(prefix)) == 0;
	return n;
}

/* Replace the values of the agent's own CPU and memory samples, which vary, by NORMALISED. */
static char *normalise(const char *text)
{
	static const char *const varying[] = {"process_cpu_seconds_total ",
					      "process_resident_memory_bytes "};
	size_t cap = strlen(text) + 1, len = 0;
	char *out = malloc(cap);

	cr_assert_not_null(out);
	for (const char *line = text; *line;) {
		const char *end = strchr(line, '\n');
		size_t n = end ? (size_t)(end - line + 1) : strlen(line);
		bool done = false;

		for (size_t i = 0; i < 2 && !done; i++) {
			size_t p = strlen(varying[i]);

			if (strncmp(line, varying[i], p) != 0)
				continue;
			len += (size_t)sprintf(out + len, "%s" NORMALISED "\n", varying[i]);
			done = true;
		}
		if (!done) {
			memcpy(out + len, line, n);
			len += n;
		}
		line += n;
	}
	out[len] = '\0';
	return out;
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	cr_assert_not_null(buf);
	cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return buf;
}

/* Compare text with the golden file name in tests/unit/golden/ (or rewrite it). */
static void expect_golden(const char *text, const char *name)
{
	char dir[] = __FILE__, path[4096];
	char *want;

	snprintf(path, sizeof(path), "%s/golden/%s", dirname(dir), name);
	if (getenv("ZT_UPDATE_GOLDEN")) {
		FILE *f = fopen(path, "w");

		cr_assert_not_null(f, "cannot write %s", path);
		fputs(text, f);
		fclose(f);
	}
	want = read_file(path);
	cr_assert_not_null(want, "cannot read %s (run from the repository root)", path);
	cr_assert_str_eq(text, want, "differs from %s (ZT_UPDATE_GOLDEN=1 rewrites it)", path);
	free(want);
}

/* The registry the golden file shows: three processes (one in a Kubernetes pod), functions,
 * syscalls, own metrics. */
static void populate(struct zt_metrics *m)
{
	const struct zt_metrics_container pod = {
	    "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a0f9e8d", "shop", "api-7d9f"};
	struct zt_agg_val v;

	v = agg(3, 1, 12, 9000);
	v.buckets[14] = 2; /* 3 calls in bucket 12, 2 in bucket 14: count says 5 */
	v.count = 5;
	cr_assert_eq(
	    zt_metrics_set_function(m, 4242, 77, "orders", "process_order", "/opt/shop/orders", &v),
	    0);
	v = agg(1, 0, 20, 600000);
	cr_assert_eq(zt_metrics_set_function(m, 4242, 77, "orders", "price_\"special\"",
					     "/opt/shop/libpricing.so", &v),
		     0);
	v = agg(100, 0, 21, 100 * 1100000ull);
	cr_assert_eq(zt_metrics_set_syscall(m, 4242, 77, "orders", 35 /* nanosleep */, &v), 0);
	v = agg(50, 50, 11, 50 * 1500ull);
	cr_assert_eq(zt_metrics_set_syscall(m, 4242, 77, "orders", 257 /* openat */, &v), 0);
	v = agg(2, 0, 9, 600);
	cr_assert_eq(zt_metrics_set_syscall(m, 17, 5, "a\\b\nc", 0 /* read */, &v), 0);
	/* a process in a pod's container: its series carry the container labels */
	cr_assert_eq(zt_metrics_set_container(m, 900, 3, "api", &pod), 0);
	v = agg(4, 1, 13, 4 * 9000ull);
	cr_assert_eq(zt_metrics_set_function(m, 900, 3, "api", "handle", "/app/api", &v), 0);
	cr_assert_eq(zt_metrics_set_syscall(m, 900, 3, "api", 0 /* read */, &v), 0);
	cr_assert_eq(zt_metrics_set_events(m, "u:/opt/shop/orders:process_order", 6, 1), 0);
	cr_assert_eq(zt_metrics_set_events(m, "syscalls", 152, 0), 0);
	cr_assert_eq(zt_metrics_set_exported(m, "otlp", 7, 1, 2), 0);
	zt_metrics_set_ringbuf_fill(m, 1 << 20, 8 << 20);
}

Test(metrics, exposition_matches_golden)
{
	struct zt_metrics *m = new_metrics();
	char *text, *norm;

	populate(m);
	text = render(m);
	norm = normalise(text);
	expect_golden(norm, "prom_metrics.txt");
	free(norm);
	free(text);
	zt_metrics_free(m);
}

Test(metrics, empty_registry_has_only_self_metrics)
{
	struct zt_metrics *m = new_metrics();
	char *text = render(m), *norm = normalise(text);

	cr_assert_str_eq(norm,
			 "# HELP process_cpu_seconds_total Total user and system CPU time "
			 "spent in seconds.\n"
			 "# TYPE process_cpu_seconds_total counter\n"
			 "process_cpu_seconds_total " NORMALISED "\n"
			 "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
			 "# TYPE process_resident_memory_bytes gauge\n"
			 "process_resident_memory_bytes " NORMALISED "\n");
	free(norm);
	free(text);
	zt_metrics_free(m);
}

Test(metrics, self_metrics_are_plausible)
{
	struct zt_metrics *m = new_metrics();
	volatile uint64_t spin = 0;
	double cpu, rss;
	char *text;

	/* Burn a little CPU so the counter cannot round to zero. */
	for (uint64_t i = 0; i < 50000000; i++)
		spin += i;
	text = render(m);
	cpu = sample(text, "process_cpu_seconds_total");
	rss = sample(text, "process_resident_memory_bytes");
	cr_assert_gt(cpu, 0.0);
	cr_assert_lt(cpu, 600.0);
	cr_assert_gt(rss, 100 * 1024.0, "rss %f", rss);
	cr_assert_eq((uint64_t)rss % (uint64_t)sysconf(_SC_PAGESIZE), 0);
	free(text);
	zt_metrics_free(m);
}

Test(metrics, values_are_set_not_added)
{
	struct zt_metrics *m = new_metrics();
	struct zt_agg_val v = agg(5, 1, 10, 5000);
	char *text;

	zt_metrics_set_syscall(m, 10, 1, "c", 0, &v);
	v = agg(7, 2, 10, 7000);
	zt_metrics_set_syscall(m, 10, 1, "c", 0, &v);
	text = render(m);
	cr_assert_eq(sample(text, "ztrace_syscalls_total{pid=\"10\",comm=\"c\",syscall=\"read\"}"),
		     7);
	cr_assert_eq(
	    sample(text, "ztrace_syscall_errors_total{pid=\"10\",comm=\"c\",syscall=\"read\"}"), 2);
	cr_assert_eq(count_lines(text, "ztrace_syscalls_total{"), 1);
	free(text);
	zt_metrics_free(m);
}

#define CALLS_P10                                                                                  \
	"ztrace_function_calls_total{pid=\"10\",comm=\"app\",function=\"f\",binary=\"/b\"}"

#define LINGER_NS ((uint64_t)ZT_METRICS_EXITED_LINGER_S * NS_PER_SEC)

/*
 * A process whose facts were read again after it had gone has start time 0 (unknown): it is
 * the process already registered with that pid, not a new one hiding it.
 */
Test(metrics, unknown_start_time_is_the_latest_process_of_the_pid)
{
	struct zt_metrics *m = new_metrics();
	struct zt_agg_val v = agg(5, 0, 10, 5000);
	char *text;

	zt_metrics_set_syscall(m, 10, 1, "c", 0, &v);
	v = agg(9, 0, 10, 9000);
	zt_metrics_set_syscall(m, 10, 0, "", 0, &v);
	text = render(m);
	cr_assert_eq(count_lines(text, "ztrace_syscalls_total{"), 1, "%s", text);
	cr_assert_eq(sample(text, "ztrace_syscalls_total{pid=\"10\",comm=\"c\",syscall=\"read\"}"),
		     9, "%s", text);
	free(text);
	zt_metrics_free(m);
}

Test(metrics, exited_process_lingers_then_goes)
{
	struct zt_metrics *m = new_metrics();
	struct zt_agg_val v = agg(1, 0, 10, 1000);
	char *text;

	zt_metrics_set_function(m, 10, 1, "app", "f", "/b", &v);
	text = render(m);
	cr_assert_eq(sample(text, CALLS_P10), 1);
	free(text);

	cr_assert_eq(zt_metrics_process_exited(m, 10, 1), 0);
	/* The final values read after the exit still land. */
	v = agg(4, 0, 10, 4000);
	cr_assert_eq(zt_metrics_set_function(m, 10, 1, "app", "f", "/b", &v), 0);
	text = render(m);
	cr_assert_eq(sample(text, CALLS_P10), 4);
	free(text);

	/* Every scrape within the linger time sees it: a second scraper is not robbed. */
	fake_now += LINGER_NS - 1;
	text = render(m);
	cr_assert_eq(sample(text, CALLS_P10), 4);
	free(text);

	/* The first scrape past it is the last to show it. */
	fake_now += 1;
	text = render(m);
	cr_assert_eq(sample(text, CALLS_P10), 4);
	free(text);

	text = render(m);
	cr_assert_eq(sample(text, CALLS_P10), -1, "still there:\n%s", text);
	cr_assert_eq(count_lines(text, "ztrace_function"), 0);
	free(text);

	/* A late update must not bring it back. */
	cr_assert_eq(zt_metrics_set_function(m, 10, 1, "app", "f", "/b", &v), -ESRCH);
	text = render(m);
	cr_assert_eq(sample(text, CALLS_P10), -1);
	free(text);

	cr_assert_eq(zt_metrics_process_exited(m, 99, 1), -ENOENT);
	zt_metrics_free(m);
}

/* A retention set shorter (zt_metrics_set_retention) or past the maximum (cut to it). */
Test(metrics, retention_is_settable_and_capped)
{
	const uint64_t retention[] = {2 * NS_PER_SEC, 2 * ZT_METRICS_MAX_RETENTION_NS};
	const uint64_t in_force[] = {2 * NS_PER_SEC, ZT_METRICS_MAX_RETENTION_NS};

	for (size_t i = 0; i < 2; i++) {
		struct zt_metrics *m = new_metrics();
		struct zt_agg_val v = agg(1, 0, 10, 1000);
		char *text;

		zt_metrics_set_retention(m, retention[i]);
		zt_metrics_set_function(m, 10, 1, "app", "f", "/b", &v);
		cr_assert_eq(zt_metrics_process_exited(m, 10, 1), 0);
		fake_now += in_force[i] - 1;
		text = render(m);
		cr_assert_eq(sample(text, CALLS_P10), 1, "case %zu: within the retention", i);
		free(text);
		fake_now += 1;
		text = render(m);
		cr_assert_eq(sample(text, CALLS_P10), 1, "case %zu: the last scrape", i);
		free(text);
		text = render(m);
		cr_assert_eq(sample(text, CALLS_P10), -1, "case %zu: gone", i);
		free(text);
		zt_metrics_free(m);
	}
}

/* Nobody scraped during the linger time: the final values are still shown, once. */
Test(metrics, exited_process_is_shown_once_even_when_late)
{
	struct zt_metrics *m = new_metrics();
	struct zt_agg_val v = agg(3, 0, 10, 3000);
	char *text;

	zt_metrics_set_function(m, 10, 1, "app", "f", "/b", &v);
	zt_metrics_process_exited(m, 10, 1);
	fake_now += 2 * LINGER_NS;
	text = render(m);
	cr_assert_eq(sample(text, CALLS_P10), 3);
	free(text);
	text = render(m);
	cr_assert_eq(sample(text, CALLS_P10), -1);
	free(text);
	zt_metrics_free(m);
}

Test(metrics, exited_process_removed_after_grace_without_scrape)
{
	struct zt_metrics *m = new_metrics();
	struct zt_agg_val v = agg(1, 0, 10, 1000);
	char *text;

	zt_metrics_set_function(m, 10, 1, "app", "f", "/b", &v);
	zt_metrics_set_function(m, 11, 1, "app", "f", "/b", &v);
	zt_metrics_process_exited(m, 10, 1);
	fake_now += (uint64_t)ZT_METRICS_EXITED_GRACE_S * NS_PER_SEC - 1;
	zt_metrics_process_exited(m, 11, 1);
	fake_now += 1;
	/* Nobody scraped: pid 10's grace is over, pid 11's is not. */
	text = render(m);
	cr_assert_eq(sample(text, CALLS_P10), -1);
	cr_assert_eq(count_lines(text, "ztrace_function_calls_total{pid=\"11\""), 1);
	free(text);
	zt_metrics_free(m);
}

Test(metrics, pid_reuse_keeps_processes_apart)
{
	struct zt_metrics *m = new_metrics();
	struct zt_agg_val old = agg(100, 3, 10, 100000), new = agg(2, 0, 12, 8000);
	char *text;

	zt_metrics_set_function(m, 10, 1, "app", "f", "/b", &old);
	/* Same pid, later start time: the first process is gone, this is another one. */
	zt_metrics_set_function(m, 10, 2, "app", "f", "/b", &new);

	/* The old one lingers; the new one waits, as both have the same label values. */
	text = render(m);
	cr_assert_eq(count_lines(text, "ztrace_function_calls_total{"), 1);
	cr_assert_eq(sample(text, CALLS_P10), 100);
	free(text);
	fake_now += LINGER_NS;
	text = render(m);
	cr_assert_eq(count_lines(text, "ztrace_function_calls_total{"), 1);
	cr_assert_eq(sample(text, CALLS_P10), 100);
	free(text);

	text = render(m);
	cr_assert_eq(count_lines(text, "ztrace_function_calls_total{"), 1);
	cr_assert_eq(sample(text, CALLS_P10), 2, "values merged:\n%s", text);
	cr_assert_eq(sample(text, "ztrace_function_errors_total{pid=\"10\",comm=\"app\","
				  "function=\"f\",binary=\"/b\"}"),
		     0);
	free(text);

	/* The old process's late update is refused; the new one is untouched. */
	cr_assert_eq(zt_metrics_set_function(m, 10, 1, "app", "f", "/b", &old), -ESRCH);
	text = render(m);
	cr_assert_eq(sample(text, CALLS_P10), 2);
	free(text);
	zt_metrics_free(m);
}

Test(metrics, comm_change_relabels)
{
	struct zt_metrics *m = new_metrics();
	struct zt_agg_val v = agg(1, 0, 10, 1000);
	char *text;

	zt_metrics_set_syscall(m, 10, 1, "bash", 0, &v);
	/* exec() changes the name, not the process. A comm is at most 15 bytes. */
	zt_metrics_set_syscall(m, 10, 1, "a_very_long_command_name", 0, &v);
	text = render(m);
	cr_assert_eq(count_lines(text, "ztrace_syscalls_total{"), 1);
	cr_assert_eq(sample(text, "ztrace_syscalls_total{pid=\"10\",comm=\"a_very_long_com\","
				  "syscall=\"read\"}"),
		     1);
	free(text);
	zt_metrics_free(m);
}

Test(metrics, syscall_numbers)
{
	struct zt_metrics *m = new_metrics();
	struct zt_agg_val v = agg(1, 0, 10, 1000);
	char *text;

	/* A number the name table does not know is labelled with itself. */
	cr_assert_eq(zt_metrics_set_syscall(m, 10, 1, "c", 500, &v), 0);
	cr_assert_eq(zt_metrics_set_syscall(m, 10, 1, "c", ZT_MAX_SYSCALLS, &v), -EINVAL);
	cr_assert_eq(zt_metrics_set_syscall(m, 10, 1, "c", -1, &v), -EINVAL);
	text = render(m);
	cr_assert_eq(sample(text, "ztrace_syscalls_total{pid=\"10\",comm=\"c\",syscall=\"500\"}"),
		     1);
	free(text);
	zt_metrics_free(m);
}

Test(metrics, ringbuf_fill_is_the_peak_since_last_render)
{
	struct zt_metrics *m = new_metrics();
	char *text;

	text = render(m);
	cr_assert_eq(count_lines(text, "ztrace_ringbuf_fill_ratio"), 0, "no value before any set");
	free(text);
	zt_metrics_set_ringbuf_fill(m, 4096, 8192);
	zt_metrics_set_ringbuf_fill(m, 1024, 8192);
	text = render(m);
	cr_assert_eq(sample(text, "ztrace_ringbuf_fill_ratio"), 0.5);
	free(text);
	text = render(m);
	cr_assert_eq(sample(text, "ztrace_ringbuf_fill_ratio"), 0.125);
	free(text);
	zt_metrics_free(m);
}

Test(metrics, own_counters_are_set_not_added)
{
	struct zt_metrics *m = new_metrics();
	char *text;

	zt_metrics_set_events(m, "p", 10, 1);
	zt_metrics_set_events(m, "p", 20, 2);
	zt_metrics_set_exported(m, "otlp", 1, 2, 3);
	zt_metrics_set_exported(m, "otlp", 4, 5, 6);
	text = render(m);
	cr_assert_eq(sample(text, "ztrace_events_total{probe=\"p\",outcome=\"delivered\"}"), 20);
	cr_assert_eq(sample(text, "ztrace_events_total{probe=\"p\",outcome=\"lost\"}"), 2);
	cr_assert_eq(
	    sample(text, "ztrace_spans_exported_total{exporter=\"otlp\",outcome=\"sent\"}"), 4);
	cr_assert_eq(
	    sample(text, "ztrace_spans_exported_total{exporter=\"otlp\",outcome=\"dropped\"}"), 5);
	cr_assert_eq(
	    sample(text, "ztrace_spans_exported_total{exporter=\"otlp\",outcome=\"failed\"}"), 6);
	cr_assert_eq(count_lines(text, "ztrace_events_total{"), 2);
	free(text);
	zt_metrics_free(m);
}

struct race {
	struct zt_metrics *m;
	int rounds;
};

static void *updater(void *arg)
{
	struct race *r = arg;

	for (int i = 1; i <= r->rounds; i++) {
		struct zt_agg_val v = agg((uint64_t)i, (uint64_t)i, 10, 1000 * (uint64_t)i);

		zt_metrics_set_syscall(r->m, 10, 1, "c", 0, &v);
		/* New processes come and go while the other thread renders. */
		zt_metrics_set_syscall(r->m, 1000 + (uint32_t)i, 1, "c", 0, &v);
		zt_metrics_process_exited(r->m, 1000 + (uint32_t)i, 1);
	}
	return NULL;
}

/* Rendering from another thread always sees one consistent update: calls == errors. */
Test(metrics, render_and_update_from_two_threads)
{
	struct race r = {.m = zt_metrics_new(), .rounds = 3000};
	pthread_t t;
	double last = -1; /* sample() before the first update */

	cr_assert_not_null(r.m);
	cr_assert_eq(pthread_create(&t, NULL, updater, &r), 0);
	for (int i = 0; i < 300; i++) {
		char *text = NULL;
		size_t len;
		double calls, errors, count;

		cr_assert_eq(zt_metrics_render(r.m, &text, &len), 0);
		calls =
		    sample(text, "ztrace_syscalls_total{pid=\"10\",comm=\"c\",syscall=\"read\"}");
		errors = sample(
		    text, "ztrace_syscall_errors_total{pid=\"10\",comm=\"c\",syscall=\"read\"}");
		count = sample(text, "ztrace_syscall_duration_seconds_count{pid=\"10\",comm=\"c\","
				     "syscall=\"read\"}");
		cr_assert_eq(calls, errors);
		cr_assert_eq(calls, count);
		cr_assert_geq(calls, last, "calls %f after %f", calls, last);
		last = calls;
		free(text);
	}
	pthread_join(t, NULL);
	zt_metrics_free(r.m);
}

/* promtool (Prometheus's own parser and linter) accepts the whole exposition. */
Test(metrics, promtool_accepts_exposition)
{
	char *argv[] = {"promtool", "check", "metrics", NULL};
	struct zt_metrics *m = new_metrics();
	struct zt_proc proc;
	char *text;
	int ret;

	populate(m);
	text = render(m);
	ret = zt_proc_spawn(&proc, argv, NULL);
	cr_assert_eq(ret, 0, "cannot run promtool: %s", strerror(-ret));
	cr_assert_eq(zt_proc_write(&proc, text, strlen(text)), 0);
	zt_proc_close_stdin(&proc);
	ret = zt_proc_wait(&proc, PROMTOOL_TIMEOUT_MS);
	cr_assert_eq(ret, 0, "promtool exit %d: %s%s", ret, zt_proc_text(&proc, ZT_STDOUT),
		     zt_proc_text(&proc, ZT_STDERR));
	zt_proc_free(&proc);
	free(text);
	zt_metrics_free(m);
}
