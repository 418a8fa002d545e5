// SPDX-License-Identifier: MIT
/*
 * The OTLP exporter against a scripted in-process HTTP server (libmicrohttpd): batching,
 * headers and compression, retries on 503/429 with Retry-After, no retry on 400, giving up,
 * an endpoint that is down or hangs, a full queue, and stop deadlines. The decoding of what is
 * sent is proven in test_otlp_encode (by the OpenTelemetry project's decoder); here requests
 * are OTLP/JSON so that spans can be counted by their "spanId" keys.
 */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include "common/testenv.h"
#include "export_otlp.h"
#include "otlp_encode.h"

#define ERR_LEN 256
/* Requests the scripted server remembers. */
#define MAX_REQUESTS 64
/* Response statuses the server can be told to give before it answers 200. */
#define MAX_SCRIPT 8
/* Decompressed request bodies are at most this big here. */
#define BODY_MAX (1 << 20)
/* How long a test waits for the exporter to reach a state. */
#define WAIT_MS 5000

struct request {
	char content_type[64];
	char content_encoding[16];
	char token[64];	    /* the x-token header */
	struct zt_buf body; /* decompressed */
	unsigned spans;	    /* "spanId" occurrences in a JSON body */
	long long at_ms;
	int status; /* what the server answered */
};

struct server {
	struct MHD_Daemon *d;
	int port;
	pthread_mutex_t lock;
	int script[MAX_SCRIPT]; /* statuses for the first requests; 0 ends the script */
	int always;		/* when nonzero, the status after the script */
	const char *retry_after;
	struct request req[MAX_REQUESTS];
	unsigned n_req;
};

static struct server srv;

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void gunzip(const struct zt_buf *in, struct zt_buf *out)
{
	z_stream zs = {0};

	cr_assert_eq(inflateInit2(&zs, 15 + 16), Z_OK);
	cr_assert_eq(zt_buf_reserve(out, BODY_MAX), 0);
	zs.next_in = in->data;
	zs.avail_in = in->len;
	zs.next_out = out->data;
	zs.avail_out = BODY_MAX;
	cr_assert_eq(inflate(&zs, Z_FINISH), Z_STREAM_END, "request body is not gzip");
	out->len = zs.total_out;
	inflateEnd(&zs);
}

static unsigned count_spans(const struct zt_buf *body)
{
	const char *p = (const char *)body->data, *end = p + body->len;
	unsigned n = 0;

	while ((p = memmem(p, end - p, "\"spanId\"", 8))) {
		n++;
		p += 8;
	}
	return n;
}

