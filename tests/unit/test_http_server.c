// SPDX-License-Identifier: MIT
/*
 * The metrics endpoint on a loopback port: fetched with libcurl, checked by promtool; address
 * parsing and the errors a user sees (port in use, bad address).
 */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/runproc.h"
#include "http_server.h"
#include "metrics.h"

#define PROMTOOL_TIMEOUT_MS 20000
#define CURL_TIMEOUT_MS	    5000

struct reply {
	long status;
	char content_type[128];
	char *body;
	size_t len;
};

static size_t collect(char *data, size_t size, size_t n, void *arg)
{
	struct reply *r = arg;
	char *body = realloc(r->body, r->len + size * n + 1);

	cr_assert_not_null(body);
	memcpy(body + r->len, data, size * n);
	r->body = body;
	r->len += size * n;
	r->body[r->len] = '\0';
	return size * n;
}

/* Make a request (method GET, HEAD or POST) to url and collect the reply. */
static struct reply fetch(const char *method, const char *url)
{
	struct reply r = {0};
	CURL *c = curl_easy_init();
	char *ct = NULL;
	CURLcode rc;

	cr_assert_not_null(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)CURL_TIMEOUT_MS);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	else if (strcmp(method, "POST") == 0)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, "x=1");
	rc = curl_easy_perform(c);
	cr_assert_eq(rc, CURLE_OK, "%s %s: %s", method, url, curl_easy_strerror(rc));
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
	curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
	snprintf(r.content_type, sizeof(r.content_type), "%s", ct ? ct : "");
	curl_easy_cleanup(c);
	if (!r.body)
		r.body = calloc(1, 1);
	return r;
}

static struct zt_http *start(const char *addr, struct zt_metrics *m)
{
	char err[256] = "";
	struct zt_http *h = zt_http_start(addr, m, err, sizeof(err));

