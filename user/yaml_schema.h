/* SPDX-License-Identifier: MIT */
/*
 * Checking a YAML file against a schema written in C: libyaml's document API builds the node
 * tree (aliases resolved), and these helpers read typed values out of it. Every failure writes
 * "PATH:LINE:COLUMN: message" about the node at fault and returns -EINVAL. Messages are phrased
 * from a key name and a "where" suffix such as " in rule 'orders'" ("" at the top level).
 */
#ifndef ZTRACE_YAML_SCHEMA_H
#define ZTRACE_YAML_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <yaml.h>

/* Keys one mapping of a schema may know (zt_yaml_mapping's bookkeeping). */
#define ZT_YAML_MAX_KEYS 16
/* Bytes of a scalar quoted in a message; longer ones are cut with "...". */
#define ZT_YAML_SHOWN 40
/* Size of the buffer zt_yaml_describe() needs. */
#define ZT_YAML_DESCRIBE_LEN (ZT_YAML_SHOWN + 8)

/* One parsed file. Fill with zt_yaml_open() or zt_yaml_parse(), release with zt_yaml_close(). */
struct zt_yaml {
	const char *path; /* as given, for messages (not copied) */
	yaml_document_t doc;
	bool loaded;
	char *err; /* where messages go (errlen bytes) */
	size_t errlen;
};

/*
 * Read path (at most max_bytes) and parse it into y; the file must hold at most one YAML
 * document. Returns 0 (zt_yaml_root() is NULL for an empty file); -EINVAL for a syntax error
 * or a second document, with "PATH:LINE:COLUMN: invalid YAML: ..." in err; -errno of
 * open/read (-EISDIR for a directory, -EFBIG past max_bytes) with "cannot read PATH: reason";
 * -ENOMEM. err (errlen bytes, not NULL) keeps receiving the messages of the other helpers. Call
 * zt_yaml_close() whatever the result.
 */
int zt_yaml_open(struct zt_yaml *y, const char *path, size_t max_bytes, char *err, size_t errlen);

/*
 * The same for a document already in memory: len bytes of text (NUL-terminated or not), named
 * name in messages. Returns 0, -EINVAL or -ENOMEM as zt_yaml_open(). Call zt_yaml_close()
 * whatever the result.
 */
int zt_yaml_parse(struct zt_yaml *y, const char *name, const char *text, size_t len, char *err,
		  size_t errlen);

/* Release the document; safe on a failed or closed y. */
void zt_yaml_close(struct zt_yaml *y);

/* The document's root node, or NULL when the file holds no document. */
yaml_node_t *zt_yaml_root(struct zt_yaml *y);

/* Node number id of the document (the ids mappings and sequences hold). */
yaml_node_t *zt_yaml_node(struct zt_yaml *y, int id);

/* Write "PATH:LINE:COL: message" about node n into y->err. Returns -EINVAL. */
int zt_yaml_fail(struct zt_yaml *y, const yaml_node_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A scalar node's text (NUL-terminated). */
const char *zt_yaml_text(const yaml_node_t *n);

/* Whether n is a plain scalar YAML reads as null ("", "~", "null"); quoted ones are strings. */
bool zt_yaml_is_null(const yaml_node_t *n);

/* How n reads in a message: 'text' (cut to ZT_YAML_SHOWN bytes), "a list", "a mapping" or
 * "nothing". buf holds ZT_YAML_DESCRIBE_LEN bytes. */
const char *zt_yaml_describe(const yaml_node_t *n, char *buf, size_t len);

/* "'KEY'WHERE must be EXPECTED, got <n>". Returns -EINVAL. */
int zt_yaml_wrong_type(struct zt_yaml *y, const yaml_node_t *n, const char *key, const char *where,
		       const char *expected);

/* The text of scalar n in *text, or -EINVAL when n is a list or mapping or holds a NUL byte. */
int zt_yaml_scalar(struct zt_yaml *y, const yaml_node_t *n, const char *key, const char *where,
		   const char *expected, const char **text);

/* A malloc'ed copy of scalar n's text in *out. Returns 0, -EINVAL or -ENOMEM. */
int zt_yaml_strdup(struct zt_yaml *y, const yaml_node_t *n, const char *key, const char *where,
		   char **out);

/* Whether n is a YAML 1.2 core boolean (plain true/True/TRUE, false/...); sets *b if so. */
bool zt_yaml_plain_bool(const yaml_node_t *n, bool *b);

/* A boolean in *out, or -EINVAL ("must be true or false"). */
int zt_yaml_bool(struct zt_yaml *y, const yaml_node_t *n, const char *key, const char *where,
		 bool *out);

/*
 * Check that n is a mapping whose keys are all in keys (NULL-terminated, at most
 * ZT_YAML_MAX_KEYS) and appear once, and store the value node of keys[i] in vals[i]: NULL when
 * the key is absent or its value is null ("key:" with no value is the same as no key). what
 * names the mapping in the message when n is something else ("'otlp'", "each rule").
 */
int zt_yaml_mapping(struct zt_yaml *y, const yaml_node_t *n, const char *what, const char *where,
		    const char *const *keys, yaml_node_t **vals);

/* Checks one item of a list; writes its own message and returns -EINVAL when it is bad. */
typedef int (*zt_yaml_item_check)(struct zt_yaml *y, const yaml_node_t *item, const char *where);

/*
 * A list of strings, or (when one_ok) a single string read as a list of one, into a calloc'ed
 * array *out of *count copies, filled as far as it got on error (the caller frees it either
 * way). check (may be NULL) vets each item. expected describes the whole value for the
 * message, item_expected one item. Returns 0, -EINVAL or -ENOMEM.
 */
int zt_yaml_str_list(struct zt_yaml *y, const yaml_node_t *n, const char *key, const char *where,
		     const char *expected, const char *item_expected, bool one_ok, char ***out,
		     size_t *count, zt_yaml_item_check check);

#endif
