// SPDX-License-Identifier: MIT
#define _GNU_SOURCE /* asprintf */
/*
 * The OTLP/HTTP sender. The agent's thread only copies a span into a ring under a mutex; one
 * background thread takes batches out, encodes them, and POSTs them with libcurl, retrying
 * transient failures with exponential backoff (OTLP/HTTP spec: 429, 502, 503, 504 and
 * connection errors are retryable, Retry-After is honoured; any other answer is final).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>
#include <zlib.h>
#include "export_otlp.h"
#include "log.h"
#include "otlp_attrs.h"
#include "otlp_encode.h"

/* Bytes of a response body kept to explain a rejection. */
#define RESPONSE_KEEP 256
/* gzip wrapper for deflateInit2(): window bits + 16. */
#define GZIP_WINDOW_BITS (15 + 16)
#define GZIP_MEM_LEVEL	 8

/* A process as the exporter keeps it: a deep copy, shared by the queued spans that point to it. */
struct proc_ref {
	struct zt_process_info info;
	unsigned refs;
	struct proc_ref *next;
};

struct qent {
	struct zt_span span;
	struct proc_ref *proc; /* NULL when submitted without a process */
};

enum outcome { OUT_SENT, OUT_FAILED, OUT_DROPPED };

struct zt_otlp_exporter {
	char *url;
	bool json, gzip;
	struct curl_slist *headers;
	size_t batch_spans;
	unsigned batch_ms, give_up_ms, timeout_ms;
	char *host_name, *resource_attrs, *scope_version;

	pthread_mutex_t lock;
	pthread_cond_t wake; /* queue filled, stop requested */
	struct qent *q;	     /* ring of q_cap entries */
	size_t q_cap, q_head, q_count;
	struct proc_ref *procs, *last_proc;
	size_t n_procs;
	bool stopping, stopped, thread_started;
	uint64_t stop_deadline; /* CLOCK_MONOTONIC ms; read unlocked by the curl callback */
	uint64_t sent, dropped, failed;
	pthread_t thread;

	/* owned by the sending thread */
	CURL *curl;
	bool failing; /* a failure was reported and no batch got through since */
	struct zt_buf body, gz, response;
	char curl_err[CURL_ERROR_SIZE];
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void abs_timespec(uint64_t ms, struct timespec *ts)
{
	ts->tv_sec = ms / 1000;
	ts->tv_nsec = (ms % 1000) * 1000000;
}

/* ---- setup ---- */

struct header_ctx {
	struct curl_slist *list;
	char *err;
	size_t errlen;
};

/* Header names are HTTP tokens; values may not break the header line. */
static int add_header(const char *key, const char *value, void *ctx)
{
	struct header_ctx *h = ctx;
	struct curl_slist *l;
	char *line;

	if (key[strspn(key, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
			    "!#$%&'*+-.^_`|~")]) {
		snprintf(h->err, h->errlen, "OTLP header name '%s' is not a valid HTTP header name",
			 key);
		return -EINVAL;
	}
	if (strpbrk(value, "\r\n")) {
		snprintf(h->err, h->errlen, "OTLP header '%s' has a line break in its value", key);
		return -EINVAL;
	}
	if (asprintf(&line, "%s: %s", key, value) < 0)
		return -ENOMEM;
	l = curl_slist_append(h->list, line);
	free(line);
	if (!l)
		return -ENOMEM;
	h->list = l;
	return 0;
}

static int build_headers(struct zt_otlp_exporter *e, const struct zt_otlp_config *c, char *err,
			 size_t errlen)
{
	struct header_ctx h = {.err = err, .errlen = errlen};
	int ret;

	h.list = curl_slist_append(NULL, e->json ? "Content-Type: application/json"
						 : "Content-Type: application/x-protobuf");
	if (h.list && e->gzip)
		h.list = curl_slist_append(h.list, "Content-Encoding: gzip");
	/* no "Expect: 100-continue" round trip before large bodies */
	if (h.list)
		h.list = curl_slist_append(h.list, "Expect:");
	if (!h.list)
		goto nomem;
	if (c->headers) {
		ret = zt_otlp_parse_kv_list(c->headers, add_header, &h);
		if (ret < 0) {
			curl_slist_free_all(h.list);
			if (ret == -ENOMEM)
				goto nomem;
			return ret;
		}
		if (ret > 0) {
			snprintf(
			    err, errlen,
			    "OTLP headers '%s': every entry must be name=value, comma-separated",
			    c->headers);
			curl_slist_free_all(h.list);
			return -EINVAL;
		}
	}
	e->headers = h.list;
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
	return -ENOMEM;
}

static size_t discard_body(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct zt_buf *keep = ctx;
	size_t n = size * nmemb, room = RESPONSE_KEEP - keep->len;

	if (room)
		zt_buf_append(keep, data, n < room ? n : room);
	return n;
}

/* Abort a request in flight once a stop deadline has passed. */
static int xfer_check(void *ctx, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		      curl_off_t ulnow)
{
	struct zt_otlp_exporter *e = ctx;

	if (__atomic_load_n(&e->stopping, __ATOMIC_ACQUIRE) &&
	    now_ms() >= __atomic_load_n(&e->stop_deadline, __ATOMIC_ACQUIRE))
		return 1;
	return 0;
}

/* ---- queue ---- */

static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static bool same_proc(const struct zt_process_info *a, const struct zt_process_info *b)
{
	/* pid and start time name a process; exe and cmdline change at exec */
	return a->pid == b->pid && a->start_time == b->start_time && same_str(a->exe, b->exe) &&
	       same_str(a->cmdline, b->cmdline) && same_str(a->service_name, b->service_name);
}

/* The exporter's copy of p, made on first sight. Called with the lock held. */
static struct proc_ref *proc_get(struct zt_otlp_exporter *e, const struct zt_process_info *p)
{
	struct proc_ref *r;

