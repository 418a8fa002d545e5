// SPDX-License-Identifier: MIT
/* Typed reads from a libyaml document, each failure located at FILE:LINE:COLUMN. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "yaml_schema.h"
#include "ztrace/limits.h"

/* Room for "expected one of: a, b, c" in an unknown-key message. */
#define KEY_LIST_LEN 256

int zt_yaml_fail(struct zt_yaml *y, const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;
	int len;

	if (!y->err || !y->errlen)
		return -EINVAL;
	len = snprintf(y->err, y->errlen, "%s:%zu:%zu: ", y->path, n->start_mark.line + 1,
		       n->start_mark.column + 1);
	if (len >= 0 && (size_t)len < y->errlen) {
		va_start(ap, fmt);
		vsnprintf(y->err + len, y->errlen - len, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

yaml_node_t *zt_yaml_node(struct zt_yaml *y, int id)
{
	return yaml_document_get_node(&y->doc, id);
}

yaml_node_t *zt_yaml_root(struct zt_yaml *y)
{
	return y->loaded ? yaml_document_get_root_node(&y->doc) : NULL;
}

const char *zt_yaml_text(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

bool zt_yaml_is_null(const yaml_node_t *n)
{
	static const char *const nulls[] = {"", "~", "null", "Null", "NULL"};

	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	for (size_t i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
		if (!strcmp(zt_yaml_text(n), nulls[i]))
			return true;
	return false;
}

const char *zt_yaml_describe(const yaml_node_t *n, char *buf, size_t len)
{
	if (n->type == YAML_SEQUENCE_NODE)
		return "a list";
	if (n->type == YAML_MAPPING_NODE)
		return "a mapping";
	if (zt_yaml_is_null(n))
		return "nothing";
	if (n->data.scalar.length > ZT_YAML_SHOWN)
		snprintf(buf, len, "'%.*s...'", ZT_YAML_SHOWN, zt_yaml_text(n));
	else
		snprintf(buf, len, "'%s'", zt_yaml_text(n));
	return buf;
}

int zt_yaml_wrong_type(struct zt_yaml *y, const yaml_node_t *n, const char *key, const char *where,
		       const char *expected)
{
	char buf[ZT_YAML_DESCRIBE_LEN];

	return zt_yaml_fail(y, n, "'%s'%s must be %s, got %s", key, where, expected,
			    zt_yaml_describe(n, buf, sizeof(buf)));
}

int zt_yaml_scalar(struct zt_yaml *y, const yaml_node_t *n, const char *key, const char *where,
		   const char *expected, const char **text)
{
	if (n->type != YAML_SCALAR_NODE)
		return zt_yaml_wrong_type(y, n, key, where, expected);
	/* a "\0" escape in a double-quoted scalar: no setting can hold it */
	if (strlen(zt_yaml_text(n)) != n->data.scalar.length)
		return zt_yaml_fail(y, n, "'%s'%s contains a NUL character", key, where);
	*text = zt_yaml_text(n);
	return 0;
}

int zt_yaml_strdup(struct zt_yaml *y, const yaml_node_t *n, const char *key, const char *where,
		   char **out)
{
	const char *text = NULL;
	int ret = zt_yaml_scalar(y, n, key, where, "a string", &text);

	if (ret)
		return ret;
	*out = strdup(text);
	return *out ? 0 : -ENOMEM;
}

bool zt_yaml_plain_bool(const yaml_node_t *n, bool *b)
{
	static const char *const truths[] = {"true", "True", "TRUE"};
	static const char *const lies[] = {"false", "False", "FALSE"};

	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	for (size_t i = 0; i < sizeof(truths) / sizeof(truths[0]); i++) {
		if (!strcmp(zt_yaml_text(n), truths[i]) || !strcmp(zt_yaml_text(n), lies[i])) {
			*b = !strcmp(zt_yaml_text(n), truths[i]);
			return true;
		}
	}
	return false;
}

int zt_yaml_bool(struct zt_yaml *y, const yaml_node_t *n, const char *key, const char *where,
		 bool *out)
{
	return zt_yaml_plain_bool(n, out) ? 0
					  : zt_yaml_wrong_type(y, n, key, where, "true or false");
}

int zt_yaml_mapping(struct zt_yaml *y, const yaml_node_t *n, const char *what, const char *where,
		    const char *const *keys, yaml_node_t **vals)
{
	const yaml_node_t *seen[ZT_YAML_MAX_KEYS] = {0};
	char buf[ZT_YAML_DESCRIBE_LEN];
	size_t nkeys = 0;

	while (keys[nkeys])
		nkeys++;
	if (nkeys > ZT_YAML_MAX_KEYS)
		return -E2BIG;
	for (size_t i = 0; i < nkeys; i++)
		vals[i] = NULL;
	if (n->type != YAML_MAPPING_NODE)
		return zt_yaml_fail(y, n, "%s must be a mapping of settings, got %s", what,
				    zt_yaml_describe(n, buf, sizeof(buf)));

	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = zt_yaml_node(y, p->key), *v = zt_yaml_node(y, p->value);
		size_t i;

		if (k->type != YAML_SCALAR_NODE)
			return zt_yaml_fail(y, k, "a key%s must be a name, got %s", where,
					    zt_yaml_describe(k, buf, sizeof(buf)));
		for (i = 0; i < nkeys; i++)
			if (!strcmp(zt_yaml_text(k), keys[i]))
				break;
		if (i == nkeys) {
			char expected[KEY_LIST_LEN] = "";

			for (size_t j = 0; j < nkeys; j++) {
				strncat(expected, j ? ", " : "",
					sizeof(expected) - strlen(expected) - 1);
				strncat(expected, keys[j], sizeof(expected) - strlen(expected) - 1);
			}
			return zt_yaml_fail(y, k, "unknown key %s%s (expected one of: %s)",
					    zt_yaml_describe(k, buf, sizeof(buf)), where, expected);
		}
		/* YAML forbids it, libyaml lets it through: the second would silently win */
		if (seen[i])
			return zt_yaml_fail(y, k, "duplicate key '%s'%s (first at line %zu)",
					    keys[i], where, seen[i]->start_mark.line + 1);
		seen[i] = k;
		vals[i] = zt_yaml_is_null(v) ? NULL : v;
	}
	return 0;
}

int zt_yaml_str_list(struct zt_yaml *y, const yaml_node_t *n, const char *key, const char *where,
		     const char *expected, const char *item_expected, bool one_ok, char ***out,
		     size_t *count, zt_yaml_item_check check)
{
	bool seq = n->type == YAML_SEQUENCE_NODE;
	size_t total =
	    seq ? (size_t)(n->data.sequence.items.top - n->data.sequence.items.start) : 1;
	char buf[ZT_YAML_DESCRIBE_LEN];
	int ret;

	if (!seq && !(one_ok && n->type == YAML_SCALAR_NODE))
		return zt_yaml_wrong_type(y, n, key, where, expected);
	*out = calloc(total ? total : 1, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	for (size_t i = 0; i < total; i++) {
		const yaml_node_t *item =
		    seq ? zt_yaml_node(y, n->data.sequence.items.start[i]) : n;
		const char *text = NULL;

		if (item->type != YAML_SCALAR_NODE || zt_yaml_is_null(item))
			return zt_yaml_fail(y, item, "item %zu of '%s'%s must be %s, got %s", i + 1,
					    key, where, item_expected,
					    zt_yaml_describe(item, buf, sizeof(buf)));
		ret = zt_yaml_scalar(y, item, key, where, item_expected, &text);
		if (!ret && check)
			ret = check(y, item, where);
		if (ret)
			return ret;
		(*out)[i] = strdup(text);
		if (!(*out)[i])
			return -ENOMEM;
		*count = i + 1;
	}
	return 0;
}

/*
 * Read all of path (at most max bytes) into a NUL-terminated malloc'ed buffer. Returns 0 or
 * -errno with "cannot read PATH: reason" in err.
 */
static int read_all(const char *path, size_t max, char **buf, size_t *len, char *err, size_t errlen)
{
	struct stat st;
	size_t got = 0;
	int fd, ret = 0;

	*buf = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		ret = -errno;
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		ret = -EISDIR;
		goto out;
	}
	if ((size_t)st.st_size > max) {
		ret = -EFBIG;
		goto out;
	}
	/* one byte more than allowed tells a file that grew past the limit since fstat() */
	*buf = malloc(max + 2);
	if (!*buf) {
		ret = -ENOMEM;
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, *buf + got, max + 1 - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			goto out;
		}
		if (n == 0)
			break;
		got += n;
		if (got > max) {
			ret = -EFBIG;
			goto out;
		}
	}
	(*buf)[got] = '\0';
	*len = got;
out:
	if (ret == -EFBIG)
		snprintf(err, errlen, "cannot read %s: it is larger than %zu bytes", path, max);
	else if (ret)
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(-ret));
	if (ret) {
		free(*buf);
		*buf = NULL;
	}
	if (fd >= 0)
		close(fd);
	return ret;
}

/* Turn libyaml's parse error into "PATH:LINE:COL: invalid YAML: problem (context)". */
static int parse_failure(struct zt_yaml *y, const yaml_parser_t *p, const char *text, size_t len)
{
	size_t line = p->problem_mark.line + 1, col = p->problem_mark.column + 1;
	const char *problem = p->problem ? p->problem : "unknown error";

	if (p->error == YAML_MEMORY_ERROR)
		return -ENOMEM;
	if (p->error == YAML_READER_ERROR) {
		/* the reader reports a byte offset, not a mark: count lines up to it */
		line = 1;
		col = 1;
		for (size_t i = 0; i < p->problem_offset && i < len && text[i]; i++, col++) {
			if (text[i] == '\n') {
				line++;
				col = 0;
			}
		}
	}
	if (p->context)
		snprintf(y->err, y->errlen, "%s:%zu:%zu: invalid YAML: %s (%s at line %zu)",
			 y->path, line, col, problem, p->context, p->context_mark.line + 1);
	else
		snprintf(y->err, y->errlen, "%s:%zu:%zu: invalid YAML: %s", y->path, line, col,
			 problem);
	return -EINVAL;
}

/* The anchor an event defines, or NULL. */
static const yaml_char_t *event_anchor(const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		return ev->data.scalar.anchor;
	case YAML_SEQUENCE_START_EVENT:
		return ev->data.sequence_start.anchor;
	case YAML_MAPPING_START_EVENT:
		return ev->data.mapping_start.anchor;
	default:
		return NULL;
	}
}

/*
 * Walk the events of text and refuse collections nested deeper than ZT_YAML_MAX_DEPTH and more
 * than ZT_YAML_MAX_REFS anchors or aliases, before the real load: its time grows with the square
 * of the depth (1 MiB of '[' takes minutes) and of the anchors. Stops at the first syntax
 * error: the real load reports it. Returns 0, -EINVAL, -ENOMEM.
 */
static int check_size(struct zt_yaml *y, const char *text, size_t len)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	unsigned depth = 0, anchors = 0, aliases = 0;
	int ret = 0;

	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	while (!ret && yaml_parser_parse(&parser, &ev)) {
		yaml_event_type_t type = ev.type;
		const char *too_many = NULL;

		if (type == YAML_SEQUENCE_START_EVENT || type == YAML_MAPPING_START_EVENT) {
			if (++depth > ZT_YAML_MAX_DEPTH) {
				snprintf(
				    y->err, y->errlen,
				    "%s:%zu:%zu: lists and mappings nest deeper than %d levels",
				    y->path, ev.start_mark.line + 1, ev.start_mark.column + 1,
				    ZT_YAML_MAX_DEPTH);
				ret = -EINVAL;
			}
		} else if (type == YAML_SEQUENCE_END_EVENT || type == YAML_MAPPING_END_EVENT) {
			depth--;
		}
		if (type == YAML_ALIAS_EVENT && ++aliases > ZT_YAML_MAX_REFS)
			too_many = "aliases ('*name')";
		if (event_anchor(&ev) && ++anchors > ZT_YAML_MAX_REFS)
			too_many = "anchors ('&name')";
		if (too_many) {
			snprintf(y->err, y->errlen, "%s:%zu:%zu: more than %d %s", y->path,
				 ev.start_mark.line + 1, ev.start_mark.column + 1, ZT_YAML_MAX_REFS,
				 too_many);
			ret = -EINVAL;
		}
		yaml_event_delete(&ev);
		if (type == YAML_STREAM_END_EVENT)
			break;
	}
	yaml_parser_delete(&parser);
	return ret;
}

