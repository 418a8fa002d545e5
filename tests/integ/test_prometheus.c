// SPDX-License-Identifier: MIT
/*
 * The metrics endpoint against real peers: the ztrace binary traces tests/targets/orders with
 * --metrics-addr; promtool checks the live exposition, and a real Prometheus (Debian's package,
 * started here on loopback ports with a 1 s scrape interval and a throw-away TSDB) scrapes it
 * until /api/v1/query returns the exact counts orders makes. Also the user's errors: a port in
 * use and an unknown syscall name exit 2 with a message that says what to fix.
 *
 * Binaries come from $ZT_OUTPUT (default .output). Run from the repository root, as root.
 */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <errno.h>
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
#include "common/webget.h"

/* orders --orders 10 --threads 1: ids 5 and 10 fail, one slow_io nanosleep per order. */
#define ORDERS_N	"10"
#define ORDERS_CALLS	10
#define ORDERS_ERRORS	2
#define ORDERS_SLEEP_MS "1"

/* Deadlines, in milliseconds. */
#define READY_MS	3000  /* a --wait target prints "ready <pid>" */
#define ATTACH_MS	5000  /* ztrace prints "ztrace: tracing " */
#define EXIT_MS		8000  /* a process we ended exits */
#define METRICS_MS	5000  /* ztrace's registry catches up (it refreshes every second) */
#define PROM_READY_MS	30000 /* Prometheus answers /-/ready */
#define PROM_QUERY_MS	60000 /* the first scrapes land (the first one takes ~6 s) */
#define POLL_MS		200
#define PROMTOOL_MS	20000

#define TRACING_LINE "ztrace: tracing "
#define ARGV_MAX     24
#define OUT_TAIL     3000

static char ztrace_bin[PATH_MAX];
static char orders_bin[PATH_MAX];

static void setup(void)
{
	if (geteuid() != 0)
		cr_skip_test("integration tests load BPF programs: run as root");
	zt_output_path(ztrace_bin, "ztrace");
	zt_output_path(orders_bin, "targets/orders");
}

static const char *tail(const char *s, size_t max)
{
	size_t len = strlen(s);

	return len > max ? s + len - max : s;
}

struct session {
	struct zt_proc worker; /* orders, released to do its work, then exits */
	struct zt_proc keeper; /* orders kept waiting, so ztrace outlives the worker */
	struct zt_proc ztrace;
	unsigned int port; /* ztrace's --metrics-addr port */
};

static void start_waiting_orders(struct zt_proc *p)
{
	char *argv[] = {orders_bin, "--wait",	  "--orders",	   ORDERS_N,  "--threads",
			"1",	    "--sleep-ms", ORDERS_SLEEP_MS, "--quiet", NULL};
	int ret = zt_proc_spawn(p, argv, NULL);

	cr_assert_eq(ret, 0, "spawn %s: %s", orders_bin, strerror(-ret));
	ret = zt_proc_wait_line(p, ZT_STDOUT, "ready ", READY_MS, NULL, 0);
	cr_assert_eq(ret, 0, "orders did not print 'ready': %s", strerror(-ret));
}

/* Trace two waiting orders with function and syscall metrics on a free loopback port. */
static void start_session(struct session *s)
{
	char pids[64], addr[32];
	char *argv[ARGV_MAX];
	int n = 0, ret;

	start_waiting_orders(&s->worker);
	start_waiting_orders(&s->keeper);
	s->port = zt_free_port();
	snprintf(pids, sizeof(pids), "%d,%d", s->worker.pid, s->keeper.pid);
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", s->port);
	argv[n++] = ztrace_bin;
	argv[n++] = "trace";
	argv[n++] = "-p";
	argv[n++] = pids;
	argv[n++] = "process_order";
	argv[n++] = "--syscalls=clock_nanosleep,openat";
	argv[n++] = "--error-if";
	argv[n++] = "ret<0";
	argv[n++] = "--metrics-addr";
	argv[n++] = addr;
	argv[n++] = "-q";
	argv[n] = NULL;
	ret = zt_proc_spawn(&s->ztrace, argv, NULL);
	cr_assert_eq(ret, 0, "spawn %s: %s", ztrace_bin, strerror(-ret));
	ret = zt_proc_wait_line(&s->ztrace, ZT_STDERR, TRACING_LINE, ATTACH_MS, NULL, 0);
	cr_assert_eq(ret, 0, "no '%s' line from ztrace (%s); stderr:\n%s", TRACING_LINE,
		     strerror(-ret), tail(zt_proc_text(&s->ztrace, ZT_STDERR), OUT_TAIL));

	/* The worker does its orders and exits; its series stay (they linger after an exit). */
	cr_assert_eq(zt_proc_write(&s->worker, "g", 1), 0);
	ret = zt_proc_wait(&s->worker, EXIT_MS);
	cr_assert_eq(ret, 0, "orders exit %d: %s", ret, zt_proc_text(&s->worker, ZT_STDERR));
}

