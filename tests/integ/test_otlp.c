/* SPDX-License-Identifier: MIT */
/*
 * OTLP export end to end: the real ztrace binary traces tests/targets/orders into the
 * independent receiver of tests/peers/otlp-receiver (Node.js, decoding with the OpenTelemetry
 * project's generated protobuf code), for protobuf and JSON, gzip on and off, and the spans
 * that arrive must be exactly those ztrace printed with --format json: same ids, names, parent
 * links, trace ids, times and status, with the process's resource attributes. Then the faults:
 * a receiver that is down at start, comes up late, answers 503 before 200, or never comes back.
 *
 * Binaries come from $ZT_OUTPUT (default .output). The receiver needs node and
 * tests/peers/otlp-receiver/setup.sh (npm ci) to have run. Run from the repository root, as root.
 */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/jsonl.h"
#include "common/otlp_receiver.h"
#include "common/runproc.h"
#include "common/testenv.h"

/* Deadlines, in milliseconds. */
#define ATTACH_MS   5000  /* ztrace prints "ztrace: tracing " */
#define EXIT_MS	    20000 /* a traced run ends, export flushed */
#define SIGINT_MS   15000 /* ztrace exits after SIGINT, giving up on a dead endpoint */
#define LATE_MS	    1500 /* the receiver comes up this long after ztrace started */
#define RUN_MS	    1000 /* how long the SIGINT test lets tracing run */

/* orders --orders 5 --threads 1 traced with order_specs (see tests/targets/orders.c):
 * process_order, validate_order, slow_io 5 each; compute_price, price_lookup, apply_discount
 * 4 each (order 5 is invalid); fib 15 per priced order. */
#define ORDERS_SPANS  (3 * 5 + 3 * 4 + 15 * 4)
#define ORDERS_ERRORS 2 /* order 5: validate_order -22, process_order -1 */

#define ARGV_MAX     32
#define TRACING_LINE "ztrace: tracing "
#define OUT_TAIL     3000

static char ztrace_bin[PATH_MAX];
static char orders_bin[PATH_MAX];
static char pricing_lib[PATH_MAX];
static char args_bin[PATH_MAX];

static const char *const order_specs[] = {
    "process_order", "validate_order", "compute_price", "fib", "slow_io", "u:libpricing.so:*",
};

static const char *tail(const char *s, size_t max)
{
	size_t len = strlen(s);

	return len > max ? s + len - max : s;
}

static void setup(void)
{
	if (geteuid() != 0)
		cr_skip_test("integration tests load BPF programs: run as root");
	zt_ztrace_path(ztrace_bin);
	zt_output_path(orders_bin, "targets/orders");
	zt_output_path(pricing_lib, "targets/libpricing.so");
	zt_output_path(args_bin, "targets/args_app");
	zt_receiver_setup();
}

TestSuite(otlp, .init = setup, .timeout = 60);

/* ---- ztrace ---- */

/* ztrace trace --format json --error-if ret<0 [extra...] SPECS -- orders ... */
static void av_trace_orders(struct zt_argv *a, const char *const *extra, const char *sleep_ms,
			    const char *n_orders)
{
	zt_argv_add(a, ztrace_bin);
	zt_argv_add(a, "trace");
	zt_argv_add(a, "--format");
	zt_argv_add(a, "json");
	zt_argv_add(a, "--error-if");
	zt_argv_add(a, "ret<0");
	for (; extra && *extra; extra++)
		zt_argv_add(a, *extra);
	for (size_t i = 0; i < sizeof(order_specs) / sizeof(order_specs[0]); i++)
		zt_argv_add(a, order_specs[i]);
	zt_argv_add(a, "--");
	zt_argv_add(a, orders_bin);
	zt_argv_add(a, "--orders");
	zt_argv_add(a, n_orders);
	zt_argv_add(a, "--threads");
	zt_argv_add(a, "1");
	zt_argv_add(a, "--sleep-ms");
	zt_argv_add(a, sleep_ms);
	/* orders shares ztrace's stdout: keep it quiet so stdout holds spans only */
	zt_argv_add(a, "--quiet");
}

