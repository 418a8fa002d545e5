// SPDX-License-Identifier: MIT
/*
 * `ztrace report` and `ztrace export` on record files: exports equal the exporters' own output
 * for the spans written, cut and damaged files give the whole blocks and the exact message,
 * bad input exits 2.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "cmd_report.h"
#include "export_json.h"
#include "export_perfetto.h"
#include "store.h"

static char tmpdir[] = "/tmp/zt-report-XXXXXX";
static char errpath[300];

/* Each test gets a directory and its stderr in a file there, to compare messages exactly. */
static void setup(void)
{
	cr_assert_not_null(mkdtemp(tmpdir));
	snprintf(errpath, sizeof(errpath), "%s/stderr", tmpdir);
	cr_assert_not_null(freopen(errpath, "w", stderr));
}

static void teardown(void)
{
	char cmd[64];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(cmd_report, .init = setup, .fini = teardown);

static void tmp_path(char *out, size_t len, const char *name)
{
	cr_assert_lt(snprintf(out, len, "%s/%s", tmpdir, name), (int)len);
}

/* What the command wrote to stderr so far, as a string the caller frees. */
static char *stderr_text(void)
{
	FILE *f;
	char *buf;
	long n;

	fflush(stderr);
	f = fopen(errpath, "r");
	cr_assert_not_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, n + 1);
	cr_assert_not_null(buf);
	cr_assert_eq(fread(buf, 1, n, f), (size_t)n);
	fclose(f);
	return buf;
}

static const char *const names[] = {"handle_request", "process_order", "charge", "read"};

/* Span i of a run: traces of four nested calls on two threads of pid 4242. */
static struct zt_span make_span(unsigned i)
{
	unsigned trace = i / 4, level = i % 4;
	struct zt_span s = {
	    .span_id = 0x1000 + i,
	    .parent_span_id = level ? 0x1000 + i - 1 : 0,
	    .start_ns = 1700000000000000000ull + trace * 1000000ull + level * 1000,
	    .end_ns = 1700000000000000000ull + trace * 1000000ull + 100000 * (trace % 7 + 1) -
		      level * 1000,
	    .pid = 4242,
	    .tid = 4242 + trace % 2,
	    .depth = level,
	    .kind = level == 3 ? ZT_KIND_SYSCALL : ZT_KIND_FUNCTION,
	    .status = level == 3 && trace % 5 == 0 ? ZT_STATUS_ERROR : ZT_STATUS_OK,
	    .ret = level == 3 && trace % 5 == 0 ? -11 : 0,
	    .comm = "orders",
	    .name = names[level],
	    .probe = level == 3 ? "syscall:read" : "u:/opt/orders:*",
	    .binary = level == 3 ? NULL : "/opt/orders",
	};

	memset(s.trace_id, 0, sizeof(s.trace_id));
	s.trace_id[15] = trace & 0xff;
	s.trace_id[14] = trace >> 8;
	return s;
}

static const struct zt_store_process proc = {
    .pid = 4242,
    .comm = "orders",
    .exe = "/opt/orders",
    .cmdline = "/opt/orders --port 8080",
    .service_name = "checkout",
    .service_name_from_env = true,
};

/* Write n spans in blocks of per_block, with the process and two metric snapshots. Records
 * the end offset of each block in ends (may be NULL). */
static void write_run(const char *path, unsigned n, unsigned per_block, uint64_t *ends)
{
	const struct zt_store_metric early[] = {
	    {"ztrace_events_total", "probe=\"u:/opt/orders:*\",outcome=\"delivered\"", 500},
	    {"ztrace_events_total", "probe=\"u:/opt/orders:*\",outcome=\"lost\"", 0},
	};
	const struct zt_store_metric late[] = {
	    {"ztrace_events_total", "probe=\"u:/opt/orders:*\",outcome=\"delivered\"", 990},
	    {"ztrace_events_total", "probe=\"u:/opt/orders:*\",outcome=\"lost\"", 10},
	    {"ztrace_events_total", "probe=\"syscall:read\",outcome=\"delivered\"", 300},
	    {"ztrace_spans_exported_total", "exporter=\"otlp\",outcome=\"sent\"", 7},
	};
	char err[256] = "";
	struct zt_store_writer *w = zt_store_create(path, 0, err, sizeof(err));
	struct zt_store_stats st;
	unsigned b = 0;

	cr_assert_not_null(w, "%s", err);
	cr_assert_eq(zt_store_add_process(w, &proc), 0);
	cr_assert_eq(zt_store_add_metrics(w, 1, early, 2), 0);
	for (unsigned i = 0; i < n; i++) {
		struct zt_span s = make_span(i);

		cr_assert_eq(zt_store_add_span(w, &s), 0);
		if (i % per_block == per_block - 1 || i == n - 1) {
			if (i == n - 1)
				cr_assert_eq(zt_store_add_metrics(w, 2, late, 4), 0);
			cr_assert_eq(zt_store_flush(w), 0);
			zt_store_get_stats(w, &st);
			if (ends)
				ends[b++] = st.bytes;
		}
	}
	cr_assert_eq(zt_store_close(w), 0);
}

