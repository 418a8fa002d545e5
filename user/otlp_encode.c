// SPDX-License-Identifier: MIT
/*
 * Field numbers below are those of opentelemetry-proto v1 (collector/trace/v1/trace_service.proto,
 * trace/v1/trace.proto, resource/v1/resource.proto, common/v1/common.proto).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "otlp_attrs.h"

/* Protobuf wire types. */
enum { WIRE_VARINT = 0, WIRE_FIXED64 = 1, WIRE_LEN = 2 };

/* OTLP enum values. */
enum { SPAN_KIND_INTERNAL = 1 };
enum { STATUS_CODE_UNSET = 0, STATUS_CODE_ERROR = 2 };

/* ExportTraceServiceRequest */
#define F_REQUEST_RESOURCE_SPANS 1
/* ResourceSpans */
#define F_RS_RESOURCE	 1
#define F_RS_SCOPE_SPANS 2
/* Resource */
#define F_RESOURCE_ATTRIBUTES	      1
#define F_RESOURCE_DROPPED_ATTRIBUTES 2
/* ScopeSpans */
#define F_SS_SCOPE 1
#define F_SS_SPANS 2
/* InstrumentationScope */
#define F_SCOPE_NAME	1
#define F_SCOPE_VERSION 2
/* Span */
#define F_SPAN_TRACE_ID	      1
#define F_SPAN_SPAN_ID	      2
#define F_SPAN_PARENT_SPAN_ID 4
#define F_SPAN_NAME	      5
#define F_SPAN_KIND	      6
#define F_SPAN_START	      7
#define F_SPAN_END	      8
#define F_SPAN_ATTRIBUTES     9
#define F_SPAN_STATUS	      15
/* Status */
#define F_STATUS_MESSAGE 2
#define F_STATUS_CODE	 3
/* KeyValue */
#define F_KV_KEY   1
#define F_KV_VALUE 2
/* AnyValue */
#define F_ANY_STRING 1
#define F_ANY_BOOL   2
#define F_ANY_INT    3

/* Bytes of the longest varint (a 64-bit value). */
#define VARINT_MAX 10

int zt_buf_reserve(struct zt_buf *b, size_t extra)
{
	size_t cap = b->cap ? b->cap : 256;
	uint8_t *data;

	if (extra <= b->cap - b->len)
		return 0;
	while (cap - b->len < extra)
		cap *= 2;
	data = realloc(b->data, cap);
	if (!data)
		return -ENOMEM;
	b->data = data;
	b->cap = cap;
	return 0;
}

int zt_buf_append(struct zt_buf *b, const void *data, size_t len)
{
	if (zt_buf_reserve(b, len))
		return -ENOMEM;
	memcpy(b->data + b->len, data, len);
	b->len += len;
	return 0;
}

int zt_buf_puts(struct zt_buf *b, const char *s)
{
	return zt_buf_append(b, s, strlen(s));
}

void zt_buf_free(struct zt_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}
/* ---- protobuf ---- */

/* A protobuf writer; the first allocation failure sticks and later writes do nothing. */
struct pbw {
	struct zt_buf *b;
	int err;
};

static void pb_raw(struct pbw *w, const void *data, size_t len)
{
	if (!w->err)
		w->err = zt_buf_append(w->b, data, len);
}

static size_t varint_encode(uint64_t v, uint8_t out[VARINT_MAX])
{
	size_t n = 0;

	do {
		out[n] = v & 0x7f;
		v >>= 7;
		if (v)
			out[n] |= 0x80;
		n++;
	} while (v);
	return n;
}

static void pb_varint(struct pbw *w, uint64_t v)
{
	uint8_t tmp[VARINT_MAX];

	pb_raw(w, tmp, varint_encode(v, tmp));
}

static void pb_tag(struct pbw *w, unsigned field, unsigned wire)
{
	pb_varint(w, (uint64_t)field << 3 | wire);
}

static void pb_uint_field(struct pbw *w, unsigned field, uint64_t v)
{
	pb_tag(w, field, WIRE_VARINT);
	pb_varint(w, v);
}

static void pb_fixed64_field(struct pbw *w, unsigned field, uint64_t v)
{
	uint8_t le[8];

	for (int i = 0; i < 8; i++)
		le[i] = v >> (8 * i);
	pb_tag(w, field, WIRE_FIXED64);
	pb_raw(w, le, sizeof(le));
}

