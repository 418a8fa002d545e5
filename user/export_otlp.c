// SPDX-License-Identifier: MIT
/*
 * The OTLP exporter's queue and retry policy. The agent's thread only copies a span into a
 * ring under a mutex; one sender thread takes batches out, encodes them and POSTs them,
 * retrying what the OTLP/HTTP specification calls transient (connection errors, 429, 502, 503,
 * 504) with exponential backoff, or after the server's Retry-After, until give_up_ms.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "export_otlp.h"
#include "log.h"
#include "otlp_encode.h"
#include "otlp_http.h"

/* Bytes of a failure reason kept for a warning. */
#define WHY_LEN 512
/* Bytes of the host name we ask gethostname() for (HOST_NAME_MAX is 64 on Linux). */
#define HOST_NAME_BUF 256

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
	size_t batch_spans;
	unsigned batch_ms, give_up_ms, timeout_ms;
	char *host_name, *resource_attrs, *scope_version;

	pthread_mutex_t lock;
	pthread_cond_t wake; /* spans queued, or stop requested; only the sender waits on it */
	struct qent *q;	     /* ring of q_cap entries */
	size_t q_cap, q_head, q_count;
	struct proc_ref *procs, *last_proc;
	size_t n_procs;
	bool stopping, stopped, thread_started;
	uint64_t stop_deadline; /* CLOCK_MONOTONIC ms; also read unlocked by cancel_request() */
	uint64_t sent, dropped, failed;
	pthread_t thread;

	/* used by the sender thread only */
	struct zt_otlp_http *http;
	bool failing; /* a failure was reported and no batch got through since */
	struct zt_buf body, gz;
};

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

/* Asked by libcurl during a request: cut it off once the stop deadline has passed. */
static int cancel_request(void *ctx)
{
	struct zt_otlp_exporter *e = ctx;

	return __atomic_load_n(&e->stopping, __ATOMIC_ACQUIRE) &&
	       now_ms() >= __atomic_load_n(&e->stop_deadline, __ATOMIC_ACQUIRE);
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
	int ret;

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

/* Give back the process references of n entries. Called with the lock held. */
static void release_entries(struct zt_otlp_exporter *e, struct qent *ent, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (ent[i].proc)
			ent[i].proc->refs--;
	proc_trim(e);
}

/* ---- sending ---- */

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
 * Encode n entries (sorted here by process: one ResourceSpans each) into e->body, and gzip it
 * into e->gz when configured. spans and groups are scratch arrays of n. Returns 0 or -errno.
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
		ret = zt_gzip(e->body.data, e->body.len, &e->gz);
	return ret;
}

/*
 * Sleep until the monotonic time until_ms. A stop requested meanwhile ends the sleep at once
 * (returns true), so that the batch gets one more try within the flush time instead of waiting
 * out a backoff longer than it; once stopping, the sleep still ends at the stop deadline.
 */
static bool wait_until(struct zt_otlp_exporter *e, uint64_t until_ms)
{
	struct timespec ts;
	bool was_stopping, cut = false;

	pthread_mutex_lock(&e->lock);
	was_stopping = e->stopping;
	while (now_ms() < until_ms) {
		uint64_t wake = until_ms;

		if (e->stopping && !was_stopping) {
			cut = true;
			break;
		}
		if (e->stopping && now_ms() >= e->stop_deadline)
			break;
		if (e->stopping && e->stop_deadline < wake)
			wake = e->stop_deadline;
		abs_timespec(wake, &ts);
		pthread_cond_timedwait(&e->wake, &e->lock, &ts);
	}
	pthread_mutex_unlock(&e->lock);
	return cut;
}

/* When a batch first tried at start must be given up: give_up_ms later, or at the stop
 * deadline if that comes first (*by_stop is then set). */
static uint64_t batch_limit(struct zt_otlp_exporter *e, uint64_t start, bool *by_stop)
{
	uint64_t limit = start + e->give_up_ms;

	*by_stop = false;
	pthread_mutex_lock(&e->lock);
	if (e->stopping && e->stop_deadline < limit) {
		limit = e->stop_deadline;
		*by_stop = true;
	}
	pthread_mutex_unlock(&e->lock);
	return limit;
}

/*
 * POST the encoded batch until it is accepted, rejected, or out of time. Running out of time
 * because ztrace is stopping drops the batch; running out of give_up_ms fails it.
 */
static enum outcome post_batch(struct zt_otlp_exporter *e, size_t n_spans)
{
	const struct zt_buf *body = e->gzip ? &e->gz : &e->body;
	uint64_t start = now_ms(), backoff = ZT_OTLP_BACKOFF_INITIAL_MS;
	unsigned seed = start ^ (uintptr_t)e;
	char why[WHY_LEN];
	bool by_stop, last_try = false;