int zt_yaml_parse(struct zt_yaml *y, const char *name, const char *text, size_t len, char *err,
		  size_t errlen)
{
	yaml_parser_t parser;
	yaml_document_t extra;
	int ret = 0;

	memset(y, 0, sizeof(*y));
	y->path = name;
	y->err = err;
	y->errlen = errlen;
	err[0] = '\0';
	ret = check_size(y, text, len);
	if (ret)
		goto out;
	if (!yaml_parser_initialize(&parser)) {
		ret = -ENOMEM;
		goto out;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &y->doc)) {
		ret = parse_failure(y, &parser, text, len);
		goto out_parser;
	}
	y->loaded = true;
	if (!zt_yaml_root(y))
		goto out_parser;
	/* a second document would be ignored without this: refuse it, and any error after it */
	if (!yaml_parser_load(&parser, &extra)) {
		ret = parse_failure(y, &parser, text, len);
		goto out_parser;
	}
	if (yaml_document_get_root_node(&extra))
		ret = zt_yaml_fail(y, yaml_document_get_root_node(&extra),
				   "a second YAML document: the file must hold one (remove the "
				   "'---' line)");
	yaml_document_delete(&extra);
out_parser:
	yaml_parser_delete(&parser);
out:
	if (ret == -ENOMEM)
		snprintf(err, errlen, "%s: out of memory", name);
	return ret;
}

int zt_yaml_open(struct zt_yaml *y, const char *path, size_t max_bytes, char *err, size_t errlen)
{
	char *text = NULL;
	size_t len = 0;
	int ret;

	memset(y, 0, sizeof(*y));
	err[0] = '\0';
	ret = read_all(path, max_bytes, &text, &len, err, errlen);
	if (!ret)
		ret = zt_yaml_parse(y, path, text, len, err, errlen);
	free(text);
	return ret;
}

void zt_yaml_close(struct zt_yaml *y)
{
	if (y->loaded)
		yaml_document_delete(&y->doc);
	y->loaded = false;
}