static void pb_bytes_field(struct pbw *w, unsigned field, const void *data, size_t len)
{
	pb_tag(w, field, WIRE_LEN);
	pb_varint(w, len);
	pb_raw(w, data, len);
}

/* A string field, its invalid UTF-8 bytes replaced by U+FFFD. */
static void pb_string_field(struct pbw *w, unsigned field, const char *s, size_t n)
{
	pb_tag(w, field, WIRE_LEN);
	pb_varint(w, zt_utf8_clean_len(s, n));
	for (size_t i = 0; i < n;) {
		size_t l = zt_utf8_seq_len((const uint8_t *)s + i, n - i);

		if (l)
			pb_raw(w, s + i, l);
		else
			pb_raw(w, ZT_UTF8_REPLACEMENT, ZT_UTF8_REPLACEMENT_LEN);
		i += l ? l : 1;
	}
}

/* Start an embedded message: write its tag; returns where its content begins. */
static size_t pb_open(struct pbw *w, unsigned field)
{
	pb_tag(w, field, WIRE_LEN);
	return w->b->len;
}

/* End the embedded message begun at start: its length is known only now, so insert the length
 * varint in front of the content (messages here are small; one memmove each). */
static void pb_close(struct pbw *w, size_t start)
{
	uint8_t tmp[VARINT_MAX];
	size_t content, n;

	if (w->err)
		return;
	content = w->b->len - start;
	n = varint_encode(content, tmp);
	w->err = zt_buf_reserve(w->b, n);
	if (w->err)
		return;
	memmove(w->b->data + start + n, w->b->data + start, content);
	memcpy(w->b->data + start, tmp, n);
	w->b->len += n;
}

static void pb_attr(struct pbw *w, unsigned field, const struct zt_otlp_attr *a)
{
	size_t kv = pb_open(w, field), any;

	pb_string_field(w, F_KV_KEY, a->key, strlen(a->key));
	any = pb_open(w, F_KV_VALUE);
	switch (a->type) {
	case ZT_ATTR_STRING:
		pb_string_field(w, F_ANY_STRING, a->str, a->str_len);
		break;
	case ZT_ATTR_INT:
		/* int64 is encoded as its two's complement, as uint64 */
		pb_uint_field(w, F_ANY_INT, (uint64_t)a->num);
		break;
	case ZT_ATTR_BOOL:
		pb_uint_field(w, F_ANY_BOOL, a->num != 0);
		break;
	}
	pb_close(w, any);
	pb_close(w, kv);
}

static void pb_span(struct pbw *w, const struct zt_span *s)
{
	struct zt_otlp_attr attrs[ZT_OTLP_SPAN_ATTRS_MAX];
	uint8_t id[8];
	size_t msg = pb_open(w, F_SS_SPANS), n;

	pb_bytes_field(w, F_SPAN_TRACE_ID, s->trace_id, sizeof(s->trace_id));
	zt_otlp_span_id_bytes(s->span_id, id);
	pb_bytes_field(w, F_SPAN_SPAN_ID, id, sizeof(id));
	if (s->parent_span_id) {
		zt_otlp_span_id_bytes(s->parent_span_id, id);
		pb_bytes_field(w, F_SPAN_PARENT_SPAN_ID, id, sizeof(id));
	}
	pb_string_field(w, F_SPAN_NAME, s->name ? s->name : "", s->name ? strlen(s->name) : 0);
	pb_uint_field(w, F_SPAN_KIND, SPAN_KIND_INTERNAL);
	pb_fixed64_field(w, F_SPAN_START, s->start_ns);
	pb_fixed64_field(w, F_SPAN_END, s->end_ns);
	n = zt_otlp_span_attrs(s, attrs);
	for (size_t i = 0; i < n; i++)
		pb_attr(w, F_SPAN_ATTRIBUTES, &attrs[i]);
	if (s->status == ZT_STATUS_ERROR) {
		char message[ZT_OTLP_STATUS_MESSAGE_LEN];
		size_t st = pb_open(w, F_SPAN_STATUS);

		zt_otlp_status_message(s, message);
		pb_string_field(w, F_STATUS_MESSAGE, message, strlen(message));
		pb_uint_field(w, F_STATUS_CODE, STATUS_CODE_ERROR);
		pb_close(w, st);
	}
	pb_close(w, msg);
}