/* End the keeper: with all its targets gone, ztrace ends by itself and exits 0. */
static void end_session(struct session *s)
{
	int ret;

	zt_proc_signal(&s->keeper, SIGTERM);
	zt_proc_wait(&s->keeper, EXIT_MS);
	ret = zt_proc_wait(&s->ztrace, EXIT_MS);
	cr_assert_eq(ret, 0, "ztrace exit %d; stderr:\n%s", ret,
		     tail(zt_proc_text(&s->ztrace, ZT_STDERR), OUT_TAIL));
	zt_proc_free(&s->ztrace);
	zt_proc_free(&s->keeper);
	zt_proc_free(&s->worker);
}

#define CALLS_SERIES                                                                               \
	"ztrace_function_calls_total{pid=\"%d\",comm=\"orders\",function=\"process_order\","       \
	"binary=\"%s\"}"

/* Scrape ztrace until the worker's final counts are in; returns the exposition (malloc'd). */
static char *scrape_settled(struct session *s)
{
	char url[64], series[PATH_MAX + 160];
	long long deadline = zt_now_ms() + METRICS_MS;
	char *body = NULL;

	snprintf(url, sizeof(url), "http://127.0.0.1:%u/metrics", s->port);
	snprintf(series, sizeof(series), CALLS_SERIES, s->worker.pid, orders_bin);
	for (;;) {
		long status;

		free(body);
		status = zt_http_get(url, &body);
		cr_assert_eq(status, 200, "GET %s: %ld", url, status);
		if (zt_exposition_value(body, series) == ORDERS_CALLS)
			return body;
		cr_assert_lt(zt_now_ms(), deadline, "no '%s %d' in:\n%s", series, ORDERS_CALLS,
			     tail(body, OUT_TAIL));
		zt_proc_pump(&s->ztrace, POLL_MS);
	}
}

Test(prometheus, promtool_checks_live_endpoint, .init = setup)
{
	char *argv[] = {"promtool", "check", "metrics", NULL};
	char series[PATH_MAX + 160];
	struct session s = {0};
	struct zt_proc promtool;
	char *body;
	int ret;

	start_session(&s);
	body = scrape_settled(&s);
	snprintf(
	    series, sizeof(series),
	    "ztrace_function_errors_total{pid=\"%d\",comm=\"orders\",function=\"process_order\","
	    "binary=\"%s\"}",
	    s.worker.pid, orders_bin);
	cr_assert_eq(zt_exposition_value(body, series), ORDERS_ERRORS, "%s", tail(body, OUT_TAIL));
	snprintf(series, sizeof(series),
		 "ztrace_syscalls_total{pid=\"%d\",comm=\"orders\",syscall=\"clock_nanosleep\"}",
		 s.worker.pid);
	cr_assert_eq(zt_exposition_value(body, series), ORDERS_CALLS, "%s", tail(body, OUT_TAIL));

	ret = zt_proc_spawn(&promtool, argv, NULL);
	cr_assert_eq(ret, 0, "cannot run promtool: %s", strerror(-ret));
	cr_assert_eq(zt_proc_write(&promtool, body, strlen(body)), 0);
	zt_proc_close_stdin(&promtool);
	ret = zt_proc_wait(&promtool, PROMTOOL_MS);
	cr_assert_eq(ret, 0, "promtool check metrics exit %d: %s%s\n%s", ret,
		     zt_proc_text(&promtool, ZT_STDOUT), zt_proc_text(&promtool, ZT_STDERR),
		     tail(body, OUT_TAIL));
	zt_proc_free(&promtool);
	free(body);
	end_session(&s);
}

