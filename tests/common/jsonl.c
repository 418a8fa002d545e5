/* SPDX-License-Identifier: MIT */
/* Test helper: a strict little parser for ztrace's JSON-lines spans. */
#include "jsonl.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Nesting accepted inside skipped values such as "attributes". */
#define ZT_JSON_MAX_NESTING 64
/* Longest object key, in bytes; a longer one is a parse error. */
#define ZT_JSON_KEY_MAX 255

struct parser {
	const char *p;	   /* next character */
	const char *start; /* start of the current line */
	const char *end;   /* end of the current line */
	size_t line;
	const char *key; /* key whose value is being parsed, for messages */
	char *err;
	size_t err_size;
};

/* Records a message "line N[, key K]: ..." and returns -EINVAL. */
static int fail(struct parser *ps, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!ps->err_size)
		return -EINVAL;
	if (ps->key)
		n = snprintf(ps->err, ps->err_size, "line %zu, \"%s\": ", ps->line, ps->key);
	else
		n = snprintf(ps->err, ps->err_size, "line %zu: ", ps->line);
	if (n < 0 || (size_t)n >= ps->err_size)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(ps->err + n, ps->err_size - n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static void skip_ws(struct parser *ps)
{
	while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\r'))
		ps->p++;
}

/* Consumes @c (after whitespace). Returns 0 or -EINVAL. */
static int expect(struct parser *ps, char c)
{
	skip_ws(ps);
	if (ps->p >= ps->end || *ps->p != c)
		return fail(ps, "expected '%c' at column %td", c, ps->p - ps->start + 1);
	ps->p++;
	return 0;
}

static int hex_val(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Reads 4 hex digits of a \u escape into *@cp. Returns 0 or -EINVAL. */
static int read_u16(struct parser *ps, unsigned int *cp)
{
	int i, v;

	*cp = 0;
	for (i = 0; i < 4; i++) {
		if (ps->p >= ps->end || (v = hex_val(*ps->p)) < 0)
			return fail(ps, "bad \\u escape");
		*cp = *cp << 4 | v;
		ps->p++;
	}
	return 0;
}

/* Appends code point @cp as UTF-8 to @out at *@len (room for 4 bytes is checked by caller). */
static void put_utf8(char *out, size_t *len, unsigned int cp)
{
	if (cp < 0x80) {
		out[(*len)++] = cp;
	} else if (cp < 0x800) {
		out[(*len)++] = 0xc0 | cp >> 6;
		out[(*len)++] = 0x80 | (cp & 0x3f);
	} else if (cp < 0x10000) {
		out[(*len)++] = 0xe0 | cp >> 12;
		out[(*len)++] = 0x80 | (cp >> 6 & 0x3f);
		out[(*len)++] = 0x80 | (cp & 0x3f);
	} else {
		out[(*len)++] = 0xf0 | cp >> 18;
		out[(*len)++] = 0x80 | (cp >> 12 & 0x3f);
		out[(*len)++] = 0x80 | (cp >> 6 & 0x3f);
		out[(*len)++] = 0x80 | (cp & 0x3f);
	}
}

/*
 * Parses a JSON string at the cursor, decoding escapes into @out (@size bytes, NUL-terminated;
 * @out may be NULL to only validate). Returns 0, or -EINVAL (syntax error, or longer than
 * @size - 1 bytes).
 */
static int parse_string(struct parser *ps, char *out, size_t size)
{
	size_t len = 0, tlen;
	unsigned int cp, lo;
	unsigned char c;
	char tmp[4];
	int ret;

	ret = expect(ps, '"');
	if (ret)
		return ret;
	for (;;) {
		if (ps->p >= ps->end)
			return fail(ps, "unterminated string");
		c = *ps->p++;
		tlen = 0;
		if (c == '"')
			break;
		if (c < 0x20)
			return fail(ps, "control character 0x%02x in string", c);
		if (c != '\\') {
			tmp[tlen++] = c;
		} else {
			if (ps->p >= ps->end)
				return fail(ps, "unterminated escape");
			c = *ps->p++;
			switch (c) {
			case '"':
			case '\\':
			case '/':
				tmp[tlen++] = c;
				break;
			case 'b':
				tmp[tlen++] = '\b';
				break;
			case 'f':
				tmp[tlen++] = '\f';
				break;
			case 'n':
				tmp[tlen++] = '\n';
				break;
			case 'r':
				tmp[tlen++] = '\r';
				break;
			case 't':
				tmp[tlen++] = '\t';
				break;
			case 'u':
				ret = read_u16(ps, &cp);
				if (ret)
					return ret;
				if (cp >= 0xd800 && cp < 0xdc00) {
					/* A high surrogate must be followed by a low one. */
					if (ps->end - ps->p < 2 || ps->p[0] != '\\' ||
					    ps->p[1] != 'u')
						return fail(ps, "lone surrogate in string");
					ps->p += 2;
					ret = read_u16(ps, &lo);
					if (ret)
						return ret;
					if (lo < 0xdc00 || lo > 0xdfff)
						return fail(ps, "bad surrogate pair in string");
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				} else if (cp >= 0xdc00 && cp <= 0xdfff) {
					return fail(ps, "lone surrogate in string");
				}
				put_utf8(tmp, &tlen, cp);
				break;
			default:
				return fail(ps, "bad escape \\%c", c);
			}
		}
		if (out) {
			if (len + tlen >= size)
				return fail(ps, "string longer than %zu bytes", size - 1);
			memcpy(out + len, tmp, tlen);
		}
		len += tlen;
	}
	if (out)
		out[len] = '\0';
	return 0;
}

/*
 * Checks a JSON number at the cursor and, when @out is not NULL, stores it; then it must be an
 * integer that fits in a long long. Returns 0 or -EINVAL.
 */
static int parse_number(struct parser *ps, long long *out)
{
	const char *start = ps->p;
	bool integer = true;
	char buf[32];
	char *endp;
	long long v;

	if (ps->p < ps->end && *ps->p == '-')
		ps->p++;
	if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9')
		return fail(ps, "bad number");
	if (*ps->p == '0')
		ps->p++;
	else
		while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
			ps->p++;
	if (ps->p < ps->end && *ps->p == '.') {
		integer = false;
		ps->p++;
		if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9')
			return fail(ps, "bad number");
		while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
			ps->p++;
	}
	if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
		integer = false;
		ps->p++;
		if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-'))
			ps->p++;
		if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9')
			return fail(ps, "bad number");
		while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
			ps->p++;
	}
	if (!out)
		return 0;
	if (!integer)
		return fail(ps, "expected an integer, got %.*s", (int)(ps->p - start), start);
	if ((size_t)(ps->p - start) >= sizeof(buf))
		return fail(ps, "integer out of range");
	memcpy(buf, start, ps->p - start);
	buf[ps->p - start] = '\0';
	errno = 0;
	v = strtoll(buf, &endp, 10);
	if (errno || *endp)
		return fail(ps, "integer out of range: %s", buf);
	*out = v;
	return 0;
}

/* Consumes the literal @word. Returns 0 or -EINVAL. */
static int parse_literal(struct parser *ps, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n))
		return fail(ps, "bad value");
	ps->p += n;
	return 0;
}