	cr_assert_not_null(h, "zt_http_start(%s): %s", addr, err);
	cr_assert_gt(zt_http_port(h), 0);
	return h;
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	cr_assert_not_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static struct zt_metrics *sample_metrics(void)
{
	struct zt_metrics *m = zt_metrics_new();
	struct zt_agg_val v;

	cr_assert_not_null(m);
	memset(&v, 0, sizeof(v));
	v.count = 100;
	v.sum_ns = 100 * 1100000ull;
	v.buckets[21] = 100;
	cr_assert_eq(zt_metrics_set_syscall(m, 4242, 1, "sleeper", 35, &v), 0);
	cr_assert_eq(zt_metrics_set_events(m, "syscalls", 100, 0), 0);
	return m;
}

Test(http_server, serves_metrics_that_promtool_accepts)
{
	char *argv[] = {"promtool", "check", "metrics", NULL};
	struct zt_metrics *m = sample_metrics();
	struct zt_http *h = start("127.0.0.1:0", m);
	struct zt_proc proc;
	struct reply r;
	char url[64];
	int ret;

	snprintf(url, sizeof(url), "http://127.0.0.1:%u/metrics", zt_http_port(h));
	r = fetch("GET", url);
	cr_assert_eq(r.status, 200);
	cr_assert_str_eq(r.content_type, "text/plain; version=0.0.4; charset=utf-8");
	cr_assert_not_null(strstr(r.body, "\nztrace_syscalls_total{pid=\"4242\",comm=\"sleeper\","
					  "syscall=\"nanosleep\"} 100\n"),
			   "%s", r.body);
	cr_assert_not_null(strstr(r.body, "\nprocess_resident_memory_bytes "));

	ret = zt_proc_spawn(&proc, argv, NULL);
	cr_assert_eq(ret, 0, "cannot run promtool: %s", strerror(-ret));
	cr_assert_eq(zt_proc_write(&proc, r.body, r.len), 0);
	zt_proc_close_stdin(&proc);
	ret = zt_proc_wait(&proc, PROMTOOL_TIMEOUT_MS);
	cr_assert_eq(ret, 0, "promtool exit %d: %s%s", ret, zt_proc_text(&proc, ZT_STDOUT),
		     zt_proc_text(&proc, ZT_STDERR));
	zt_proc_free(&proc);
	free(r.body);

	/* Scrape again: the exposition follows the registry. */
	zt_metrics_set_events(m, "syscalls", 250, 3);
	r = fetch("GET", url);
	cr_assert_not_null(strstr(r.body, "\nztrace_events_total{probe=\"syscalls\","
					  "outcome=\"lost\"} 3\n"),
			   "%s", r.body);
	free(r.body);

	zt_http_stop(h);
	zt_metrics_free(m);
}

Test(http_server, other_paths_and_methods)
{
	struct zt_metrics *m = sample_metrics();
	struct zt_http *h = start("0", m);
	char base[64], url[96];
	struct reply r;

	snprintf(base, sizeof(base), "http://127.0.0.1:%u", zt_http_port(h));

	snprintf(url, sizeof(url), "%s/healthz", base);
	r = fetch("GET", url);
	cr_assert_eq(r.status, 200);
	cr_assert_str_eq(r.body, "ok");
	free(r.body);

	snprintf(url, sizeof(url), "%s/readyz", base);
	r = fetch("GET", url);
	cr_assert_eq(r.status, 200);
	cr_assert_str_eq(r.body, "ok");
	free(r.body);

	snprintf(url, sizeof(url), "%s/metrics/extra", base);
	r = fetch("GET", url);
	cr_assert_eq(r.status, 404);
	free(r.body);

	snprintf(url, sizeof(url), "%s/", base);
	r = fetch("GET", url);
	cr_assert_eq(r.status, 404);
	free(r.body);

	/* Query strings do not change the path. */
	snprintf(url, sizeof(url), "%s/metrics?x=1", base);
	r = fetch("GET", url);
	cr_assert_eq(r.status, 200);
	free(r.body);

	snprintf(url, sizeof(url), "%s/metrics", base);
	r = fetch("HEAD", url);
	cr_assert_eq(r.status, 200);
	cr_assert_eq(r.len, 0);
	free(r.body);

	r = fetch("POST", url);
	cr_assert_eq(r.status, 405);
	free(r.body);

	zt_http_stop(h);
	zt_metrics_free(m);
}

Test(http_server, ipv6_loopback)
{
	struct zt_metrics *m = sample_metrics();
	struct zt_http *h = start("[::1]:0", m);
	struct reply r;
	char url[64];

	snprintf(url, sizeof(url), "http://[::1]:%u/healthz", zt_http_port(h));
	r = fetch("GET", url);
	cr_assert_eq(r.status, 200);
	cr_assert_str_eq(r.body, "ok");
	free(r.body);
	zt_http_stop(h);
	zt_metrics_free(m);
}

Test(http_server, port_in_use)
{
	struct zt_metrics *m = sample_metrics();
	struct zt_http *h = start("127.0.0.1:0", m);
	char addr[32], err[256], want[256];
	int fds;

	snprintf(addr, sizeof(addr), "%u", zt_http_port(h));
	fds = count_fds();
	errno = 0;
	cr_assert_null(zt_http_start(addr, m, err, sizeof(err)));
	cr_assert_eq(errno, EADDRINUSE);
	snprintf(want, sizeof(want),
		 "port %u on 127.0.0.1 is already in use: choose another with --metrics-addr",
		 zt_http_port(h));
	cr_assert_str_eq(err, want);
	cr_assert_eq(count_fds(), fds, "the failed start leaked a descriptor");
	zt_http_stop(h);
	zt_metrics_free(m);
}

Test(http_server, stop_releases_the_port)
{
	struct zt_metrics *m = sample_metrics();
	int fds = count_fds();
	struct zt_http *h = start("127.0.0.1:0", m);
	char addr[32];

	snprintf(addr, sizeof(addr), "127.0.0.1:%u", zt_http_port(h));
	zt_http_stop(h);
	cr_assert_eq(count_fds(), fds);
	/* The same port is free again at once (SO_REUSEADDR). */
	h = start(addr, m);
	zt_http_stop(h);
	zt_http_stop(NULL);
	zt_metrics_free(m);
}

/* Thread ids of this process, as a bitmap over tids below max_tid. */
static void list_threads(bool *tids, int max_tid)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;

	cr_assert_not_null(d);
	memset(tids, 0, (size_t)max_tid * sizeof(*tids));
	while ((e = readdir(d))) {
		int tid = atoi(e->d_name);

		if (tid > 0 && tid < max_tid)
			tids[tid] = true;
	}
	closedir(d);
}

/* The signals thread tid blocks, from /proc (SigBlk). */
static unsigned long long blocked_signals(int tid)
{
	char path[64], line[256];
	unsigned long long mask = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%d/status", tid);
	f = fopen(path, "r");
	cr_assert_not_null(f, "%s", path);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "SigBlk: %llx", &mask) == 1)
			break;
	fclose(f);
	return mask;
}

#define MAX_TID (1 << 22)

