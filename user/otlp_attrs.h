/* SPDX-License-Identifier: MIT */
/*
 * What OTLP says about a process and a span, independent of the wire format: the resource and
 * span attributes of DESIGN.md "OTLP mapping", and the helpers both encoders share.
 */
#ifndef ZTRACE_OTLP_ATTRS_H
#define ZTRACE_OTLP_ATTRS_H

#include <stddef.h>
#include <stdint.h>
#include "otlp_encode.h"

/* Span attributes ztrace sets at most (see zt_otlp_span_attrs()): 7, and the captured
 * arguments with a flag for each string. */
#define ZT_OTLP_SPAN_ATTRS_MAX (7 + ZT_ARGS_MAX + ZT_ARGS_MAX_STRS)
/* Bytes of a status message ("returned <int64>") with its NUL. */
#define ZT_OTLP_STATUS_MESSAGE_LEN 32

/* U+FFFD, which replaces bytes that are not UTF-8. */
#define ZT_UTF8_REPLACEMENT	"\xef\xbf\xbd"
#define ZT_UTF8_REPLACEMENT_LEN 3

enum zt_otlp_attr_type { ZT_ATTR_STRING, ZT_ATTR_INT, ZT_ATTR_BOOL };

/* A key and a value; str is not necessarily NUL-terminated (str_len says how long). */
struct zt_otlp_attr {
	const char *key;
	enum zt_otlp_attr_type type;
	const char *str;
	size_t str_len;
	int64_t num; /* ZT_ATTR_INT value, or ZT_ATTR_BOOL 0/1 */
};

/* A resource's attributes; later settings of a key replace earlier ones. */
struct zt_otlp_attr_set {
	struct zt_otlp_attr a[ZT_OTLP_MAX_RESOURCE_ATTRS];
	size_t n;
	uint32_t dropped;			     /* past ZT_OTLP_MAX_RESOURCE_ATTRS */
	char *owned[2 * ZT_OTLP_MAX_RESOURCE_ATTRS]; /* keys and values parsed from env */
	size_t n_owned;
	char comm[ZT_COMM_LEN + 1]; /* service.name of a group without process info */
};

/*
 * The resource attributes of group g of batch b into set (overwritten). Later sources win:
 * what ztrace detects, the agent's OTEL_RESOURCE_ATTRIBUTES, the target's
 * OTEL_RESOURCE_ATTRIBUTES, the target's OTEL_SERVICE_NAME. Returns 0 or -ENOMEM; either way
 * release set with zt_otlp_attr_set_free(). Strings point into b, g and set.
 */
int zt_otlp_resource_attrs(const struct zt_otlp_batch *b, const struct zt_otlp_group *g,
			   struct zt_otlp_attr_set *set);
void zt_otlp_attr_set_free(struct zt_otlp_attr_set *set);

/* The attributes of span s into out; returns how many. Strings point into s. */
size_t zt_otlp_span_attrs(const struct zt_span *s, struct zt_otlp_attr out[ZT_OTLP_SPAN_ATTRS_MAX]);

/* The status message of an error span: "returned <ret>". */
void zt_otlp_status_message(const struct zt_span *s, char message[ZT_OTLP_STATUS_MESSAGE_LEN]);

/* A span id as OTLP's 8 bytes, most significant first. */
void zt_otlp_span_id_bytes(uint64_t id, uint8_t out[8]);

/*
 * Length of the valid UTF-8 sequence at s (at most n bytes), or 0 when s starts an invalid one
 * (overlong forms, surrogates and code points past U+10FFFF are invalid).
 */
size_t zt_utf8_seq_len(const uint8_t *s, size_t n);

/* Bytes of s[0..n) once every invalid byte is replaced by U+FFFD. */
size_t zt_utf8_clean_len(const char *s, size_t n);

/*
 * Call fn for each "key=value" entry of an OTEL_RESOURCE_ATTRIBUTES (or
 * OTEL_EXPORTER_OTLP_HEADERS) list: entries separated by ',', blanks around keys and values
 * trimmed, values percent-decoded. Entries without '=' or with an empty key are skipped and
 * counted; empty entries are ignored. key and value are NUL-terminated and valid only during
 * the call. Returns the number of skipped entries, or -ENOMEM; a negative return from fn stops
 * the walk and is returned.
 */
int zt_otlp_parse_kv_list(const char *list,
			  int (*fn)(const char *key, const char *value, void *ctx), void *ctx);

#endif
