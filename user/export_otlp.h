/* SPDX-License-Identifier: MIT */
/*
 * OTLP/HTTP span export (DESIGN.md "OTLP mapping"): a bounded queue filled by the agent, a
 * background thread that batches, encodes, compresses and POSTs to /v1/traces with retries.
 * Tracing never waits for the network: a full queue drops the span and counts it.
 */
#ifndef ZTRACE_EXPORT_OTLP_H
#define ZTRACE_EXPORT_OTLP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "procinfo.h"
#include "span.h"

/* The path OTLP/HTTP receivers take traces on. */
#define ZT_OTLP_TRACES_PATH "/v1/traces"

struct zt_otlp_config {
	const char *endpoint;	    /* base URL ("http://host:4318") or the full traces URL */
	bool endpoint_exact;	    /* send to endpoint as is, never append /v1/traces */
	bool json;		    /* http/json instead of http/protobuf */
	bool gzip;		    /* Content-Encoding: gzip */
	const char *headers;	    /* extra request headers, "k=v,k2=v2", values percent-encoded */
	size_t queue_spans;	    /* spans waiting at most; more are dropped */
	size_t batch_spans;	    /* spans per request at most */
	unsigned batch_ms;	    /* a partial batch waits at most this long */
	unsigned give_up_ms;	    /* a batch retried this long is counted failed */
	unsigned timeout_ms;	    /* one request, connection included */
	const char *host_name;	    /* host.name; NULL: gethostname() */
	const char *resource_attrs; /* the agent's OTEL_RESOURCE_ATTRIBUTES, or NULL */
	const char *scope_version;  /* version of the "ztrace" instrumentation scope, or NULL */
};

/* Defaults: no endpoint, protobuf, gzip on, the ZT_OTLP_DEFAULT_* limits. */
void zt_otlp_config_defaults(struct zt_otlp_config *c);

/*
 * Overlay the standard environment variables on c: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (used as
 * is) or OTEL_EXPORTER_OTLP_ENDPOINT (+ /v1/traces), and OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL,
 * _HEADERS, _COMPRESSION, _TIMEOUT, plus OTEL_RESOURCE_ATTRIBUTES; the TRACES_ form wins. Strings
 * point into the environment. Variables that are unset or empty leave c alone. Returns 0, or
 * -EINVAL with a message in err naming the variable and the accepted values.
 */
int zt_otlp_config_from_env(struct zt_otlp_config *c, char *err, size_t errlen);

/* Parse an OTLP protocol name: "http/protobuf" or "http/json" (sets *json). Returns 0, or
 * -EINVAL with a message in err ("grpc" gets its own explanation). */
int zt_otlp_parse_protocol(const char *protocol, bool *json, char *err, size_t errlen);

/*
 * Check that url can be an OTLP/HTTP endpoint: an http:// or https:// URL with a host. Returns
 * 0, or -EINVAL with a message in err that says what to write instead.
 */
int zt_otlp_check_url(const char *url, char *err, size_t errlen);

/*
 * The URL spans are POSTed to: endpoint itself when exact or when its path already ends in
 * /v1/traces, else endpoint with /v1/traces appended to its path. Returns a malloc'ed string,
 * or NULL with errno set.
 */
char *zt_otlp_traces_url(const char *endpoint, bool exact);

struct zt_otlp_exporter;

/*
 * Validate c (URL, headers), copy what it points to, and start the sending thread. An endpoint
 * that does not answer is not an error: the thread warns once on stderr and keeps retrying.
 * Returns the exporter, or NULL with a message in err (errno set).
 */
struct zt_otlp_exporter *zt_otlp_start(const struct zt_otlp_config *c, char *err, size_t errlen);

/*
 * Queue a copy of span s of process p (p may be NULL). Never blocks on the network; the strings
 * s points to must stay valid until zt_otlp_stop() returns; p is deep-copied when first seen.
 * Returns 0, or -ENOSPC when the queue is full, -ESHUTDOWN after zt_otlp_stop(), -ENOMEM; the
 * span is then counted dropped.
 */
int zt_otlp_submit(struct zt_otlp_exporter *e, const struct zt_span *s,
		   const struct zt_process_info *p);

/* Spans accepted by the endpoint, dropped (queue full, or unsent at stop), and failed (rejected,
 * or retried past give_up_ms). Any pointer may be NULL. Safe from any thread. */
void zt_otlp_counts(struct zt_otlp_exporter *e, uint64_t *sent, uint64_t *dropped,
		    uint64_t *failed);

/*
 * Stop accepting spans, send what is queued within flush_ms (in-flight requests are cut off at
 * the deadline), count the rest dropped, and end the thread. Idempotent.
 */
void zt_otlp_stop(struct zt_otlp_exporter *e, unsigned flush_ms);

/* Stop (with no flush time, when not stopped yet) and free e. NULL is fine. */
void zt_otlp_free(struct zt_otlp_exporter *e);

#endif