/* Run ztrace on orders --orders 5 to its end and parse its JSON spans. */
static void run_traced(struct zt_proc *zt, const char *const *extra, struct zt_spans *spans)
{
	struct zt_argv a = {0};
	char err[512];
	int ret;

	av_trace_orders(&a, extra, "2", "5");
	ret = zt_run(zt, a.v, NULL, EXIT_MS);
	cr_assert_eq(ret, 0, "ztrace exited %d; stderr:\n%s", ret,
		     tail(zt_proc_text(zt, ZT_STDERR), OUT_TAIL));
	memset(spans, 0, sizeof(*spans));
	ret = zt_jsonl_parse(zt_proc_text(zt, ZT_STDOUT), spans, err, sizeof(err));
	cr_assert_eq(ret, 0, "ztrace's JSON does not parse: %s", err);
	cr_assert_eq(spans->n, ORDERS_SPANS, "ztrace printed %zu spans, want %d; stderr:\n%s",
		     spans->n, ORDERS_SPANS, tail(zt_proc_text(zt, ZT_STDERR), OUT_TAIL));
}

/* The pid of the traced orders: the pid of its spans. */
static void expect_resource(const char *resource, long long pid, const char *service)
{
	char host[256], num[32], cmdline[PATH_MAX + 64];

	cr_assert_eq(gethostname(host, sizeof(host)), 0);
	snprintf(num, sizeof(num), "%lld", pid);
	snprintf(cmdline, sizeof(cmdline), "%s --orders 5 --threads 1 --sleep-ms 2 --quiet",
		 orders_bin);
	cr_expect(zt_kv_has(resource, "service.name", service), "resource: %s", resource);
	cr_expect(zt_kv_has(resource, "host.name", host), "resource: %s", resource);
	cr_expect(zt_kv_has(resource, "process.pid", num), "resource: %s", resource);
	cr_expect(zt_kv_has(resource, "process.executable.path", orders_bin), "resource: %s",
		  resource);
	cr_expect(zt_kv_has(resource, "process.command_line", cmdline), "resource: %s", resource);
}

/*
 * Every span ztrace printed arrived exactly once, with the same ids, parent, trace, name,
 * times and status, and the attributes and resource of DESIGN.md "OTLP mapping".
 */
static void expect_same_spans(const struct zt_spans *js, const struct zt_received *rcv,
			      const char *service)
{
	size_t errors = 0;

	cr_assert_eq(rcv->n, js->n, "the receiver got %zu spans, ztrace printed %zu", rcv->n,
		     js->n);
	for (size_t i = 0; i < js->n; i++) {
		const struct zt_span *s = &js->v[i];
		char *(*c)[TSV_COLS] = NULL;
		char num[32], msg[64];
		size_t found = 0;

		for (size_t j = 0; j < rcv->n; j++) {
			if (!strcmp(rcv->cols[j][C_SPAN], s->span_id)) {
				c = &rcv->cols[j];
				found++;
			}
		}
		cr_assert_eq(found, 1, "span %s (%s) arrived %zu times", s->span_id, s->name,
			     found);
		cr_expect_str_eq((*c)[C_TRACE], s->trace_id, "span %s", s->span_id);
		cr_expect_str_eq((*c)[C_PARENT], s->parent_span_id[0] ? s->parent_span_id : "-",
				 "span %s", s->span_id);
		cr_expect_str_eq((*c)[C_NAME], s->name);
		cr_expect_str_eq((*c)[C_KIND], "1");
		snprintf(num, sizeof(num), "%lld", s->start_ns);
		cr_expect_str_eq((*c)[C_START], num, "span %s", s->span_id);
		snprintf(num, sizeof(num), "%lld", s->end_ns);
		cr_expect_str_eq((*c)[C_END], num, "span %s", s->span_id);
		if (!strcmp(s->status, "error")) {
			snprintf(msg, sizeof(msg), "returned %lld", s->ret);
			cr_expect_str_eq((*c)[C_STATUS], "2");
			cr_expect_str_eq((*c)[C_MESSAGE], msg);
			errors++;
		} else {
			cr_expect_str_eq((*c)[C_STATUS], "0", "%s is %s", s->name, s->status);
		}
		cr_expect(zt_kv_has((*c)[C_ATTRS], "code.function.name", s->name), "%s",
			  (*c)[C_ATTRS]);
		snprintf(num, sizeof(num), "%lld", s->tid);
		cr_expect(zt_kv_has((*c)[C_ATTRS], "thread.id", num), "%s", (*c)[C_ATTRS]);
		cr_expect(zt_kv_has((*c)[C_ATTRS], "ztrace.probe", s->probe), "%s", (*c)[C_ATTRS]);
		snprintf(num, sizeof(num), "%lld", s->ret);
		cr_expect(zt_kv_has((*c)[C_ATTRS], "ztrace.return_value", num), "%s", (*c)[C_ATTRS]);
		expect_resource((*c)[C_RESOURCE], s->pid, service);
	}
	cr_expect_eq(errors, ORDERS_ERRORS);
}

