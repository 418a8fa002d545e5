/* SPDX-License-Identifier: MIT */
/*
 * Spans as an OTLP ExportTraceServiceRequest (DESIGN.md "OTLP mapping"), in the protobuf wire
 * format (written by hand: the message shapes are few and fixed) or in OTLP/JSON.
 */
#ifndef ZTRACE_OTLP_ENCODE_H
#define ZTRACE_OTLP_ENCODE_H

#include <stddef.h>
#include <stdint.h>
#include "procinfo.h"
#include "span.h"

/* The instrumentation scope every span is reported under. */
#define ZT_OTLP_SCOPE_NAME "ztrace"

/* A growable byte buffer. Zero-initialise it; zt_buf_free() releases it. */
struct zt_buf {
	uint8_t *data;
	size_t len, cap;
};

/* Make room for extra more bytes. Returns 0 or -ENOMEM (the buffer is unchanged). */
int zt_buf_reserve(struct zt_buf *b, size_t extra);
/* Append len bytes. Returns 0 or -ENOMEM. */
int zt_buf_append(struct zt_buf *b, const void *data, size_t len);
/* Append a NUL-terminated string without its NUL. Returns 0 or -ENOMEM. */
int zt_buf_puts(struct zt_buf *b, const char *s);
void zt_buf_free(struct zt_buf *b);

/* The spans of one process; proc may be NULL (the resource then says only pid and comm,
 * taken from the first span). */
struct zt_otlp_group {
	const struct zt_process_info *proc;
	const struct zt_span *spans;
	size_t n;
};

struct zt_otlp_batch {
	const char *host_name;	    /* host.name, or NULL to leave it out */
	const char *resource_attrs; /* the agent's own OTEL_RESOURCE_ATTRIBUTES, or NULL */
	const char *scope_version;  /* version of the "ztrace" scope, or NULL */
	const struct zt_otlp_group *groups;
	size_t n_groups;
};

/*
 * Append the protobuf encoding of an ExportTraceServiceRequest holding batch to out: one
 * ResourceSpans per group, one ScopeSpans in it. Returns 0 or -ENOMEM (out may then hold a
 * partial message; reset out->len to discard it).
 */
int zt_otlp_encode_proto(const struct zt_otlp_batch *batch, struct zt_buf *out);

/* The same request as OTLP/JSON: ids as lowercase hex, enums as integers, 64-bit integers as
 * decimal strings, no trailing newline. Returns 0 or -ENOMEM. */
int zt_otlp_encode_json(const struct zt_otlp_batch *batch, struct zt_buf *out);

#endif