/* Validates and skips any JSON value at the cursor, nested at most ZT_JSON_MAX_NESTING deep. */
static int skip_value(struct parser *ps, int depth)
{
	int ret;

	if (depth > ZT_JSON_MAX_NESTING)
		return fail(ps, "nesting deeper than %d", ZT_JSON_MAX_NESTING);
	skip_ws(ps);
	if (ps->p >= ps->end)
		return fail(ps, "missing value");
	switch (*ps->p) {
	case '"':
		return parse_string(ps, NULL, 0);
	case '{':
	case '[': {
		char close = *ps->p == '{' ? '}' : ']';

		ps->p++;
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == close) {
			ps->p++;
			return 0;
		}
		for (;;) {
			if (close == '}') {
				ret = parse_string(ps, NULL, 0);
				if (!ret)
					ret = expect(ps, ':');
				if (ret)
					return ret;
			}
			ret = skip_value(ps, depth + 1);
			if (ret)
				return ret;
			skip_ws(ps);
			if (ps->p < ps->end && *ps->p == ',') {
				ps->p++;
				continue;
			}
			return expect(ps, close);
		}
	}
	case 't':
		return parse_literal(ps, "true");
	case 'f':
		return parse_literal(ps, "false");
	case 'n':
		return parse_literal(ps, "null");
	default:
		return parse_number(ps, NULL);
	}
}