/* Run export (format) or report (format NULL) on path; returns the exit code, *out the output. */
static int run(const char *path, const char *format, size_t top, char **out)
{
	size_t len = 0;
	FILE *f = open_memstream(out, &len);
	int code;

	cr_assert_not_null(f);
	code = format ? zt_cmd_export(path, format, f) : zt_cmd_report(path, top, f);
	cr_assert_eq(fclose(f), 0);
	return code;
}

/* The JSON lines of spans [0, n) as the live exporter writes them. */
static char *direct_jsonl(unsigned n)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert_not_null(f);
	for (unsigned i = 0; i < n; i++) {
		struct zt_span s = make_span(i);

		cr_assert_eq(zt_json_write_span(f, &s, NULL), 0);
	}
	cr_assert_eq(fclose(f), 0);
	return buf;
}

Test(cmd_report, export_jsonl_equals_the_live_json)
{
	char path[256], *out, *want, *err;

	tmp_path(path, sizeof(path), "run.zt");
	write_run(path, 1000, 300, NULL);
	cr_assert_eq(run(path, "jsonl", 0, &out), 0);
	want = direct_jsonl(1000);
	cr_assert_str_eq(out, want);
	err = stderr_text();
	cr_assert_str_eq(err, "");
	free(out);
	free(want);
	free(err);
}

Test(cmd_report, export_of_a_cut_file_gives_the_whole_blocks)
{
	char path[256], *out, *want, *err, msg[512];
	uint64_t ends[4];

	tmp_path(path, sizeof(path), "cut.zt");
	write_run(path, 1000, 300, ends);
	cr_assert_eq(truncate(path, ends[1] + 100), 0); /* inside the third block */
	cr_assert_eq(run(path, "jsonl", 0, &out), 0);
	want = direct_jsonl(600);
	cr_assert_str_eq(out, want);
	err = stderr_text();
	snprintf(msg, sizeof(msg),
		 "ztrace: warning: %s: truncated block at offset %llu (the file ends 84 bytes into "
		 "its %llu-byte payload); read 600 spans from 2 whole blocks\n",
		 path, (unsigned long long)ends[1], (unsigned long long)(ends[2] - ends[1] - 16));
	cr_assert_str_eq(err, msg);
	free(out);
	free(want);
	free(err);
}

Test(cmd_report, export_of_a_damaged_file_exits_2)
{
	char path[256], *out, *want, *err, msg[512];
	uint64_t ends[4];
	uint8_t c;
	int fd;

	tmp_path(path, sizeof(path), "bad.zt");
	write_run(path, 1000, 300, ends);
	fd = open(path, O_RDWR);
	cr_assert_geq(fd, 0);
	/* flip a byte inside the second block's payload */
	cr_assert_eq(pread(fd, &c, 1, ends[0] + 40), 1);
	c ^= 0x55;
	cr_assert_eq(pwrite(fd, &c, 1, ends[0] + 40), 1);
	close(fd);
	cr_assert_eq(run(path, "jsonl", 0, &out), 2);
	want = direct_jsonl(300);
	cr_assert_str_eq(out, want);
	err = stderr_text();
	snprintf(msg, sizeof(msg),
		 "ztrace: %s: CRC mismatch in block at offset %llu; read 300 spans from the 1 "
		 "whole blocks before it\n",
		 path, (unsigned long long)ends[0]);
	cr_assert_str_eq(err, msg);
	free(out);
	free(want);
	free(err);
}

