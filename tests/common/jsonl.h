/* SPDX-License-Identifier: MIT */
/*
 * Test helper: parse ztrace's JSON-lines span output (DESIGN.md, "JSON lines") into structs,
 * and look spans up by name, status, id and parent. Dependency-free C.
 */
#ifndef ZT_TEST_JSONL_H
#define ZT_TEST_JSONL_H

#include <stdbool.h>
#include <stddef.h>

#include <ztrace/limits.h>

/* Hex digits of a trace id (128 bits) and of a span id (64 bits). */
#define ZT_TRACE_ID_HEX 32
#define ZT_SPAN_ID_HEX	16
/* Longest accepted string values, in bytes without the NUL; longer ones are parse errors. */
#define ZT_SPAN_NAME_MAX  255
#define ZT_SPAN_WORD_MAX  31
#define ZT_SPAN_PROBE_MAX 4351

/* Bits of zt_span.fields: which keys the line had. */
enum zt_span_field {
	ZT_F_TRACE_ID = 1 << 0,
	ZT_F_SPAN_ID = 1 << 1,
	ZT_F_PARENT_SPAN_ID = 1 << 2,
	ZT_F_NAME = 1 << 3,
	ZT_F_KIND = 1 << 4,
	ZT_F_START_NS = 1 << 5,
	ZT_F_END_NS = 1 << 6,
	ZT_F_DURATION_NS = 1 << 7,
	ZT_F_PID = 1 << 8,
	ZT_F_TID = 1 << 9,
	ZT_F_COMM = 1 << 10,
	ZT_F_PROBE = 1 << 11,
	ZT_F_RET = 1 << 12,
	ZT_F_STATUS = 1 << 13,
	ZT_F_ATTRIBUTES = 1 << 14,
	ZT_F_ALL = (1 << 15) - 1,
};

/* One span line. Strings are decoded (escapes resolved) and NUL-terminated. */
struct zt_span {
	char trace_id[ZT_TRACE_ID_HEX + 1];
	char span_id[ZT_SPAN_ID_HEX + 1];
	char parent_span_id[ZT_SPAN_ID_HEX + 1]; /* "" for a root span */
	char name[ZT_SPAN_NAME_MAX + 1];
	char kind[ZT_SPAN_WORD_MAX + 1];
	long long start_ns;
	long long end_ns;
	long long duration_ns;
	long long pid;
	long long tid;
	char comm[ZT_COMM_LEN];
	char probe[ZT_SPAN_PROBE_MAX + 1];
	long long ret;
	char status[ZT_SPAN_WORD_MAX + 1];
	char *attributes;    /* raw JSON text of the "attributes" value (owned), or NULL */
	unsigned int fields; /* enum zt_span_field bits present on the line */
	size_t line;	     /* 1-based line number in the parsed text */
};

struct zt_spans {
	struct zt_span *v;
	size_t n;
	size_t cap;
	size_t other_lines; /* non-empty lines that do not start with '{' (not spans) */
};

/*
 * Parses every line of @text that starts with '{' as one span object and appends it to @out
 * (zero-initialise @out first; free it with zt_spans_free()). Unknown keys are skipped; a
 * known key with the wrong type, a duplicate key, a string too long for its field or any
 * JSON syntax error fails. Returns 0, -EINVAL with a message "line N: ..." in @err
 * (@err_size bytes), or -ENOMEM.
 */
int zt_jsonl_parse(const char *text, struct zt_spans *out, char *err, size_t err_size);

/* Frees the spans and their attributes, and zeroes @s. */
void zt_spans_free(struct zt_spans *s);

/* Returns how many spans are named @name (every span when @name is NULL). */
size_t zt_spans_count(const struct zt_spans *s, const char *name);

/* Returns how many spans named @name (any name when NULL) have status @status. */
size_t zt_spans_count_status(const struct zt_spans *s, const char *name, const char *status);

/* Returns how many distinct tids the spans named @name (any when NULL) have. */
size_t zt_spans_distinct_tids(const struct zt_spans *s, const char *name);

/* Returns the span whose span_id is @span_id, or NULL. */
const struct zt_span *zt_spans_find(const struct zt_spans *s, const char *span_id);

/* Returns the parent of @sp (by parent_span_id), or NULL for a root or a missing parent. */
const struct zt_span *zt_span_parent(const struct zt_spans *s, const struct zt_span *sp);

/* Returns the root of @sp's parent chain (@sp itself for a root); NULL if a parent is missing. */
const struct zt_span *zt_span_root(const struct zt_spans *s, const struct zt_span *sp);

/* Returns true when @str is exactly @len lowercase hex digits. */
bool zt_is_hex(const char *str, size_t len);

#endif