enum field_type {
	FT_STRING,
	FT_INT,
	FT_RAW,
};

struct field {
	const char *key;
	enum zt_span_field bit;
	enum field_type type;
	size_t offset;
	size_t size; /* of the char array for FT_STRING */
};

#define STR_FIELD(k, bit)                                                                          \
	{                                                                                          \
#k, bit, FT_STRING, offsetof(struct zt_span, k), sizeof(((struct zt_span *)0)->k)  \
	}
#define INT_FIELD(k, bit)                                                                          \
	{                                                                                          \
#k, bit, FT_INT, offsetof(struct zt_span, k), 0                                    \
	}

static const struct field fields[] = {
    STR_FIELD(trace_id, ZT_F_TRACE_ID),
    STR_FIELD(span_id, ZT_F_SPAN_ID),
    STR_FIELD(parent_span_id, ZT_F_PARENT_SPAN_ID),
    STR_FIELD(name, ZT_F_NAME),
    STR_FIELD(kind, ZT_F_KIND),
    INT_FIELD(start_ns, ZT_F_START_NS),
    INT_FIELD(end_ns, ZT_F_END_NS),
    INT_FIELD(duration_ns, ZT_F_DURATION_NS),
    INT_FIELD(pid, ZT_F_PID),
    INT_FIELD(tid, ZT_F_TID),
    STR_FIELD(comm, ZT_F_COMM),
    STR_FIELD(probe, ZT_F_PROBE),
    INT_FIELD(ret, ZT_F_RET),
    STR_FIELD(status, ZT_F_STATUS),
    {"attributes", ZT_F_ATTRIBUTES, FT_RAW, 0, 0},
};

/* Parses the value of @f into @sp. Returns 0, -EINVAL or -ENOMEM. */
static int parse_field(struct parser *ps, const struct field *f, struct zt_span *sp)
{
	const char *start;
	int ret = -EINVAL;

	ps->key = f->key;
	if (sp->fields & f->bit) {
		ret = fail(ps, "duplicate key");
		goto out;
	}
	sp->fields |= f->bit;
	skip_ws(ps);
	switch (f->type) {
	case FT_STRING:
		if (ps->p >= ps->end || *ps->p != '"')
			ret = fail(ps, "not a string");
		else
			ret = parse_string(ps, (char *)sp + f->offset, f->size);
		break;
	case FT_INT:
		if (ps->p >= ps->end || !(*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9')))
			ret = fail(ps, "not a number");
		else
			ret = parse_number(ps, (long long *)((char *)sp + f->offset));
		break;
	case FT_RAW:
		start = ps->p;
		ret = skip_value(ps, 1);
		if (ret)
			break;
		sp->attributes = strndup(start, ps->p - start);
		ret = sp->attributes ? 0 : -ENOMEM;
		break;
	}
out:
	ps->key = NULL;
	return ret;
}

/* Parses one object line [ps->p, ps->end) into @sp. Returns 0, -EINVAL or -ENOMEM. */
static int parse_object(struct parser *ps, struct zt_span *sp)
{
	char key[ZT_JSON_KEY_MAX + 1];
	size_t i;
	int ret;

	ret = expect(ps, '{');
	if (ret)
		return ret;
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == '}') {
		ps->p++;
		goto tail;
	}
	for (;;) {
		const struct field *f = NULL;

		ret = parse_string(ps, key, sizeof(key));
		if (ret)
			return ret;
		ret = expect(ps, ':');
		if (ret)
			return ret;
		for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
			if (!strcmp(key, fields[i].key)) {
				f = &fields[i];
				break;
			}
		}
		ret = f ? parse_field(ps, f, sp) : skip_value(ps, 1);
		if (ret)
			return ret;
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			continue;
		}
		ret = expect(ps, '}');
		if (ret)
			return ret;
		break;
	}