/* A SIGINT for the agent must reach its signalfd, never kill the process in the server thread. */
Test(http_server, server_thread_blocks_signals)
{
	bool *before = calloc(MAX_TID, sizeof(bool)), *after = calloc(MAX_TID, sizeof(bool));
	struct zt_metrics *m = sample_metrics();
	struct zt_http *h;
	int threads = 0;

	cr_assert(before && after);
	list_threads(before, MAX_TID);
	h = start("127.0.0.1:0", m);
	list_threads(after, MAX_TID);
	for (int tid = 1; tid < MAX_TID; tid++) {
		unsigned long long mask;

		if (!after[tid] || before[tid])
			continue;
		threads++;
		mask = blocked_signals(tid);
		cr_assert(mask & (1ull << (SIGINT - 1)), "thread %d: SigBlk %llx", tid, mask);
		cr_assert(mask & (1ull << (SIGTERM - 1)), "thread %d: SigBlk %llx", tid, mask);
	}
	cr_assert_geq(threads, 1, "no server thread found");
	/* The caller's own mask is left as it was. */
	cr_assert_not(blocked_signals(gettid()) & (1ull << (SIGINT - 1)));
	zt_http_stop(h);
	zt_metrics_free(m);
	free(before);
	free(after);
}

Test(http_server, bad_addresses)
{
	static const struct {
		const char *addr;
		int err;
		const char *msg;
	} cases[] = {
	    {"abc", EINVAL, "invalid --metrics-addr 'abc': expected [HOST:]PORT with PORT 0-65535"},
	    {"65536", EINVAL,
	     "invalid --metrics-addr '65536': expected [HOST:]PORT with PORT 0-65535"},
	    {"127.0.0.1:", EINVAL,
	     "invalid --metrics-addr '127.0.0.1:': expected [HOST:]PORT with PORT 0-65535"},
	    {"-1", EINVAL, "invalid --metrics-addr '-1': expected [HOST:]PORT with PORT 0-65535"},
	    {"::1:9464", EINVAL,
	     "invalid --metrics-addr '::1:9464': put an IPv6 address in brackets, e.g. "
	     "[::1]:9464"},
	    {"[::1]", EINVAL,
	     "invalid --metrics-addr '[::1]': expected [IPV6]:PORT, e.g. [::1]:9464"},
	    {"192.0.2.1:9464", EADDRNOTAVAIL,
	     "cannot listen on 192.0.2.1 port 9464: no interface of this host has that address "
	     "(--metrics-addr)"},
	};
	struct zt_metrics *m = sample_metrics();
	char err[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		errno = 0;
		cr_assert_null(zt_http_start(cases[i].addr, m, err, sizeof(err)), "%s",
			       cases[i].addr);
		cr_assert_eq(errno, cases[i].err, "%s: errno %d", cases[i].addr, errno);
		cr_assert_str_eq(err, cases[i].msg);
	}

	/* A name that does not resolve: the resolver's words follow ours. */
	errno = 0;
	cr_assert_null(zt_http_start("no-such-host.invalid:9464", m, err, sizeof(err)));
	cr_assert_eq(errno, EADDRNOTAVAIL);
	cr_assert_eq(strncmp(err,
			     "cannot resolve host 'no-such-host.invalid' in --metrics-addr "
			     "'no-such-host.invalid:9464': ",
			     strlen("cannot resolve host 'no-such-host.invalid' in --metrics-addr "
				    "'no-such-host.invalid:9464': ")),
		     0, "%s", err);
	zt_metrics_free(m);
}

Test(http_server, parse_addr_defaults_to_loopback)
{
	struct sockaddr_storage sa;
	struct sockaddr_in *in = (struct sockaddr_in *)&sa;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&sa;
	socklen_t len;
	char err[256];

	cr_assert_eq(zt_http_parse_addr("9464", &sa, &len, err, sizeof(err)), 0);
	cr_assert_eq(sa.ss_family, AF_INET);
	cr_assert_eq(ntohl(in->sin_addr.s_addr), INADDR_LOOPBACK);
	cr_assert_eq(ntohs(in->sin_port), 9464);

	/* An empty host is no host: still loopback, never every interface by surprise. */
	cr_assert_eq(zt_http_parse_addr(":9464", &sa, &len, err, sizeof(err)), 0);
	cr_assert_eq(ntohl(in->sin_addr.s_addr), INADDR_LOOPBACK);

	cr_assert_eq(zt_http_parse_addr("0.0.0.0:80", &sa, &len, err, sizeof(err)), 0);
	cr_assert_eq(ntohl(in->sin_addr.s_addr), INADDR_ANY);
	cr_assert_eq(ntohs(in->sin_port), 80);
	cr_assert_eq(len, sizeof(struct sockaddr_in));

	cr_assert_eq(zt_http_parse_addr("[::]:65535", &sa, &len, err, sizeof(err)), 0);
	cr_assert_eq(sa.ss_family, AF_INET6);
	cr_assert(IN6_IS_ADDR_UNSPECIFIED(&in6->sin6_addr));
	cr_assert_eq(ntohs(in6->sin6_port), 65535);
	cr_assert_eq(len, sizeof(struct sockaddr_in6));

	cr_assert_eq(zt_http_parse_addr("[::1]:1", &sa, &len, err, sizeof(err)), 0);
	cr_assert(IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr));
}