/* Every request the receiver recorded had this Content-Type and Content-Encoding. */
static void expect_encoding(const struct zt_received *rcv, const char *type, const char *enc)
{
	char want[128];
	size_t lines = 0;

	snprintf(want, sizeof(want), "\"content_type\":\"%s\",\"content_encoding\":\"%s\"", type,
		 enc);
	for (const char *p = rcv->raw; *p; p = strchr(p, '\n') + 1) {
		cr_assert_not_null(strchr(p, '\n'));
		cr_expect_not_null(strstr(p, want), "request %zu is not %s", lines + 1, want);
		lines++;
	}
	cr_expect_gt(lines, 0);
}

/* Trace orders into a fresh receiver, with --otlp URL or (from_env) the standard variables
 * alone, and compare. */
static void export_run(bool from_env, const char *const *extra, const char *type, const char *enc)
{
	struct zt_receiver r;
	struct zt_received rcv;
	struct zt_spans spans;
	struct zt_proc zt;
	char url[64];
	const char *args[8];
	size_t n = 0;

	zt_receiver_dir(&r);
	zt_receiver_start(&r, 0, NULL);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", r.port);
	if (from_env) {
		setenv("OTEL_EXPORTER_OTLP_ENDPOINT", url, 1);
	} else {
		args[n++] = "--otlp";
		args[n++] = url;
	}
	for (; extra && *extra; extra++)
		args[n++] = *extra;
	args[n] = NULL;
	run_traced(&zt, args, &spans);
	zt_receiver_stop(&r);
	zt_read_received(&r, &rcv);
	expect_encoding(&rcv, type, enc);
	expect_same_spans(&spans, &rcv, "orders");
	zt_received_free(&rcv);
	zt_spans_free(&spans);
	zt_proc_free(&zt);
	zt_receiver_cleanup(&r);
}

Test(otlp, protobuf_gzip_by_default)
{
	export_run(false, NULL, "application/x-protobuf", "gzip");
}

Test(otlp, protobuf_without_gzip)
{
	const char *extra[] = {"--no-gzip", NULL};

	export_run(false, extra, "application/x-protobuf", "");
}

Test(otlp, json_gzip)
{
	const char *extra[] = {"--otlp-protocol", "http/json", NULL};

	export_run(false, extra, "application/json", "gzip");
}

Test(otlp, json_without_gzip_from_environment)
{
	setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json", 1);
	setenv("OTEL_EXPORTER_OTLP_COMPRESSION", "none", 1);
	export_run(true, NULL, "application/json", "");
}

Test(otlp, service_name_and_attributes_from_target_environment)
{
	struct zt_receiver r;
	struct zt_received rcv;
	struct zt_spans spans;
	struct zt_proc zt;
	char url[64];
	const char *args[] = {"--otlp", url, NULL};

	/* the target inherits these from ztrace, as `-- COMMAND` runs it */
	setenv("OTEL_SERVICE_NAME", "shop-orders", 1);
	setenv("OTEL_RESOURCE_ATTRIBUTES", "team=shop%20floor,service.name=ignored", 1);
	zt_receiver_dir(&r);
	zt_receiver_start(&r, 0, NULL);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", r.port);
	run_traced(&zt, args, &spans);
	zt_receiver_stop(&r);
	zt_read_received(&r, &rcv);
	expect_same_spans(&spans, &rcv, "shop-orders");
	cr_expect(zt_kv_has(rcv.cols[0][C_RESOURCE], "team", "shop floor"), "%s",
		  rcv.cols[0][C_RESOURCE]);
	zt_received_free(&rcv);
	zt_spans_free(&spans);
	zt_proc_free(&zt);
	zt_receiver_cleanup(&r);
}

Test(otlp, receiver_503_then_200_delivers_once)
{
	const char *fail[] = {"--fail-first", "2", NULL};
	struct zt_receiver r;
	struct zt_received rcv;
	struct zt_spans spans;
	struct zt_proc zt;
	char url[64];
	const char *args[] = {"--otlp", url, NULL};

	zt_receiver_dir(&r);
	zt_receiver_start(&r, 0, fail);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", r.port);
	run_traced(&zt, args, &spans);
	zt_receiver_stop(&r);
	cr_expect_not_null(strstr(zt_proc_text(&zt, ZT_STDERR), "failed (HTTP 503); retrying"),
			   "stderr:\n%s", zt_proc_text(&zt, ZT_STDERR));
	zt_read_received(&r, &rcv);
	/* expect_same_spans fails on a span that arrived twice */
	expect_same_spans(&spans, &rcv, "orders");
	zt_received_free(&rcv);
	zt_spans_free(&spans);
	zt_proc_free(&zt);
	zt_receiver_cleanup(&r);
}