Test(cmd_report, bad_input_exits_2)
{
	char path[256], *out, *err, msg[1024];
	FILE *f;

	tmp_path(path, sizeof(path), "run.zt");
	write_run(path, 10, 300, NULL);
	cr_assert_eq(run(path, "csv", 0, &out), 2);
	cr_assert_str_eq(out, "");
	free(out);
	tmp_path(path, sizeof(path), "notes.txt");
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("hello\n", f);
	fclose(f);
	cr_assert_eq(run(path, "perfetto", 0, &out), 2);
	cr_assert_str_eq(out, "");
	free(out);
	cr_assert_eq(run(path, NULL, 5, &out), 2);
	free(out);
	err = stderr_text();
	snprintf(msg, sizeof(msg),
		 "ztrace: unknown export format 'csv'; use jsonl, otlp-json or perfetto\n"
		 "ztrace: %s: not a ztrace record file (bad magic at offset 0)\n"
		 "ztrace: %s: not a ztrace record file (bad magic at offset 0)\n",
		 path, path);
	cr_assert_str_eq(err, msg);
	free(err);
}

Test(cmd_report, export_perfetto_equals_the_exporter)
{
	char path[256], *out, *want = NULL;
	struct zt_span spans[40];
	size_t len = 0;
	FILE *f;

	tmp_path(path, sizeof(path), "run.zt");
	write_run(path, 40, 16, NULL);
	cr_assert_eq(run(path, "perfetto", 0, &out), 0);
	for (unsigned i = 0; i < 40; i++)
		spans[i] = make_span(i);
	f = open_memstream(&want, &len);
	cr_assert_not_null(f);
	cr_assert_eq(zt_perfetto_write(f, spans, 40, &proc, 1), 0);
	cr_assert_eq(fclose(f), 0);
	cr_assert_str_eq(out, want);
	free(out);
	free(want);
}

Test(cmd_report, export_otlp_json_one_request_per_batch)
{
	char path[256], *out, *line2;
	size_t lines = 0;

	tmp_path(path, sizeof(path), "run.zt");
	write_run(path, ZT_OTLP_DEFAULT_BATCH_SPANS + 88, 300, NULL);
	cr_assert_eq(run(path, "otlp-json", 0, &out), 0);
	for (char *p = out; *p; p++)
		lines += *p == '\n';
	cr_assert_eq(lines, 2);
	cr_assert_eq(strncmp(out, "{\"resourceSpans\":[{\"resource\":", 30), 0, "%.200s", out);
	line2 = strchr(out, '\n') + 1;
	cr_assert_eq(strncmp(line2, "{\"resourceSpans\":[{\"resource\":", 30), 0);
	/* the recorded process reaches the resource, the header's host too */
	cr_assert_not_null(strstr(out, "{\"stringValue\":\"checkout\"}"), "%.2000s", out);
	cr_assert_not_null(strstr(line2, "{\"stringValue\":\"/opt/orders --port 8080\"}"));
	free(out);
}

Test(cmd_report, report_prints_origin_tables_capture_and_trees)
{
	char path[256], host[ZT_STORE_HOSTNAME_LEN] = "", head[512], *out, *err;

	tmp_path(path, sizeof(path), "run.zt");
	write_run(path, 400, 128, NULL);
	cr_assert_eq(run(path, NULL, 2, &out), 0);
	gethostname(host, sizeof(host) - 1);
	snprintf(head, sizeof(head), "%s: recorded on %s at ", path, host);
	cr_assert_eq(strncmp(out, head, strlen(head)), 0, "%s", out);
	cr_assert_not_null(strstr(out, " UTC, 400 spans from 1 processes\n\n"), "%s", out);
	cr_assert_not_null(strstr(out, "process_order"), "%s", out);
	/* the last snapshot wins; the probe that lost events gets a line */
	cr_assert_not_null(
	    strstr(out, "probe u:/opt/orders:*: delivered 990, lost 10, capture rate 99.00%\n"
			"events: delivered 1290, lost 10, capture rate 99.23%\n"),
	    "%s", out);
	cr_assert_not_null(strstr(out, "\nSlowest 2 of 100 traces, by root span duration:\n"), "%s",
			   out);
	/* traces 6, 13, 20... are the slowest (700 us); the first of them is trace 6 */
	cr_assert_not_null(strstr(out, "\ntrace 00000000000000000000000000000006  700us  "
				       "handle_request  pid 4242 tid 4242 (orders)\n"),
			   "%s", out);
	err = stderr_text();
	cr_assert_str_eq(err, "");
	free(out);
	free(err);
}

Test(cmd_report, report_without_trees)
{
	char path[256], *out;

	tmp_path(path, sizeof(path), "run.zt");
	write_run(path, 8, 300, NULL);
	cr_assert_eq(run(path, NULL, 0, &out), 0);
	cr_assert_null(strstr(out, "Slowest"), "%s", out);
	cr_assert_not_null(strstr(out, "events: "), "%s", out);
	free(out);
}