	if (e->last_proc && same_proc(&e->last_proc->info, p))
		return e->last_proc;
	for (r = e->procs; r; r = r->next)
		if (same_proc(&r->info, p))
			return e->last_proc = r;
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	if (zt_procinfo_copy(&r->info, p)) {
		free(r);
		return NULL;
	}
	r->next = e->procs;
	e->procs = r;
	e->n_procs++;
	return e->last_proc = r;
}

/* Free unreferenced process copies beyond the cache size. Called with the lock held. */
static void proc_trim(struct zt_otlp_exporter *e)
{
	struct proc_ref **pp = &e->procs;

	while (*pp && e->n_procs > ZT_OTLP_PROC_CACHE) {
		struct proc_ref *r = *pp;

		if (r->refs) {
			pp = &r->next;
			continue;
		}
		*pp = r->next;
		if (e->last_proc == r)
			e->last_proc = NULL;
		zt_procinfo_free(&r->info);
		free(r);
		e->n_procs--;
	}
}

int zt_otlp_submit(struct zt_otlp_exporter *e, const struct zt_span *s,
		   const struct zt_process_info *p)
{
	struct proc_ref *ref = NULL;
	struct qent *q;
	int ret = 0;

	pthread_mutex_lock(&e->lock);
	if (e->stopping) {
		ret = -ESHUTDOWN;
		goto drop;
	}
	if (e->q_count == e->q_cap) {
		ret = -ENOSPC;
		goto drop;
	}
	if (p) {
		ref = proc_get(e, p);
		if (!ref) {
			ret = -ENOMEM;
			goto drop;
		}
		ref->refs++;
	}
	q = &e->q[(e->q_head + e->q_count) % e->q_cap];
	q->span = *s;
	q->proc = ref;
	e->q_count++;
	/* wake the sender to start its batch timer, or because a batch is full */
	if (e->q_count == 1 || e->q_count == e->batch_spans)
		pthread_cond_signal(&e->wake);
	pthread_mutex_unlock(&e->lock);
	return 0;
drop:
	e->dropped++;
	pthread_mutex_unlock(&e->lock);
	return ret;
}

/* ---- sending ---- */

static int gzip_body(const struct zt_buf *in, struct zt_buf *out)
{
	z_stream zs = {0};
	int ret;

	if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, GZIP_WINDOW_BITS, GZIP_MEM_LEVEL,
			 Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
	out->len = 0;
	ret = zt_buf_reserve(out, deflateBound(&zs, in->len));
	if (ret)
		goto out;
	zs.next_in = in->data;
	zs.avail_in = in->len;
	zs.next_out = out->data;
	zs.avail_out = out->cap;
	/* deflateBound() guarantees one call finishes */
	ret = deflate(&zs, Z_FINISH) == Z_STREAM_END ? 0 : -EIO;
	out->len = zs.total_out;
out:
	deflateEnd(&zs);
	return ret;
}

static int cmp_qent(const void *a, const void *b)
{
	const struct qent *x = a, *y = b;

	if (x->proc != y->proc)
		return (uintptr_t)x->proc < (uintptr_t)y->proc ? -1 : 1;
	if (!x->proc && x->span.pid != y->span.pid)
		return x->span.pid < y->span.pid ? -1 : 1;
	return 0;
}

/*
 * Encode entries (sorted here by process) into e->body, compressed as configured.
 * spans is scratch space for n spans. Returns 0 or -errno.
 */
static int encode_batch(struct zt_otlp_exporter *e, struct qent *ent, size_t n,
			struct zt_span *spans, struct zt_otlp_group *groups)
{
	struct zt_otlp_batch batch = {
	    .host_name = e->host_name,
	    .resource_attrs = e->resource_attrs,
	    .scope_version = e->scope_version,
	    .groups = groups,
	};
	int ret;