int zt_otlp_encode_proto(const struct zt_otlp_batch *b, struct zt_buf *out)
{
	struct pbw w = {.b = out};
	struct zt_otlp_attr_set *set;

	set = malloc(sizeof(*set));
	if (!set)
		return -ENOMEM;
	for (size_t g = 0; g < b->n_groups && !w.err; g++) {
		const struct zt_otlp_group *grp = &b->groups[g];
		size_t rs, res, ss, scope;

		w.err = zt_otlp_resource_attrs(b, grp, set);
		rs = pb_open(&w, F_REQUEST_RESOURCE_SPANS);
		res = pb_open(&w, F_RS_RESOURCE);
		for (size_t i = 0; i < set->n; i++)
			pb_attr(&w, F_RESOURCE_ATTRIBUTES, &set->a[i]);
		if (set->dropped)
			pb_uint_field(&w, F_RESOURCE_DROPPED_ATTRIBUTES, set->dropped);
		pb_close(&w, res);
		zt_otlp_attr_set_free(set);

		ss = pb_open(&w, F_RS_SCOPE_SPANS);
		scope = pb_open(&w, F_SS_SCOPE);
		pb_string_field(&w, F_SCOPE_NAME, ZT_OTLP_SCOPE_NAME, strlen(ZT_OTLP_SCOPE_NAME));
		if (b->scope_version)
			pb_string_field(&w, F_SCOPE_VERSION, b->scope_version,
					strlen(b->scope_version));
		pb_close(&w, scope);
		for (size_t i = 0; i < grp->n; i++)
			pb_span(&w, &grp->spans[i]);
		pb_close(&w, ss);
		pb_close(&w, rs);
	}
	free(set);
	return w.err;
}

/* ---- OTLP/JSON ---- */

struct jw {
	struct zt_buf *b;
	int err;
};

static void js_raw(struct jw *w, const char *s)
{
	if (!w->err)
		w->err = zt_buf_puts(w->b, s);
}

/* A JSON string literal: quotes, RFC 8259 escapes, invalid UTF-8 replaced by U+FFFD. */
static void js_string(struct jw *w, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";

	js_raw(w, "\"");
	for (size_t i = 0; i < n && !w->err;) {
		unsigned char c = s[i];
		size_t l = zt_utf8_seq_len((const uint8_t *)s + i, n - i);
		char esc[7];

		if (!l) {
			js_raw(w, ZT_UTF8_REPLACEMENT);
			i++;
			continue;
		}
		if (c == '"' || c == '\\') {
			esc[0] = '\\', esc[1] = c, esc[2] = '\0';
			js_raw(w, esc);
		} else if (c < 0x20) {
			switch (c) {
			case '\n':
				js_raw(w, "\\n");
				break;
			case '\r':
				js_raw(w, "\\r");
				break;
			case '\t':
				js_raw(w, "\\t");
				break;
			default:
				memcpy(esc, "\\u00", 4);
				esc[4] = hex[c >> 4], esc[5] = hex[c & 0xf], esc[6] = '\0';
				js_raw(w, esc);
			}
		} else if (!w->err) {
			w->err = zt_buf_append(w->b, s + i, l);
		}
		i += l;
	}
	js_raw(w, "\"");
}

static void js_cstring(struct jw *w, const char *s)
{
	js_string(w, s, strlen(s));
}

static void js_hex(struct jw *w, const uint8_t *data, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	char out[2 * 16 + 3];
	size_t n = 0;

	out[n++] = '"';
	for (size_t i = 0; i < len && i < 16; i++) {
		out[n++] = hex[data[i] >> 4];
		out[n++] = hex[data[i] & 0xf];
	}
	out[n++] = '"';
	out[n] = '\0';
	js_raw(w, out);
}

static void js_u64_string(struct jw *w, uint64_t v)
{
	char tmp[24];

	snprintf(tmp, sizeof(tmp), "\"%" PRIu64 "\"", v);
	js_raw(w, tmp);
}