/* Write a Prometheus config that scrapes 127.0.0.1:port every second into dir. */
static void write_prometheus_config(const char *dir, unsigned int port)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/prometheus.yml", dir);
	f = fopen(path, "w");
	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	fprintf(f,
		"global:\n"
		"  scrape_interval: 1s\n"
		"  evaluation_interval: 1s\n"
		"scrape_configs:\n"
		"  - job_name: ztrace\n"
		"    static_configs:\n"
		"      - targets: ['127.0.0.1:%u']\n",
		port);
	cr_assert_eq(fclose(f), 0);
}

/*
 * The value of the single series a PromQL query returns, as Prometheus's JSON gives it (a
 * string), into out; false when the result is not exactly one sample yet.
 */
static bool query_one(unsigned int prom_port, const char *promql, char *out, size_t outlen,
		      char **last)
{
	CURL *c = curl_easy_init();
	char *escaped, url[1024];
	const char *v, *end;
	long status;

	cr_assert_not_null(c);
	escaped = curl_easy_escape(c, promql, 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/api/v1/query?query=%s", prom_port, escaped);
	curl_free(escaped);
	curl_easy_cleanup(c);
	free(*last);
	status = zt_http_get(url, last);
	if (status != 200 || !*last)
		return false;
	/* {"status":"success","data":{"resultType":"vector","result":[{..."value":[T,"V"]}]}} */
	v = strstr(*last, "\"value\":[");
	if (!v || strstr(v + 1, "\"value\":["))
		return false;
	v = strstr(v, ",\"");
	end = v ? strchr(v + 2, '"') : NULL;
	if (!end)
		return false;
	snprintf(out, outlen, "%.*s", (int)(end - v - 2), v + 2);
	return true;
}

/* Poll promql until it returns want (exactly, as text) or the deadline passes. */
static void expect_query(struct zt_proc *prom, unsigned int prom_port, const char *promql,
			 const char *want, long long deadline)
{
	char got[64] = "";
	char *last = NULL;

	for (;;) {
		if (query_one(prom_port, promql, got, sizeof(got), &last) && strcmp(got, want) == 0)
			break;
		cr_assert_lt(zt_now_ms(), deadline,
			     "Prometheus never returned %s for %s (last value '%s'); last answer:\n"
			     "%s\nPrometheus stderr:\n%s",
			     want, promql, got, last ? last : "(none)",
			     tail(zt_proc_text(prom, ZT_STDERR), OUT_TAIL));
		/* Keep Prometheus's pipes drained while we wait. */
		zt_proc_pump(prom, POLL_MS);
	}
	free(last);
}

Test(prometheus, real_prometheus_scrapes_ztrace, .init = setup)
{
	char dir[] = "/tmp/ztrace-prom-XXXXXX";
	char config[PATH_MAX + 32], tsdb[PATH_MAX + 32], listen[64], url[64], promql[512];
	char *argv[] = {"prometheus", config, tsdb, listen, "--log.level=warn", NULL};
	unsigned int prom_port;
	struct session s = {0};
	struct zt_proc prom;
	long long deadline;
	char *body = NULL, *rm[] = {"rm", "-rf", dir, NULL};
	struct zt_proc rmp;
	int ret;

	start_session(&s);
	free(scrape_settled(&s));

	cr_assert_not_null(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
	write_prometheus_config(dir, s.port);
	prom_port = zt_free_port();
	snprintf(config, sizeof(config), "--config.file=%s/prometheus.yml", dir);
	snprintf(tsdb, sizeof(tsdb), "--storage.tsdb.path=%s/data", dir);
	snprintf(listen, sizeof(listen), "--web.listen-address=127.0.0.1:%u", prom_port);
	ret = zt_proc_spawn(&prom, argv, NULL);
	cr_assert_eq(ret, 0, "cannot run prometheus: %s", strerror(-ret));

	snprintf(url, sizeof(url), "http://127.0.0.1:%u/-/ready", prom_port);
	deadline = zt_now_ms() + PROM_READY_MS;
	while (zt_http_get(url, &body) != 200) {
		free(body);
		body = NULL;
		cr_assert_lt(zt_now_ms(), deadline, "Prometheus not ready; stderr:\n%s",
			     tail(zt_proc_text(&prom, ZT_STDERR), OUT_TAIL));
		cr_assert_eq(zt_proc_pump(&prom, POLL_MS), 0);
		cr_assert(!prom.reaped, "Prometheus exited: %s", zt_proc_text(&prom, ZT_STDERR));
	}
	free(body);

	deadline = zt_now_ms() + PROM_QUERY_MS;
	/* Prometheus scraped and parsed ztrace's exposition... */
	expect_query(&prom, prom_port, "up{job=\"ztrace\"}", "1", deadline);
	/* ...and holds the exact counts the worker made. */
	snprintf(promql, sizeof(promql),
		 "ztrace_function_calls_total{pid=\"%d\",function=\"process_order\"}",
		 s.worker.pid);
	expect_query(&prom, prom_port, promql, "10", deadline);
	snprintf(promql, sizeof(promql),
		 "ztrace_function_errors_total{pid=\"%d\",function=\"process_order\"}",
		 s.worker.pid);
	expect_query(&prom, prom_port, promql, "2", deadline);
	snprintf(promql, sizeof(promql),
		 "ztrace_syscall_duration_seconds_count{pid=\"%d\",syscall=\"clock_nanosleep\"}",
		 s.worker.pid);
	expect_query(&prom, prom_port, promql, "10", deadline);
	/* The log2 buckets are usable as a histogram: every sleep took 1 ms or more. */
	snprintf(promql, sizeof(promql),
		 "histogram_quantile(0.5, ztrace_syscall_duration_seconds_bucket{pid=\"%d\","
		 "syscall=\"clock_nanosleep\"}) >= bool 0.001",
		 s.worker.pid);
	expect_query(&prom, prom_port, promql, "1", deadline);
	/* ztrace's own capture counters: nothing lost. */
	expect_query(&prom, prom_port, "sum(ztrace_events_total{outcome=\"lost\"})", "0", deadline);

	zt_proc_signal(&prom, SIGTERM);
	ret = zt_proc_wait(&prom, EXIT_MS);
	cr_assert_eq(ret, 0, "prometheus exit %d: %s", ret,
		     tail(zt_proc_text(&prom, ZT_STDERR), OUT_TAIL));
	zt_proc_free(&prom);
	cr_assert_eq(zt_run(&rmp, rm, NULL, EXIT_MS), 0);
	zt_proc_free(&rmp);
	end_session(&s);
}

/* ztrace exits 2 with the message, without attaching anything. */
static void expect_usage_error(char **argv, const char *message)
{
	struct zt_proc p;
	int ret;

	ret = zt_run(&p, argv, NULL, EXIT_MS);
	cr_assert_eq(ret, 2, "exit %d, want 2; stderr:\n%s", ret, zt_proc_text(&p, ZT_STDERR));
	cr_assert_not_null(strstr(zt_proc_text(&p, ZT_STDERR), message), "stderr lacks '%s':\n%s",
			   message, zt_proc_text(&p, ZT_STDERR));
	zt_proc_free(&p);
}

Test(prometheus, port_in_use_exits_2, .init = setup)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);
	char pid[16], addr[32], message[160];
	char *argv[] = {ztrace_bin, "trace", "-p", pid, "--syscalls", "--metrics-addr", addr, NULL};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	/* Something else holds the port. */
	cr_assert_geq(fd, 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(listen(fd, 1), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	snprintf(pid, sizeof(pid), "%d", getpid());
	snprintf(addr, sizeof(addr), "%u", ntohs(sa.sin_port));
	snprintf(message, sizeof(message),
		 "port %u on 127.0.0.1 is already in use: choose another with --metrics-addr\n",
		 ntohs(sa.sin_port));
	expect_usage_error(argv, message);
	close(fd);
}

Test(prometheus, unknown_syscall_exits_2, .init = setup)
{
	char pid[16];
	char *argv[] = {ztrace_bin, "trace", "-p", pid, "--syscalls=read,frobnicate", NULL};

	snprintf(pid, sizeof(pid), "%d", getpid());
	expect_usage_error(argv, "unknown syscall 'frobnicate' in --syscalls: see ausyscall --dump "
				 "or /usr/include/asm/unistd_64.h\n");
}