	/* qsort is not stable, but span order inside a request carries no meaning */
	qsort(ent, n, sizeof(*ent), cmp_qent);
	for (size_t i = 0; i < n; i++) {
		spans[i] = ent[i].span;
		if (i == 0 || cmp_qent(&ent[i - 1], &ent[i])) {
			groups[batch.n_groups].proc = ent[i].proc ? &ent[i].proc->info : NULL;
			groups[batch.n_groups].spans = &spans[i];
			groups[batch.n_groups].n = 0;
			batch.n_groups++;
		}
		groups[batch.n_groups - 1].n++;
	}
	e->body.len = 0;
	ret = e->json ? zt_otlp_encode_json(&batch, &e->body)
		      : zt_otlp_encode_proto(&batch, &e->body);
	if (!ret && e->gzip)
		ret = gzip_body(&e->body, &e->gz);
	return ret;
}

static bool retryable_status(long status)
{
	return status == 429 || status == 502 || status == 503 || status == 504;
}

/* Sleep until the absolute monotonic time until_ms unless a stop shortens the wait. */
static void wait_until(struct zt_otlp_exporter *e, uint64_t until_ms)
{
	struct timespec ts;

	abs_timespec(until_ms, &ts);
	pthread_mutex_lock(&e->lock);
	while (now_ms() < until_ms) {
		if (e->stopping && now_ms() >= e->stop_deadline)
			break;
		if (pthread_cond_timedwait(&e->wake, &e->lock, &ts) == ETIMEDOUT)
			break;
	}
	pthread_mutex_unlock(&e->lock);
}

/* The time a batch started at start may still be retried until. */
static uint64_t batch_limit(struct zt_otlp_exporter *e, uint64_t start)
{
	uint64_t limit = start + e->give_up_ms;

	pthread_mutex_lock(&e->lock);
	if (e->stopping && e->stop_deadline < limit)
		limit = e->stop_deadline;
	pthread_mutex_unlock(&e->lock);
	return limit;
}

static bool stop_deadline_passed(struct zt_otlp_exporter *e)
{
	bool passed;

	pthread_mutex_lock(&e->lock);
	passed = e->stopping && now_ms() >= e->stop_deadline;
	pthread_mutex_unlock(&e->lock);
	return passed;
}

/* POST e->body (or e->gz) until it is accepted, rejected, or out of time. */
static enum outcome post_batch(struct zt_otlp_exporter *e, size_t n_spans)
{
	const struct zt_buf *body = e->gzip ? &e->gz : &e->body;
	uint64_t start = now_ms(), backoff = ZT_OTLP_BACKOFF_INITIAL_MS;
	unsigned seed = start ^ (uintptr_t)e;
	char why[CURL_ERROR_SIZE + 64];