tail:
	skip_ws(ps);
	if (ps->p != ps->end)
		return fail(ps, "trailing characters after the object");
	return 0;
}

/* Appends a zeroed span to @s. Returns it, or NULL when out of memory. */
static struct zt_span *push_span(struct zt_spans *s)
{
	struct zt_span *v;
	size_t cap;

	if (s->n == s->cap) {
		cap = s->cap ? s->cap * 2 : 64;
		v = realloc(s->v, cap * sizeof(*v));
		if (!v)
			return NULL;
		s->v = v;
		s->cap = cap;
	}
	v = &s->v[s->n++];
	memset(v, 0, sizeof(*v));
	return v;
}

int zt_jsonl_parse(const char *text, struct zt_spans *out, char *err, size_t err_size)
{
	struct parser ps = {.err = err, .err_size = err_size};
	const char *line = text, *nl;
	struct zt_span *sp;
	int ret;

	if (err_size)
		err[0] = '\0';
	while (*line) {
		nl = strchr(line, '\n');
		ps.line++;
		ps.p = ps.start = line;
		ps.end = nl ? nl : line + strlen(line);
		skip_ws(&ps);
		if (ps.p < ps.end && *ps.p == '{') {
			sp = push_span(out);
			if (!sp)
				return -ENOMEM;
			sp->line = ps.line;
			ret = parse_object(&ps, sp);
			if (ret)
				return ret;
		} else if (ps.p < ps.end) {
			out->other_lines++;
		}
		if (!nl)
			break;
		line = nl + 1;
	}
	return 0;
}

void zt_spans_free(struct zt_spans *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i].attributes);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

size_t zt_spans_count(const struct zt_spans *s, const char *name)
{
	size_t i, n = 0;

	for (i = 0; i < s->n; i++)
		n += !name || !strcmp(s->v[i].name, name);
	return n;
}

size_t zt_spans_count_status(const struct zt_spans *s, const char *name, const char *status)
{
	size_t i, n = 0;

	for (i = 0; i < s->n; i++)
		n += (!name || !strcmp(s->v[i].name, name)) && !strcmp(s->v[i].status, status);
	return n;
}

size_t zt_spans_distinct_tids(const struct zt_spans *s, const char *name)
{
	size_t i, j, n = 0;

	for (i = 0; i < s->n; i++) {
		if (name && strcmp(s->v[i].name, name))
			continue;
		/* Count a tid at its first matching span only. */
		for (j = 0; j < i; j++)
			if ((!name || !strcmp(s->v[j].name, name)) && s->v[j].tid == s->v[i].tid)
				break;
		n += j == i;
	}
	return n;
}

const struct zt_span *zt_spans_find(const struct zt_spans *s, const char *span_id)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (!strcmp(s->v[i].span_id, span_id))
			return &s->v[i];
	return NULL;
}

const struct zt_span *zt_span_parent(const struct zt_spans *s, const struct zt_span *sp)
{
	if (!sp->parent_span_id[0])
		return NULL;
	return zt_spans_find(s, sp->parent_span_id);
}

const struct zt_span *zt_span_root(const struct zt_spans *s, const struct zt_span *sp)
{
	size_t hops;

	/* More hops than spans means a cycle. */
	for (hops = 0; hops <= s->n; hops++) {
		if (!sp->parent_span_id[0])
			return sp;
		sp = zt_span_parent(s, sp);
		if (!sp)
			return NULL;
	}
	return NULL;
}

bool zt_is_hex(const char *str, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!((str[i] >= '0' && str[i] <= '9') || (str[i] >= 'a' && str[i] <= 'f')))
			return false;
	return str[len] == '\0';
}