static void copy_header(struct MHD_Connection *c, const char *name, char *out, size_t len)
{
	const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);

	snprintf(out, len, "%s", v ? v : "");
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_size, void **con_cls)
{
	struct zt_buf *raw = *con_cls;
	struct MHD_Response *resp;
	struct request *r;
	enum MHD_Result ret;
	int status;

	if (!raw) {
		*con_cls = calloc(1, sizeof(struct zt_buf));
		return *con_cls ? MHD_YES : MHD_NO;
	}
	if (*upload_size) {
		zt_buf_append(raw, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	pthread_mutex_lock(&srv.lock);
	cr_assert_lt(srv.n_req, MAX_REQUESTS);
	r = &srv.req[srv.n_req];
	status = srv.n_req < MAX_SCRIPT && srv.script[srv.n_req] ? srv.script[srv.n_req]
		 : srv.always					 ? srv.always
								 : 200;
	srv.n_req++;
	r->at_ms = mono_ms();
	r->status = status;
	copy_header(c, "Content-Type", r->content_type, sizeof(r->content_type));
	copy_header(c, "Content-Encoding", r->content_encoding, sizeof(r->content_encoding));
	copy_header(c, "x-token", r->token, sizeof(r->token));
	if (!strcmp(r->content_encoding, "gzip"))
		gunzip(raw, &r->body);
	else
		zt_buf_append(&r->body, raw->data, raw->len);
	r->spans = count_spans(&r->body);
	pthread_mutex_unlock(&srv.lock);

	resp = MHD_create_response_from_buffer(
	    status == 200 ? 2 : 5, status == 200 ? "{}" : "nope\n", MHD_RESPMEM_PERSISTENT);
	if (status != 200 && srv.retry_after)
		MHD_add_response_header(resp, "Retry-After", srv.retry_after);
	ret = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static void request_done(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	if (*con_cls) {
		zt_buf_free(*con_cls);
		free(*con_cls);
		*con_cls = NULL;
	}
}

static void server_start(void)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	const union MHD_DaemonInfo *info;

	pthread_mutex_init(&srv.lock, NULL);
	srv.d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL,
				 handle, NULL, MHD_OPTION_SOCK_ADDR, &sin,
				 MHD_OPTION_NOTIFY_COMPLETED, request_done, NULL, MHD_OPTION_END);
	cr_assert_not_null(srv.d);
	info = MHD_get_daemon_info(srv.d, MHD_DAEMON_INFO_BIND_PORT);
	cr_assert_not_null(info);
	srv.port = info->port;
}

static void server_stop(void)
{
	if (srv.d)
		MHD_stop_daemon(srv.d);
	srv.d = NULL;
}

TestSuite(otlp_export, .fini = server_stop);

static unsigned n_requests(void)
{
	unsigned n;

	pthread_mutex_lock(&srv.lock);
	n = srv.n_req;
	pthread_mutex_unlock(&srv.lock);
	return n;
}

static void config(struct zt_otlp_config *c, int port, char *url, size_t len)
{
	zt_otlp_config_defaults(c);
	snprintf(url, len, "http://127.0.0.1:%d", port);
	c->endpoint = url;
	c->json = true;
	c->gzip = false;
	c->host_name = "testhost";
	c->batch_ms = 50;
}

static struct zt_span make_span(uint64_t id)
{
	struct zt_span s = {.span_id = id,
			    .start_ns = 1000,
			    .end_ns = 2000,
			    .pid = 4242,
			    .tid = 4242,
			    .name = "process_order",
			    .comm = "orders"};

	s.trace_id[15] = 1;
	return s;
}

/* Poll until pred() holds or WAIT_MS pass; returns whether it held. */
static bool wait_for(bool (*pred)(struct zt_otlp_exporter *, uint64_t), struct zt_otlp_exporter *e,
		     uint64_t arg)
{
	long long end = mono_ms() + WAIT_MS;

	while (mono_ms() < end) {
		if (pred(e, arg))
			return true;
		usleep(10000);
	}
	return pred(e, arg);
}

static bool sent_is(struct zt_otlp_exporter *e, uint64_t want)
{
	uint64_t sent;

	zt_otlp_counts(e, &sent, NULL, NULL);
	return sent == want;
}

static bool failed_is(struct zt_otlp_exporter *e, uint64_t want)
{
	uint64_t failed;

	zt_otlp_counts(e, NULL, NULL, &failed);
	return failed == want;
}

static void expect_counts(struct zt_otlp_exporter *e, uint64_t sent, uint64_t dropped,
			  uint64_t failed)
{
	uint64_t s, d, f;

	zt_otlp_counts(e, &s, &d, &f);
	cr_expect_eq(s, sent, "sent %llu, want %llu", (unsigned long long)s,
		     (unsigned long long)sent);
	cr_expect_eq(d, dropped, "dropped %llu, want %llu", (unsigned long long)d,
		     (unsigned long long)dropped);
	cr_expect_eq(f, failed, "failed %llu, want %llu", (unsigned long long)f,
		     (unsigned long long)failed);
}

Test(otlp_export, batches_by_size_with_headers)
{
	struct zt_otlp_config c;
	struct zt_otlp_exporter *e;
	char url[64], err[ERR_LEN];
	unsigned total = 0;

	server_start();
	config(&c, srv.port, url, sizeof(url));
	c.batch_spans = 10;
	c.batch_ms = 5000; /* only full batches go before the stop */
	c.headers = "x-token = abc%20def";
	e = zt_otlp_start(&c, err, sizeof(err));
	cr_assert_not_null(e, "%s", err);
	for (uint64_t i = 1; i <= 25; i++) {
		struct zt_span s = make_span(i);

		cr_assert_eq(zt_otlp_submit(e, &s, NULL), 0);
	}
	cr_assert(wait_for(sent_is, e, 20), "two full batches within %d ms", WAIT_MS);
	cr_expect_eq(n_requests(), 2);
	zt_otlp_stop(e, 2000);
	expect_counts(e, 25, 0, 0);
	cr_assert_eq(n_requests(), 3);
	for (unsigned i = 0; i < 3; i++) {
		cr_expect_str_eq(srv.req[i].content_type, "application/json");
		cr_expect_str_eq(srv.req[i].content_encoding, "");
		cr_expect_str_eq(srv.req[i].token, "abc def");
		total += srv.req[i].spans;
	}
	cr_expect_eq(srv.req[0].spans, 10);
	cr_expect_eq(srv.req[1].spans, 10);
	cr_expect_eq(srv.req[2].spans, 5);
	cr_expect_eq(total, 25);
	zt_otlp_free(e);
}

Test(otlp_export, partial_batch_goes_after_batch_ms)
{
	struct zt_otlp_config c;
	struct zt_otlp_exporter *e;
	char url[64], err[ERR_LEN];
	struct zt_span s = make_span(7);
	long long t0;

	server_start();
	config(&c, srv.port, url, sizeof(url));
	c.batch_ms = 300;
	e = zt_otlp_start(&c, err, sizeof(err));
	cr_assert_not_null(e, "%s", err);
	t0 = mono_ms();
	cr_assert_eq(zt_otlp_submit(e, &s, NULL), 0);
	cr_assert(wait_for(sent_is, e, 1));
	cr_expect_geq(srv.req[0].at_ms - t0, 300 - 10, "sent after %lld ms", srv.req[0].at_ms - t0);
	cr_expect_lt(srv.req[0].at_ms - t0, 300 + 1000, "sent after %lld ms",
		     srv.req[0].at_ms - t0);
	zt_otlp_free(e);
}

Test(otlp_export, protobuf_gzip_body_is_the_encoding)
{
	struct zt_otlp_config c;
	struct zt_otlp_exporter *e;
	struct zt_process_info proc = {.pid = 4242,
				       .comm = "orders",
				       .exe = strdup("/bin/orders"),
				       .service_name = strdup("orders")};
	char url[64], err[ERR_LEN];
	struct zt_span s = make_span(0x1234);
	struct zt_otlp_group g = {.proc = &proc, .spans = &s, .n = 1};
	struct zt_otlp_batch b = {.host_name = "testhost", .groups = &g, .n_groups = 1};
	struct zt_buf want = {0};

	cr_assert_eq(zt_otlp_encode_proto(&b, &want), 0);
	server_start();
	config(&c, srv.port, url, sizeof(url));
	c.json = false;
	c.gzip = true;
	e = zt_otlp_start(&c, err, sizeof(err));
	cr_assert_not_null(e, "%s", err);
	cr_assert_eq(zt_otlp_submit(e, &s, &proc), 0);
	/* the exporter keeps its own copy of the process */
	zt_procinfo_free(&proc);
	zt_otlp_stop(e, 2000);
	expect_counts(e, 1, 0, 0);
	cr_assert_eq(n_requests(), 1);
	cr_expect_str_eq(srv.req[0].content_type, "application/x-protobuf");
	cr_expect_str_eq(srv.req[0].content_encoding, "gzip");
	cr_assert_eq(srv.req[0].body.len, want.len);
	cr_assert_eq(memcmp(srv.req[0].body.data, want.data, want.len), 0);
	zt_buf_free(&want);
	zt_otlp_free(e);
}

Test(otlp_export, retries_503_then_delivers_once)
{
	struct zt_otlp_config c;
	struct zt_otlp_exporter *e;
	char url[64], err[ERR_LEN];

	server_start();
	srv.script[0] = 503;
	srv.script[1] = 503;
	config(&c, srv.port, url, sizeof(url));
	e = zt_otlp_start(&c, err, sizeof(err));
	cr_assert_not_null(e, "%s", err);
	for (uint64_t i = 1; i <= 5; i++) {
		struct zt_span s = make_span(i);

		cr_assert_eq(zt_otlp_submit(e, &s, NULL), 0);
	}
	cr_assert(wait_for(sent_is, e, 5));
	zt_otlp_stop(e, 1000);
	expect_counts(e, 5, 0, 0);
	cr_assert_eq(n_requests(), 3);
	/* the same 5 spans three times; only the last was accepted */
	for (unsigned i = 0; i < 3; i++)
		cr_expect_eq(srv.req[i].spans, 5);
	cr_expect_eq(srv.req[2].status, 200);
	cr_expect_eq(srv.req[2].body.len, srv.req[0].body.len);
	/* exponential backoff: the second wait is longer than the first's minimum */
	cr_expect_geq(srv.req[1].at_ms - srv.req[0].at_ms, ZT_OTLP_BACKOFF_INITIAL_MS / 2 - 10);
	cr_expect_geq(srv.req[2].at_ms - srv.req[1].at_ms, ZT_OTLP_BACKOFF_INITIAL_MS - 10);
	zt_otlp_free(e);
}

Test(otlp_export, honours_retry_after)
{
	struct zt_otlp_config c;
	struct zt_otlp_exporter *e;
	char url[64], err[ERR_LEN];
	struct zt_span s = make_span(1);

	server_start();
	srv.script[0] = 429;
	srv.retry_after = "1";
	config(&c, srv.port, url, sizeof(url));
	e = zt_otlp_start(&c, err, sizeof(err));
	cr_assert_not_null(e, "%s", err);
	cr_assert_eq(zt_otlp_submit(e, &s, NULL), 0);
	cr_assert(wait_for(sent_is, e, 1));
	cr_assert_eq(n_requests(), 2);
	cr_expect_geq(srv.req[1].at_ms - srv.req[0].at_ms, 1000 - 10, "retried after %lld ms",
		      srv.req[1].at_ms - srv.req[0].at_ms);
	zt_otlp_free(e);
}

static bool requests_are(struct zt_otlp_exporter *e, uint64_t want)
{
	return n_requests() == want;
}

Test(otlp_export, stop_cuts_a_long_backoff_short_for_a_last_try)
{
	struct zt_otlp_config c;
	struct zt_otlp_exporter *e;
	char url[64], err[ERR_LEN];
	struct zt_span s = make_span(1);
	long long t0;

	server_start();
	srv.script[0] = 503;
	srv.retry_after = "10";
	config(&c, srv.port, url, sizeof(url));
	e = zt_otlp_start(&c, err, sizeof(err));
	cr_assert_not_null(e, "%s", err);
	cr_assert_eq(zt_otlp_submit(e, &s, NULL), 0);
	cr_assert(wait_for(requests_are, e, 1));
	t0 = mono_ms();
	zt_otlp_stop(e, 2000);
	cr_expect_lt(mono_ms() - t0, 1000, "stop took %lld ms", mono_ms() - t0);
	expect_counts(e, 1, 0, 0);
	cr_expect_eq(n_requests(), 2);
	zt_otlp_free(e);
}

Test(otlp_export, rejected_400_is_not_retried)
{
	struct zt_otlp_config c;
	struct zt_otlp_exporter *e;
	char url[64], err[ERR_LEN];

	server_start();
	srv.always = 400;
	config(&c, srv.port, url, sizeof(url));
	e = zt_otlp_start(&c, err, sizeof(err));
	cr_assert_not_null(e, "%s", err);
	for (uint64_t i = 1; i <= 3; i++) {
		struct zt_span s = make_span(i);

		cr_assert_eq(zt_otlp_submit(e, &s, NULL), 0);
	}
	cr_assert(wait_for(failed_is, e, 3));
	zt_otlp_stop(e, 1000);
	expect_counts(e, 0, 0, 3);
	cr_expect_eq(n_requests(), 1);
	zt_otlp_free(e);
}

Test(otlp_export, gives_up_after_give_up_ms)
{
	struct zt_otlp_config c;
	struct zt_otlp_exporter *e;
	char url[64], err[ERR_LEN];
	struct zt_span s = make_span(1);
	long long t0;

	server_start();
	srv.always = 503;
	config(&c, srv.port, url, sizeof(url));
	c.give_up_ms = 800;
	e = zt_otlp_start(&c, err, sizeof(err));
	cr_assert_not_null(e, "%s", err);
	t0 = mono_ms();
	cr_assert_eq(zt_otlp_submit(e, &s, NULL), 0);
	cr_assert(wait_for(failed_is, e, 1));
	/* batch_ms, then retries for at most give_up_ms */
	cr_expect_lt(mono_ms() - t0, 50 + 800 + 500);
	/* at least one retry (three on an idle machine: 200 ms backoff, doubling) */
	cr_expect_geq(n_requests(), 2);
	zt_otlp_stop(e, 0);
	expect_counts(e, 0, 0, 1);
	zt_otlp_free(e);
}

Test(otlp_export, endpoint_down_warns_and_drops_at_stop)
{
	struct zt_otlp_config c;
	struct zt_otlp_exporter *e;
	char url[64], err[ERR_LEN], log_path[] = "/tmp/zt-otlp-log-XXXXXX", text[1024] = "";
	int log_fd = mkstemp(log_path), saved = dup(2);
	long long t0;
	ssize_t n;

	cr_assert_geq(log_fd, 0);
	config(&c, zt_free_port(), url, sizeof(url));
	dup2(log_fd, 2);
	e = zt_otlp_start(&c, err, sizeof(err));
	cr_assert_not_null(e, "an endpoint that is down is not an error: %s", err);
	for (uint64_t i = 1; i <= 3; i++) {
		struct zt_span s = make_span(i);

		cr_assert_eq(zt_otlp_submit(e, &s, NULL), 0);
	}
	usleep(300000);
	t0 = mono_ms();
	zt_otlp_stop(e, 200);
	cr_expect_lt(mono_ms() - t0, 200 + 500);
	fflush(stderr);
	dup2(saved, 2);
	expect_counts(e, 0, 3, 0);
	n = pread(log_fd, text, sizeof(text) - 1, 0);
	cr_assert_gt(n, 0);
	text[n] = '\0';
	snprintf(err, sizeof(err),
		 "ztrace: warning: OTLP endpoint %s/v1/traces not reachable (Failed to connect to "
		 "127.0.0.1 port ",
		 url);
	cr_expect_eq(strncmp(text, err, strlen(err)), 0, "stderr: %s", text);
	cr_expect_not_null(strstr(text, "); spans are queued and retried\n"), "stderr: %s", text);
	close(log_fd);
	unlink(log_path);
	zt_otlp_free(e);
}

Test(otlp_export, hanging_endpoint_cannot_block_stop)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sin);
	struct zt_otlp_config c;
	struct zt_otlp_exporter *e;
	char url[64], err[ERR_LEN];
	struct zt_span s = make_span(1);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	long long t0;

	/* listening but never accepting: connections complete, requests are never answered */
	cr_assert_geq(fd, 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	cr_assert_eq(listen(fd, 8), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	config(&c, ntohs(sin.sin_port), url, sizeof(url));
	c.timeout_ms = 60000;
	e = zt_otlp_start(&c, err, sizeof(err));
	cr_assert_not_null(e, "%s", err);
	cr_assert_eq(zt_otlp_submit(e, &s, NULL), 0);
	usleep(300000); /* the request is in flight */
	t0 = mono_ms();
	zt_otlp_stop(e, 200);
	/* libcurl asks whether to abort at least once a second */
	cr_expect_lt(mono_ms() - t0, 200 + 1500, "stop took %lld ms", mono_ms() - t0);
	expect_counts(e, 0, 1, 0);
	zt_otlp_free(e);
	close(fd);
}

Test(otlp_export, full_queue_drops_and_counts)
{
	struct zt_otlp_config c;
	struct zt_otlp_exporter *e;
	char url[64], err[ERR_LEN];

	server_start();
	config(&c, srv.port, url, sizeof(url));
	c.queue_spans = 4;
	c.batch_spans = 100;
	c.batch_ms = 10000;
	e = zt_otlp_start(&c, err, sizeof(err));
	cr_assert_not_null(e, "%s", err);
	for (uint64_t i = 1; i <= 6; i++) {
		struct zt_span s = make_span(i);

		cr_assert_eq(zt_otlp_submit(e, &s, NULL), i <= 4 ? 0 : -ENOSPC);
	}
	zt_otlp_stop(e, 2000);
	expect_counts(e, 4, 2, 0);
	cr_assert_eq(n_requests(), 1);
	cr_expect_eq(srv.req[0].spans, 4);
	{
		struct zt_span s = make_span(9);

		cr_expect_eq(zt_otlp_submit(e, &s, NULL), -ESHUTDOWN);
	}
	expect_counts(e, 4, 3, 0);
	zt_otlp_free(e);
}

Test(otlp_export, start_errors)
{
	struct zt_otlp_config c;
	char err[ERR_LEN];

	zt_otlp_config_defaults(&c);
	c.endpoint = "localhost:4318";
	cr_assert_null(zt_otlp_start(&c, err, sizeof(err)));
	cr_expect_eq(errno, EINVAL);
	cr_expect_str_eq(err, "OTLP endpoint 'localhost:4318' has no scheme: write "
			      "http://localhost:4318");
	c.endpoint = "http://127.0.0.1:4318";
	c.headers = "bad name=x";
	cr_assert_null(zt_otlp_start(&c, err, sizeof(err)));
	cr_expect_eq(errno, EINVAL);
	cr_expect_str_eq(err, "OTLP header name 'bad name' is not a valid HTTP header name");
	c.headers = "novalue";
	cr_assert_null(zt_otlp_start(&c, err, sizeof(err)));
	cr_expect_str_eq(err, "OTLP headers 'novalue': every entry must be name=value, "
			      "comma-separated");
	c.headers = NULL;
	c.batch_spans = 0;
	cr_assert_null(zt_otlp_start(&c, err, sizeof(err)));
	cr_expect_str_eq(err, "OTLP queue and batch sizes must be positive");
}

Test(otlp_export, resources_grouped_per_process)
{
	struct zt_process_info a = {
	    .pid = 1, .start_time = 10, .comm = "a", .service_name = "svc-a"};
	struct zt_process_info b = {
	    .pid = 2, .start_time = 20, .comm = "b", .service_name = "svc-b"};
	struct zt_otlp_config c;
	struct zt_otlp_exporter *e;
	char url[64], err[ERR_LEN];
	const char *body;

	server_start();
	config(&c, srv.port, url, sizeof(url));
	e = zt_otlp_start(&c, err, sizeof(err));
	cr_assert_not_null(e, "%s", err);
	for (uint64_t i = 1; i <= 6; i++) {
		struct zt_span s = make_span(i);

		s.pid = i % 2 ? 1 : 2;
		cr_assert_eq(zt_otlp_submit(e, &s, i % 2 ? &a : &b), 0);
	}
	zt_otlp_stop(e, 2000);
	expect_counts(e, 6, 0, 0);
	cr_assert_eq(n_requests(), 1);
	/* two ResourceSpans, one per process, each with its 3 spans */
	srv.req[0].body.data[srv.req[0].body.len - 1] = '\0'; /* the final '}' */
	body = (const char *)srv.req[0].body.data;
	cr_expect_not_null(
	    strstr(body, "{\"key\":\"service.name\",\"value\":{\"stringValue\":\"svc-a\"}}"));
	cr_expect_not_null(
	    strstr(body, "{\"key\":\"service.name\",\"value\":{\"stringValue\":\"svc-b\"}}"));
	{
		const char *second = strstr(body, "},{\"resource\"");
		struct zt_buf first = {.data = (uint8_t *)body, .len = second - body};
		struct zt_buf rest = {.data = (uint8_t *)second, .len = strlen(second)};

		cr_assert_not_null(second);
		cr_expect_eq(count_spans(&first), 3);
		cr_expect_eq(count_spans(&rest), 3);
	}
	zt_otlp_free(e);
}