	for (;;) {
		uint64_t limit = batch_limit(e, start), now = now_ms(), delay;
		curl_off_t retry_after = 0;
		long status = 0;
		CURLcode rc;

		if (now >= limit)
			break;
		e->response.len = 0;
		e->curl_err[0] = '\0';
		curl_easy_setopt(e->curl, CURLOPT_POSTFIELDS, (const char *)body->data);
		curl_easy_setopt(e->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body->len);
		curl_easy_setopt(e->curl, CURLOPT_TIMEOUT_MS,
				 (long)(limit - now < e->timeout_ms ? limit - now : e->timeout_ms));
		rc = curl_easy_perform(e->curl);
		if (rc == CURLE_OK) {
			curl_easy_getinfo(e->curl, CURLINFO_RESPONSE_CODE, &status);
			if (status >= 200 && status < 300) {
				if (e->failing)
					zt_info("OTLP export to %s works again", e->url);
				e->failing = false;
				return OUT_SENT;
			}
			if (!retryable_status(status)) {
				zt_warn("OTLP endpoint %s rejected %zu spans: HTTP %ld %.*s",
					e->url, n_spans, status, (int)e->response.len,
					(const char *)e->response.data);
				return OUT_FAILED;
			}
			curl_easy_getinfo(e->curl, CURLINFO_RETRY_AFTER, &retry_after);
			snprintf(why, sizeof(why), "HTTP %ld", status);
		} else {
			snprintf(why, sizeof(why), "%s",
				 e->curl_err[0] ? e->curl_err : curl_easy_strerror(rc));
		}
		if (!e->failing)
			zt_warn("OTLP export to %s failed (%s); retrying for up to %u ms", e->url,
				why, e->give_up_ms);
		e->failing = true;

		/* full jitter on the upper half keeps restarted agents from retrying in step */
		delay = backoff / 2 + rand_r(&seed) % (backoff / 2 + 1);
		if (retry_after > 0)
			delay = (uint64_t)retry_after * 1000;
		backoff =
		    backoff * 2 > ZT_OTLP_BACKOFF_MAX_MS ? ZT_OTLP_BACKOFF_MAX_MS : backoff * 2;
		if (now_ms() + delay >= batch_limit(e, start))
			break;
		wait_until(e, now_ms() + delay);
	}
	if (stop_deadline_passed(e))
		return OUT_DROPPED;
	zt_warn("OTLP export: gave up on %zu spans after %u ms", n_spans, e->give_up_ms);
	return OUT_FAILED;
}

/* Tell the user at once when the endpoint is down; the spans wait in the queue meanwhile. */
static void probe_endpoint(struct zt_otlp_exporter *e)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	CURL *c = curl_easy_init();
	CURLcode rc;

	if (!c)
		return;
	curl_easy_setopt(c, CURLOPT_URL, e->url);
	curl_easy_setopt(c, CURLOPT_CONNECT_ONLY, 1L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)ZT_OTLP_CONNECT_TIMEOUT_MS);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	rc = curl_easy_perform(c);
	if (rc != CURLE_OK) {
		zt_warn("OTLP endpoint %s not reachable (%s); spans are queued and retried", e->url,
			errbuf[0] ? errbuf : curl_easy_strerror(rc));
		e->failing = true;
	}
	curl_easy_cleanup(c);
}

static void release_entries(struct zt_otlp_exporter *e, struct qent *ent, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (ent[i].proc)
			ent[i].proc->refs--;
	proc_trim(e);
}