static void js_attrs(struct jw *w, const struct zt_otlp_attr *a, size_t n)
{
	char tmp[24];

	js_raw(w, "[");
	for (size_t i = 0; i < n; i++) {
		js_raw(w, i ? ",{\"key\":" : "{\"key\":");
		js_cstring(w, a[i].key);
		switch (a[i].type) {
		case ZT_ATTR_STRING:
			js_raw(w, ",\"value\":{\"stringValue\":");
			js_string(w, a[i].str, a[i].str_len);
			js_raw(w, "}}");
			break;
		case ZT_ATTR_INT:
			snprintf(tmp, sizeof(tmp), "\"%" PRId64 "\"", a[i].num);
			js_raw(w, ",\"value\":{\"intValue\":");
			js_raw(w, tmp);
			js_raw(w, "}}");
			break;
		case ZT_ATTR_BOOL:
			js_raw(w, a[i].num ? ",\"value\":{\"boolValue\":true}}"
					   : ",\"value\":{\"boolValue\":false}}");
			break;
		}
	}
	js_raw(w, "]");
}

static void js_span(struct jw *w, const struct zt_span *s)
{
	struct zt_otlp_attr attrs[ZT_OTLP_SPAN_ATTRS_MAX];
	uint8_t id[8];
	char tmp[24];

	js_raw(w, "{\"traceId\":");
	js_hex(w, s->trace_id, sizeof(s->trace_id));
	js_raw(w, ",\"spanId\":");
	zt_otlp_span_id_bytes(s->span_id, id);
	js_hex(w, id, sizeof(id));
	if (s->parent_span_id) {
		js_raw(w, ",\"parentSpanId\":");
		zt_otlp_span_id_bytes(s->parent_span_id, id);
		js_hex(w, id, sizeof(id));
	}
	js_raw(w, ",\"name\":");
	js_cstring(w, s->name ? s->name : "");
	snprintf(tmp, sizeof(tmp), ",\"kind\":%d", SPAN_KIND_INTERNAL);
	js_raw(w, tmp);
	js_raw(w, ",\"startTimeUnixNano\":");
	js_u64_string(w, s->start_ns);
	js_raw(w, ",\"endTimeUnixNano\":");
	js_u64_string(w, s->end_ns);
	js_raw(w, ",\"attributes\":");
	js_attrs(w, attrs, zt_otlp_span_attrs(s, attrs));
	if (s->status == ZT_STATUS_ERROR) {
		char message[ZT_OTLP_STATUS_MESSAGE_LEN];

		zt_otlp_status_message(s, message);
		js_raw(w, ",\"status\":{\"message\":");
		js_cstring(w, message);
		snprintf(tmp, sizeof(tmp), ",\"code\":%d}", STATUS_CODE_ERROR);
		js_raw(w, tmp);
	}
	js_raw(w, "}");
}

int zt_otlp_encode_json(const struct zt_otlp_batch *b, struct zt_buf *out)
{
	struct jw w = {.b = out};
	struct zt_otlp_attr_set *set;
	char tmp[48];

	set = malloc(sizeof(*set));
	if (!set)
		return -ENOMEM;
	js_raw(&w, "{\"resourceSpans\":[");
	for (size_t g = 0; g < b->n_groups && !w.err; g++) {
		const struct zt_otlp_group *grp = &b->groups[g];

		w.err = zt_otlp_resource_attrs(b, grp, set);
		js_raw(&w,
		       g ? ",{\"resource\":{\"attributes\":" : "{\"resource\":{\"attributes\":");
		js_attrs(&w, set->a, set->n);
		if (set->dropped) {
			snprintf(tmp, sizeof(tmp), ",\"droppedAttributesCount\":%u", set->dropped);
			js_raw(&w, tmp);
		}
		zt_otlp_attr_set_free(set);
		js_raw(&w, "},\"scopeSpans\":[{\"scope\":{\"name\":");
		js_cstring(&w, ZT_OTLP_SCOPE_NAME);
		if (b->scope_version) {
			js_raw(&w, ",\"version\":");
			js_cstring(&w, b->scope_version);
		}
		js_raw(&w, "},\"spans\":[");
		for (size_t i = 0; i < grp->n; i++) {
			if (i)
				js_raw(&w, ",");
			js_span(&w, &grp->spans[i]);
		}
		js_raw(&w, "]}]}");
	}
	js_raw(&w, "]}");
	free(set);
	return w.err;
}