Test(otlp, receiver_down_at_start_then_up)
{
	struct zt_receiver r;
	struct zt_received rcv;
	struct zt_spans spans;
	struct zt_proc zt;
	struct zt_argv a = {0};
	char url[64], line[512], err[512];
	int port = zt_free_port(), ret;
	const char *args[] = {"--otlp", url, NULL};

	snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
	/* 5 orders of 400 ms: the run outlasts the receiver's late start */
	av_trace_orders(&a, args, "400", "5");
	ret = zt_proc_spawn(&zt, a.v, NULL);
	cr_assert_eq(ret, 0);
	ret = zt_proc_wait_line(&zt, ZT_STDERR, "not reachable", ATTACH_MS, line, sizeof(line));
	cr_assert_eq(ret, 0, "no warning about the endpoint; stderr:\n%s",
		     zt_proc_text(&zt, ZT_STDERR));
	cr_expect_not_null(strstr(line, "ztrace: warning: OTLP endpoint "), "%s", line);
	cr_expect_not_null(strstr(line, "; spans are queued and retried"), "%s", line);
	usleep(LATE_MS * 1000);
	zt_receiver_dir(&r);
	zt_receiver_start(&r, port, NULL);
	ret = zt_proc_wait(&zt, EXIT_MS);
	cr_assert_eq(ret, 0, "ztrace exited %d; stderr:\n%s", ret,
		     tail(zt_proc_text(&zt, ZT_STDERR), OUT_TAIL));
	memset(&spans, 0, sizeof(spans));
	cr_assert_eq(zt_jsonl_parse(zt_proc_text(&zt, ZT_STDOUT), &spans, err, sizeof(err)), 0,
		     "%s", err);
	cr_assert_eq(spans.n, ORDERS_SPANS);
	zt_receiver_stop(&r);
	zt_read_received(&r, &rcv);
	cr_assert_eq(rcv.n, spans.n, "queued spans were lost; stderr:\n%s",
		     tail(zt_proc_text(&zt, ZT_STDERR), OUT_TAIL));
	zt_received_free(&rcv);
	zt_spans_free(&spans);
	zt_proc_free(&zt);
	zt_receiver_cleanup(&r);
}

Test(otlp, receiver_never_back_sigint_exits_0)
{
	struct zt_proc orders, zt;
	struct zt_argv a = {0}, o = {0};
	char url[64], line[512], pid[16];
	long long t0;
	int ret;

	/* a long run of orders, attached with -p so that the test owns (and ends) it */
	zt_argv_add(&o, orders_bin);
	zt_argv_add(&o, "--wait");
	zt_argv_add(&o, "--orders");
	zt_argv_add(&o, "100000");
	zt_argv_add(&o, "--sleep-ms");
	zt_argv_add(&o, "20");
	ret = zt_proc_spawn(&orders, o.v, NULL);
	cr_assert_eq(ret, 0);
	ret = zt_proc_wait_line(&orders, ZT_STDOUT, "ready ", ATTACH_MS, NULL, 0);
	cr_assert_eq(ret, 0, "orders did not get ready: %s", zt_proc_text(&orders, ZT_STDERR));

	snprintf(url, sizeof(url), "http://127.0.0.1:%d", zt_free_port());
	snprintf(pid, sizeof(pid), "%d", (int)orders.pid);
	zt_argv_add(&a, ztrace_bin);
	zt_argv_add(&a, "trace");
	zt_argv_add(&a, "--format");
	zt_argv_add(&a, "json");
	zt_argv_add(&a, "--otlp");
	zt_argv_add(&a, url);
	zt_argv_add(&a, "-p");
	zt_argv_add(&a, pid);
	zt_argv_add(&a, "process_order");
	ret = zt_proc_spawn(&zt, a.v, NULL);
	cr_assert_eq(ret, 0);
	ret = zt_proc_wait_line(&zt, ZT_STDERR, TRACING_LINE, ATTACH_MS, line, sizeof(line));
	cr_assert_eq(ret, 0, "stderr:\n%s", zt_proc_text(&zt, ZT_STDERR));
	cr_assert_eq(zt_proc_write(&orders, "g", 1), 0);
	usleep(RUN_MS * 1000);
	t0 = zt_now_ms();
	zt_proc_signal(&zt, SIGINT);
	ret = zt_proc_wait(&zt, SIGINT_MS);
	cr_assert_eq(ret, 0, "ztrace exited %d after SIGINT; stderr:\n%s", ret,
		     tail(zt_proc_text(&zt, ZT_STDERR), OUT_TAIL));
	cr_expect_lt(zt_now_ms() - t0, SIGINT_MS);
	cr_expect_not_null(strstr(zt_proc_text(&zt, ZT_STDERR), "not reachable"), "stderr:\n%s",
			   tail(zt_proc_text(&zt, ZT_STDERR), OUT_TAIL));
	/* spans were traced (and printed) while the endpoint was down */
	cr_expect_gt(zt_count_lines(zt_proc_text(&zt, ZT_STDOUT)), 0);
	zt_proc_free(&zt);
	zt_proc_free(&orders);
}