static void *sender_main(void *arg)
{
	struct zt_otlp_exporter *e = arg;
	struct qent *ent = calloc(e->batch_spans, sizeof(*ent));
	struct zt_span *spans = calloc(e->batch_spans, sizeof(*spans));
	struct zt_otlp_group *groups = calloc(e->batch_spans, sizeof(*groups));
	uint64_t deadline = 0;
	struct timespec ts;

	probe_endpoint(e);
	pthread_mutex_lock(&e->lock);
	for (;;) {
		enum outcome out;
		size_t n;

		if (!e->q_count && !e->stopping) {
			pthread_cond_wait(&e->wake, &e->lock);
			continue;
		}
		if (!e->stopping && e->q_count < e->batch_spans) {
			uint64_t now = now_ms();

			if (!deadline)
				deadline = now + e->batch_ms;
			if (now < deadline) {
				abs_timespec(deadline, &ts);
				pthread_cond_timedwait(&e->wake, &e->lock, &ts);
				continue;
			}
		}
		if (!e->q_count)
			break;
		if (!ent || !spans || !groups || (e->stopping && now_ms() >= e->stop_deadline))
			break;
		deadline = 0;
		n = e->q_count < e->batch_spans ? e->q_count : e->batch_spans;
		for (size_t i = 0; i < n; i++)
			ent[i] = e->q[(e->q_head + i) % e->q_cap];
		e->q_head = (e->q_head + n) % e->q_cap;
		e->q_count -= n;
		pthread_mutex_unlock(&e->lock);

		if (encode_batch(e, ent, n, spans, groups)) {
			zt_warn("OTLP export: cannot encode %zu spans (out of memory)", n);
			out = OUT_FAILED;
		} else {
			out = post_batch(e, n);
		}

		pthread_mutex_lock(&e->lock);
		release_entries(e, ent, n);
		if (out == OUT_SENT)
			e->sent += n;
		else if (out == OUT_FAILED)
			e->failed += n;
		else
			e->dropped += n;
	}
	/* whatever is still queued missed the stop deadline */
	while (e->q_count) {
		struct qent *q = &e->q[e->q_head];

		if (q->proc)
			q->proc->refs--;
		e->q_head = (e->q_head + 1) % e->q_cap;
		e->q_count--;
		e->dropped++;
	}
	pthread_mutex_unlock(&e->lock);
	free(ent);
	free(spans);
	free(groups);
	return NULL;
}

/* ---- lifecycle ---- */

static char *dup_opt(const char *s, bool *failed)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*failed = true;
	return d;
}

static void exporter_free(struct zt_otlp_exporter *e)
{
	struct proc_ref *r, *next;

	for (r = e->procs; r; r = next) {
		next = r->next;
		zt_procinfo_free(&r->info);
		free(r);
	}
	if (e->curl)
		curl_easy_cleanup(e->curl);
	curl_slist_free_all(e->headers);
	zt_buf_free(&e->body);
	zt_buf_free(&e->gz);
	zt_buf_free(&e->response);
	free(e->q);
	free(e->url);
	free(e->host_name);
	free(e->resource_attrs);
	free(e->scope_version);
	pthread_cond_destroy(&e->wake);
	pthread_mutex_destroy(&e->lock);
	free(e);
}

