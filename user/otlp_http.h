/* SPDX-License-Identifier: MIT */
/*
 * The transport of the OTLP exporter: one POST to /v1/traces with libcurl, classified the way
 * the OTLP/HTTP specification says to react to it, and gzip bodies. No retry policy here.
 */
#ifndef ZTRACE_OTLP_HTTP_H
#define ZTRACE_OTLP_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include "otlp_encode.h"

enum zt_otlp_http_result {
	ZT_OTLP_HTTP_OK,       /* 2xx: the spans were accepted */
	ZT_OTLP_HTTP_RETRY,    /* connection error, timeout, 429, 502, 503, 504 */
	ZT_OTLP_HTTP_REJECTED, /* any other answer: sending the same body again will not help */
};

struct zt_otlp_http;

/*
 * A client POSTing to url (the full traces URL) with Content-Type for json or protobuf,
 * Content-Encoding gzip when gzip, and the extra headers ("k=v,k2=v2", values
 * percent-encoded; NULL for none). cancel, when not NULL, is asked during a request whether
 * to abort it (nonzero: abort). Returns NULL with a message in err (errno set).
 */
struct zt_otlp_http *zt_otlp_http_new(const char *url, bool json, bool gzip, const char *headers,
				      int (*cancel)(void *ctx), void *ctx, char *err,
				      size_t errlen);

/*
 * POST body once, within timeout_ms (connection included). why gets a short reason unless the
 * result is ZT_OTLP_HTTP_OK ("HTTP 503", a curl error, or "HTTP 400: <start of the body>");
 * *retry_after_ms gets the server's Retry-After in milliseconds, 0 when it sent none.
 */
enum zt_otlp_http_result zt_otlp_http_post(struct zt_otlp_http *h, const void *body, size_t len,
					   unsigned timeout_ms, unsigned *retry_after_ms, char *why,
					   size_t whylen);

/* Try to open a TCP (and TLS) connection to url's host. Returns 0, or -EIO with the reason in
 * why. */
int zt_otlp_http_probe(const char *url, char *why, size_t whylen);

void zt_otlp_http_free(struct zt_otlp_http *h);

/* Compress in[0..len) into out (replacing its content) as one gzip member. Returns 0, -ENOMEM
 * or -EIO. */
int zt_gzip(const void *in, size_t len, struct zt_buf *out);

#endif