/*
 * args_app's calls exported with capture (the argument values as ztrace.argN attributes, a
 * string cut at its limit flagged) or without (no ztrace.arg attribute, and none of the
 * process's strings anywhere in the requests).
 */
static void export_args(const char *capture, struct zt_received *rcv)
{
	struct zt_receiver r;
	struct zt_argv a = {0};
	struct zt_proc zt;
	char url[64];
	int ret;

	zt_receiver_dir(&r);
	zt_receiver_start(&r, 0, NULL);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", r.port);
	zt_argv_add(&a, ztrace_bin);
	zt_argv_add(&a, "trace");
	zt_argv_add(&a, "-q");
	zt_argv_add(&a, "--otlp");
	zt_argv_add(&a, url);
	if (capture) {
		zt_argv_add(&a, "--capture");
		zt_argv_add(&a, capture);
	}
	zt_argv_add(&a, "submit_order");
	zt_argv_add(&a, "audit_order");
	zt_argv_add(&a, "--");
	zt_argv_add(&a, args_bin);
	ret = zt_run(&zt, a.v, NULL, EXIT_MS);
	cr_assert_eq(ret, 0, "ztrace exited %d; stderr:\n%s", ret,
		     tail(zt_proc_text(&zt, ZT_STDERR), OUT_TAIL));
	zt_proc_free(&zt);
	zt_receiver_stop(&r);
	zt_read_received(&r, rcv);
	zt_receiver_cleanup(&r);
	cr_assert_eq(rcv->n, 5, "args_app makes 5 calls, the receiver got %zu spans", rcv->n);
}

/* The attributes of the span whose ztrace.return_value is ret. */
static const char *attrs_of(const struct zt_received *rcv, const char *ret)
{
	for (size_t i = 0; i < rcv->n; i++)
		if (zt_kv_has(rcv->cols[i][C_ATTRS], "ztrace.return_value", ret))
			return rcv->cols[i][C_ATTRS];
	cr_assert_fail("no span returned %s", ret);
	return NULL;
}

Test(otlp, captured_arguments_as_span_attributes)
{
	struct zt_received rcv;
	const char *at;

	export_args("submit_order:arg0/i32,str1/8", &rcv);
	at = attrs_of(&rcv, "3");
	cr_expect(zt_kv_has(at, "ztrace.arg0", "42") && zt_kv_has(at, "ztrace.arg1", "abc"), "%s", at);
	cr_expect_null(strstr(at, "truncated"), "%s", at);
	at = attrs_of(&rcv, "100");
	cr_expect(zt_kv_has(at, "ztrace.arg0", "-7") && zt_kv_has(at, "ztrace.arg1", "01234567") &&
		      zt_kv_has(at, "ztrace.arg1.truncated", "true"),
		  "%s", at);
	at = attrs_of(&rcv, "-1");
	cr_expect(zt_kv_has(at, "ztrace.arg0", "9") && zt_kv_has(at, "ztrace.arg1.unreadable", "true"),
		  "%s", at);
	at = attrs_of(&rcv, "42"); /* audit_order: no capture asked */
	cr_expect_null(strstr(at, "ztrace.arg"), "%s", at);
	zt_received_free(&rcv);
}

Test(otlp, no_arguments_without_capture)
{
	struct zt_received rcv;

	export_args(NULL, &rcv);
	for (size_t i = 0; i < rcv.n; i++)
		cr_expect_null(strstr(rcv.cols[i][C_ATTRS], "ztrace.arg"), "%s",
			       rcv.cols[i][C_ATTRS]);
	/* the receiver's file holds the decoded requests: no argument string in any */
	/* quoted: a random hex id may hold the letters */
	cr_expect_null(strstr(rcv.raw, "\"abc\""), "request:\n%s", tail(rcv.raw, OUT_TAIL));
	cr_expect_null(strstr(rcv.raw, "secret-token"), "request:\n%s", tail(rcv.raw, OUT_TAIL));
	zt_received_free(&rcv);
}