	for (;;) {
		uint64_t limit = batch_limit(e, start, &by_stop), now = now_ms(), delay;
		enum zt_otlp_http_result r;
		unsigned retry_after_ms;

		if (now >= limit)
			break;
		r = zt_otlp_http_post(e->http, body->data, body->len,
				      limit - now < e->timeout_ms ? limit - now : e->timeout_ms,
				      &retry_after_ms, why, sizeof(why));
		if (r == ZT_OTLP_HTTP_OK) {
			if (e->failing)
				zt_info("OTLP export to %s works again", e->url);
			e->failing = false;
			return OUT_SENT;
		}
		if (r == ZT_OTLP_HTTP_REJECTED) {
			zt_warn("OTLP endpoint %s rejected %zu spans (%s)", e->url, n_spans, why);
			return OUT_FAILED;
		}
		if (cancel_request(e))
			return OUT_DROPPED;
		if (!e->failing)
			zt_warn("OTLP export to %s failed (%s); retrying for up to %u ms", e->url,
				why, e->give_up_ms);
		e->failing = true;

		/* jitter over the upper half keeps restarted agents from retrying in step */
		delay = retry_after_ms ? retry_after_ms
				       : backoff / 2 + rand_r(&seed) % (backoff / 2 + 1);
		backoff =
		    backoff * 2 > ZT_OTLP_BACKOFF_MAX_MS ? ZT_OTLP_BACKOFF_MAX_MS : backoff * 2;
		if (now_ms() + delay >= batch_limit(e, start, &by_stop)) {
			/* stopping: one last try now rather than none after the backoff */
			if (by_stop && !last_try) {
				last_try = true;
				continue;
			}
			break;
		}
		if (wait_until(e, now_ms() + delay))
			last_try = true;
	}
	if (by_stop)
		return OUT_DROPPED;
	zt_warn("OTLP export to %s: gave up on %zu spans after %u ms", e->url, n_spans,
		e->give_up_ms);
	return OUT_FAILED;
}

static void *sender_main(void *arg)
{
	struct zt_otlp_exporter *e = arg;
	struct qent *ent = calloc(e->batch_spans, sizeof(*ent));
	struct zt_span *spans = calloc(e->batch_spans, sizeof(*spans));
	struct zt_otlp_group *groups = calloc(e->batch_spans, sizeof(*groups));
	uint64_t deadline = 0;
	struct timespec ts;
	char why[WHY_LEN];

	/* say at once that the endpoint is down; spans wait in the queue meanwhile */
	if (zt_otlp_http_probe(e->url, why, sizeof(why))) {
		zt_warn("OTLP endpoint %s not reachable (%s); spans are queued and retried", e->url,
			why);
		e->failing = true;
	}
	pthread_mutex_lock(&e->lock);
	for (;;) {
		enum outcome out;
		size_t n;

		if (!e->q_count && !e->stopping) {
			pthread_cond_wait(&e->wake, &e->lock);
			continue;
		}
		/* a partial batch waits batch_ms from when the sender first saw it */
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
		if (!e->q_count || !ent || !spans || !groups || cancel_request(e))
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
	/* whatever is still queued missed the stop deadline (or could not get scratch memory) */
	while (e->q_count) {
		release_entries(e, &e->q[e->q_head], 1);
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
	zt_otlp_http_free(e->http);
	zt_buf_free(&e->body);
	zt_buf_free(&e->gz);
	free(e->q);
	free(e->url);
	free(e->host_name);
	free(e->resource_attrs);
	free(e->scope_version);
	pthread_cond_destroy(&e->wake);
	pthread_mutex_destroy(&e->lock);
	free(e);
}

struct zt_otlp_exporter *zt_otlp_start(const struct zt_otlp_config *c, char *err, size_t errlen)
{
	struct zt_otlp_exporter *e;
	pthread_condattr_t ca;
	sigset_t all, old;
	char host[HOST_NAME_BUF];
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
	e->http =
	    zt_otlp_http_new(e->url, e->json, e->gzip, c->headers, cancel_request, e, err, errlen);
	if (!e->http) {
		ret = errno;
		exporter_free(e);
		errno = ret;
		return NULL;
	}
	/* the sender (and libcurl's resolver threads) must not take the signals the agent
	 * waits for with a signalfd: a SIGINT delivered there would kill the process */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	ret = pthread_create(&e->thread, NULL, sender_main, e);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
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
	/* the deadline is published before the flag so cancel_request() never sees a stale one */
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