static int setup_curl(struct zt_otlp_exporter *e)
{
	e->curl = curl_easy_init();
	if (!e->curl)
		return -ENOMEM;
	curl_easy_setopt(e->curl, CURLOPT_URL, e->url);
	curl_easy_setopt(e->curl, CURLOPT_HTTPHEADER, e->headers);
	curl_easy_setopt(e->curl, CURLOPT_USERAGENT, "ztrace");
	/* timeouts with threads: no SIGALRM */
	curl_easy_setopt(e->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e->curl, CURLOPT_CONNECTTIMEOUT_MS, (long)ZT_OTLP_CONNECT_TIMEOUT_MS);
	curl_easy_setopt(e->curl, CURLOPT_WRITEFUNCTION, discard_body);
	curl_easy_setopt(e->curl, CURLOPT_WRITEDATA, &e->response);
	curl_easy_setopt(e->curl, CURLOPT_ERRORBUFFER, e->curl_err);
	curl_easy_setopt(e->curl, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(e->curl, CURLOPT_XFERINFOFUNCTION, xfer_check);
	curl_easy_setopt(e->curl, CURLOPT_XFERINFODATA, e);
	return 0;
}

struct zt_otlp_exporter *zt_otlp_start(const struct zt_otlp_config *c, char *err, size_t errlen)
{
	struct zt_otlp_exporter *e;
	pthread_condattr_t ca;
	char host[256];
	bool failed = false;
	int ret;

	ret = zt_otlp_check_url(c->endpoint, err, errlen);
	if (ret) {
		errno = -ret;
		return NULL;
	}
	if (!c->queue_spans || !c->batch_spans) {
		snprintf(err, errlen, "OTLP queue and batch sizes must be positive");
		errno = EINVAL;
		return NULL;
	}
	pthread_once(&curl_once, curl_init);
	if (curl_init_rc) {
		snprintf(err, errlen, "libcurl: %s", curl_easy_strerror(curl_init_rc));
		errno = EIO;
		return NULL;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		goto nomem;
	pthread_mutex_init(&e->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&e->wake, &ca);
	pthread_condattr_destroy(&ca);
	e->json = c->json;
	e->gzip = c->gzip;
	e->batch_spans = c->batch_spans;
	e->batch_ms = c->batch_ms;
	e->give_up_ms = c->give_up_ms;
	e->timeout_ms = c->timeout_ms ? c->timeout_ms : ZT_OTLP_DEFAULT_TIMEOUT_MS;
	e->q_cap = c->queue_spans;
	e->q = calloc(e->q_cap, sizeof(*e->q));
	e->url = zt_otlp_traces_url(c->endpoint, c->endpoint_exact);
	if (!c->host_name) {
		if (gethostname(host, sizeof(host)))
			snprintf(host, sizeof(host), "localhost");
		host[sizeof(host) - 1] = '\0';
	}
	e->host_name = dup_opt(c->host_name ? c->host_name : host, &failed);
	e->resource_attrs = dup_opt(c->resource_attrs, &failed);
	e->scope_version = dup_opt(c->scope_version, &failed);
	if (failed || !e->q || !e->url)
		goto nomem;
	ret = build_headers(e, c, err, errlen);
	if (ret) {
		exporter_free(e);
		errno = -ret;
		return NULL;
	}
	if (setup_curl(e))
		goto nomem;
	ret = pthread_create(&e->thread, NULL, sender_main, e);
	if (ret) {
		snprintf(err, errlen, "cannot start the OTLP sender thread: %s", strerror(ret));
		exporter_free(e);
		errno = ret;
		return NULL;
	}
	e->thread_started = true;
	return e;
nomem:
	snprintf(err, errlen, "out of memory");
	if (e)
		exporter_free(e);
	errno = ENOMEM;
	return NULL;
}

void zt_otlp_counts(struct zt_otlp_exporter *e, uint64_t *sent, uint64_t *dropped, uint64_t *failed)
{
	pthread_mutex_lock(&e->lock);
	if (sent)
		*sent = e->sent;
	if (dropped)
		*dropped = e->dropped;
	if (failed)
		*failed = e->failed;
	pthread_mutex_unlock(&e->lock);
}

void zt_otlp_stop(struct zt_otlp_exporter *e, unsigned flush_ms)
{
	pthread_mutex_lock(&e->lock);
	if (e->stopped) {
		pthread_mutex_unlock(&e->lock);
		return;
	}
	e->stopped = true;
	__atomic_store_n(&e->stop_deadline, now_ms() + flush_ms, __ATOMIC_RELEASE);
	__atomic_store_n(&e->stopping, true, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&e->wake);
	pthread_mutex_unlock(&e->lock);
	if (e->thread_started)
		pthread_join(e->thread, NULL);
}

void zt_otlp_free(struct zt_otlp_exporter *e)
{
	if (!e)
		return;
	zt_otlp_stop(e, 0);
	exporter_free(e);
}
