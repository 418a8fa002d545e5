// SPDX-License-Identifier: MIT
/*
 * Loading the agent's config: libyaml's document API builds the node tree (aliases resolved),
 * then a walk driven by the schema below checks every key and copies the values out. Each
 * message starts with FILE:LINE:COLUMN of the node it is about.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "agent_config.h"
#include "cli.h"
#include "export_otlp.h"
#include "http_server.h"
#include "probe_spec.h"
#include "syscall_names.h"
#include "ztrace/limits.h"

/* Bytes of a scalar quoted in a message; longer ones are cut with "...". */
#define SHOWN_SCALAR 40
/* Room for " in the match of rule '<name>'" and similar context in messages. */
#define WHERE_LEN 160
#define NS_PER_MS 1000000ull

#define SIZE_UNITS "B, KiB, MiB, GiB, TiB, KB, MB, GB or TB"

static const char *const top_keys[] = { "log_format",	"log_level", "max_memory", "metrics_addr",
					"otlp",		"record",    "rules",	   NULL };
enum { TOP_LOG_FORMAT, TOP_LOG_LEVEL, TOP_MAX_MEMORY, TOP_METRICS_ADDR, TOP_OTLP, TOP_RECORD,
       TOP_RULES, TOP_N };

static const char *const otlp_keys[] = { "endpoint", "protocol", "headers", "gzip", "timeout",
					 NULL };
enum { OTLP_ENDPOINT, OTLP_PROTOCOL, OTLP_HEADERS, OTLP_GZIP, OTLP_TIMEOUT, OTLP_N };

static const char *const record_keys[] = { "path", "max_size", "keep", NULL };
enum { REC_PATH, REC_MAX_SIZE, REC_KEEP, REC_N };

static const char *const rule_keys[] = { "name",	 "match",  "probes",   "syscalls",
					 "min_duration", "sample", "error_if", "ret32",
					 NULL };
enum { RULE_NAME, RULE_MATCH, RULE_PROBES, RULE_SYSCALLS, RULE_MIN_DURATION, RULE_SAMPLE,
       RULE_ERROR_IF, RULE_RET32, RULE_N };

static const char *const match_keys[] = { "exe",	   "comm",    "cgroup",	       "container_id",
					  "k8s_namespace", "k8s_pod", "k8s_pod_label", NULL };
enum { M_EXE, M_COMM, M_CGROUP, M_CONTAINER_ID, M_K8S_NAMESPACE, M_K8S_POD, M_K8S_POD_LABEL,
       M_N };

/* Keys one mapping of the schema has at most (read_mapping's table). */
#define MAX_KEYS 8
_Static_assert(TOP_N <= MAX_KEYS && OTLP_N <= MAX_KEYS && REC_N <= MAX_KEYS &&
		   RULE_N <= MAX_KEYS && M_N <= MAX_KEYS,
	       "a key table outgrew MAX_KEYS");

static const char *const log_levels[] = { [ZT_LOG_ERROR] = "error",
					  [ZT_LOG_WARN] = "warn",
					  [ZT_LOG_INFO] = "info",
					  [ZT_LOG_DEBUG] = "debug" };

struct loader {
	const char *path;
	yaml_document_t *doc;
	char *err;
	size_t errlen;
};

/* Write "PATH:LINE:COL: message" about node n into the loader's err. Returns -EINVAL. */
static int __attribute__((format(printf, 3, 4)))
fail(struct loader *l, const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;
	int len;

	if (!l->err || !l->errlen)
		return -EINVAL;
	len = snprintf(l->err, l->errlen, "%s:%zu:%zu: ", l->path, n->start_mark.line + 1,
		       n->start_mark.column + 1);
	if (len >= 0 && (size_t)len < l->errlen) {
		va_start(ap, fmt);
		vsnprintf(l->err + len, l->errlen - len, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static yaml_node_t *node_at(struct loader *l, int id)
{
	return yaml_document_get_node(l->doc, id);
}

static const char *text_of(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

/* A plain scalar that YAML reads as null: "", "~", "null". Quoted scalars are strings. */
static bool is_null(const yaml_node_t *n)
{
	const char *v;

	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	v = text_of(n);
	return !*v || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") ||
	       !strcmp(v, "NULL");
}

/* How node n reads in a message: 'text' for a scalar, else its kind. buf holds the result. */
static const char *describe(const yaml_node_t *n, char *buf, size_t len)
{
	if (n->type == YAML_SEQUENCE_NODE)
		return "a list";
	if (n->type == YAML_MAPPING_NODE)
		return "a mapping";
	if (is_null(n))
		return "nothing";
	if (n->data.scalar.length > SHOWN_SCALAR)
		snprintf(buf, len, "'%.*s...'", SHOWN_SCALAR, text_of(n));
	else
		snprintf(buf, len, "'%s'", text_of(n));
	return buf;
}

static int wrong_type(struct loader *l, const yaml_node_t *n, const char *key, const char *where,
		      const char *expected)
{
	char buf[SHOWN_SCALAR + 8];

	return fail(l, n, "'%s'%s must be %s, got %s", key, where, expected,
		    describe(n, buf, sizeof(buf)));
}

/*
 * The text of scalar n, or -EINVAL when n is a list or mapping (or holds a NUL byte, which no
 * setting can use). key/where/expected phrase the message.
 */
static int scalar(struct loader *l, const yaml_node_t *n, const char *key, const char *where,
		  const char *expected, const char **text)
{
	if (n->type != YAML_SCALAR_NODE)
		return wrong_type(l, n, key, where, expected);
	if (strlen(text_of(n)) != n->data.scalar.length)
		return fail(l, n, "'%s'%s contains a NUL character", key, where);
	*text = text_of(n);
	return 0;
}

static int copy_str(struct loader *l, const yaml_node_t *n, const char *key, const char *where,
		    char **out)
{
	const char *text;
	int ret = scalar(l, n, key, where, "a string", &text);

	if (ret)
		return ret;
	*out = strdup(text);
	return *out ? 0 : -ENOMEM;
}

/* Whether n is a YAML 1.2 core boolean (plain only: a quoted "true" is a string); sets *b. */
static bool plain_bool(const yaml_node_t *n, bool *b)
{
	static const char *const truths[] = { "true", "True", "TRUE" };
	static const char *const lies[] = { "false", "False", "FALSE" };

	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	for (size_t i = 0; i < sizeof(truths) / sizeof(truths[0]); i++) {
		if (!strcmp(text_of(n), truths[i]) || !strcmp(text_of(n), lies[i])) {
			*b = !strcmp(text_of(n), truths[i]);
			return true;
		}
	}
	return false;
}

static int get_bool(struct loader *l, const yaml_node_t *n, const char *key, const char *where,
		    bool *out)
{
	return plain_bool(n, out) ? 0 : wrong_type(l, n, key, where, "true or false");
}

static int get_size(struct loader *l, const yaml_node_t *n, const char *key, const char *where,
		    uint64_t min, uint64_t *out)
{
	const char *text;
	int ret = scalar(l, n, key, where, "a size such as 64MiB", &text);

	if (ret)
		return ret;
	ret = zt_parse_size(text, out);
	if (ret == -ERANGE)
		return fail(l, n, "'%s'%s is too large: '%s'", key, where, text);
	if (ret)
		return fail(l, n, "bad %s '%s'%s: expected bytes with an optional unit (%s), e.g. 64MiB",
			    key, text, where, SIZE_UNITS);
	if (*out < min)
		return fail(l, n, "%s '%s'%s is too small: give at least %lluKiB", key, text, where,
			    (unsigned long long)(min >> 10));
	return 0;
}

static int get_duration(struct loader *l, const yaml_node_t *n, const char *key, const char *where,
			uint64_t *ns)
{
	const char *text;
	int ret = scalar(l, n, key, where, "a duration such as 2ms", &text);

	if (ret)
		return ret;
	/* strtod() also reads "nan", "inf" and hex floats: a duration starts with a digit */
	if ((!isdigit((unsigned char)text[0]) && text[0] != '.') || zt_parse_duration(text, ns))
		return fail(l, n,
			    "bad %s '%s'%s: expected a number with a unit ns, us, ms or s, e.g. "
			    "500us or 2ms",
			    key, text, where);
	return 0;
}

/*
 * Check that n is a mapping whose keys are all in keys (NULL-terminated) and appear once, and
 * store the value of keys[i] in vals[i] (NULL when absent or null: "key:" with no value is the
 * same as no key). what names the mapping when it is something else.
 */
static int read_mapping(struct loader *l, const yaml_node_t *n, const char *what, const char *where,
			const char *const *keys, yaml_node_t **vals)
{
	const yaml_node_t *seen[MAX_KEYS] = { 0 };
	char buf[SHOWN_SCALAR + 8];
	size_t nkeys = 0;

	while (keys[nkeys])
		nkeys++;
	for (size_t i = 0; i < nkeys; i++)
		vals[i] = NULL;
	if (n->type != YAML_MAPPING_NODE)
		return fail(l, n, "%s must be a mapping of settings, got %s", what,
			    describe(n, buf, sizeof(buf)));

	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = node_at(l, p->key), *v = node_at(l, p->value);
		size_t i;

		if (k->type != YAML_SCALAR_NODE)
			return fail(l, k, "a key%s must be a name, got %s", where,
				    describe(k, buf, sizeof(buf)));
		for (i = 0; i < nkeys; i++)
			if (!strcmp(text_of(k), keys[i]))
				break;
		if (i == nkeys) {
			char expected[256] = "";

			for (size_t j = 0; j < nkeys; j++) {
				strncat(expected, j ? ", " : "", sizeof(expected) - strlen(expected) - 1);
				strncat(expected, keys[j], sizeof(expected) - strlen(expected) - 1);
			}
			return fail(l, k, "unknown key %s%s (expected one of: %s)",
				    describe(k, buf, sizeof(buf)), where, expected);
		}
		if (seen[i])
			return fail(l, k, "duplicate key '%s'%s (first at line %zu)", keys[i], where,
				    seen[i]->start_mark.line + 1);
		seen[i] = k;
		vals[i] = is_null(v) ? NULL : v;
	}
	return 0;
}

/*
 * A list of strings, or (when one_ok) a single string read as a list of one, into a calloc'ed
 * array *out of *count copies (filled as far as it got on error: the caller frees it). Every
 * item is checked by check (may be NULL), which writes its own message and returns -EINVAL.
 * expected describes the whole value, item_expected one item.
 */
static int get_str_list(struct loader *l, const yaml_node_t *n, const char *key, const char *where,
			const char *expected, const char *item_expected, bool one_ok, char ***out,
			size_t *count,
			int (*check)(struct loader *, const yaml_node_t *, const char *))
{
	bool seq = n->type == YAML_SEQUENCE_NODE;
	size_t total = seq ? (size_t)(n->data.sequence.items.top - n->data.sequence.items.start) : 1;
	char buf[SHOWN_SCALAR + 8];
	int ret;

	if (!seq && !(one_ok && n->type == YAML_SCALAR_NODE))
		return wrong_type(l, n, key, where, expected);
	*out = calloc(total ? total : 1, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	for (size_t i = 0; i < total; i++) {
		const yaml_node_t *item = seq ? node_at(l, n->data.sequence.items.start[i]) : n;
		const char *text;

		if (item->type != YAML_SCALAR_NODE || is_null(item))
			return fail(l, item, "item %zu of '%s'%s must be %s, got %s", i + 1, key,
				    where, item_expected, describe(item, buf, sizeof(buf)));
		ret = scalar(l, item, key, where, item_expected, &text);
		if (!ret && check)
			ret = check(l, item, where);
		if (ret)
			return ret;
		(*out)[i] = strdup(text);
		if (!(*out)[i])
			return -ENOMEM;
		*count = i + 1;
	}
	return 0;
}

static int check_probe(struct loader *l, const yaml_node_t *n, const char *where)
{
	struct zt_probe_spec spec;
	char msg[256];

	if (zt_probe_spec_parse(text_of(n), &spec, msg, sizeof(msg)))
		return fail(l, n, "bad probe%s: %s", where, msg);
	zt_probe_spec_free(&spec);
	return 0;
}

static int check_syscall(struct loader *l, const yaml_node_t *n, const char *where)
{
	if (zt_syscall_nr(text_of(n)) < 0)
		return fail(l, n, "unknown syscall '%s'%s (names as in syscalls(2): read, openat...)",
			    text_of(n), where);
	return 0;
}

/* "key=value" or "key": a Kubernetes label key is never empty and has no blanks. */
static int check_label(struct loader *l, const yaml_node_t *n, const char *where)
{
	const char *t = text_of(n);
	size_t klen = strcspn(t, "=");

	if (!klen || strcspn(t, " \t") < strlen(t))
		return fail(l, n, "bad k8s_pod_label '%s'%s: write key=value (or key for any value)",
			    t, where);
	return 0;
}

static int get_glob(struct loader *l, const yaml_node_t *n, const char *key, const char *where,
		    char **out)
{
	char msg[256];
	int ret = copy_str(l, n, key, where, out);

	if (ret)
		return ret;
	if (!zt_glob_is_valid(*out, msg, sizeof(msg)))
		return fail(l, n, "bad %s glob%s: %s", key, where, msg);
	return 0;
}

static bool has_glob_chars(const char *s)
{
	return strpbrk(s, "*?[\\") != NULL;
}

static int load_match(struct loader *l, const yaml_node_t *n, const char *rule_where,
		      struct zt_agent_match *m)
{
	char where[WHERE_LEN];
	yaml_node_t *v[M_N];
	int ret;

	/* " in rule 'x'" becomes " in the match of rule 'x'" */
	snprintf(where, sizeof(where), " in the match of%s", rule_where + strlen(" in"));
	ret = read_mapping(l, n, "'match'", where, match_keys, v);
	if (ret)
		return ret;
	if (v[M_EXE] && (ret = get_glob(l, v[M_EXE], "exe", where, &m->exe)))
		return ret;
	if (v[M_COMM] && (ret = get_glob(l, v[M_COMM], "comm", where, &m->comm)))
		return ret;
	if (m->comm && !has_glob_chars(m->comm) && strlen(m->comm) > ZT_COMM_LEN - 1)
		return fail(l, v[M_COMM],
			    "comm '%s'%s can never match: the kernel keeps the first %d characters "
			    "of a process name (write '%.*s' or match on exe)",
			    m->comm, where, ZT_COMM_LEN - 1, ZT_COMM_LEN - 1, m->comm);
	if (v[M_CGROUP] && (ret = get_glob(l, v[M_CGROUP], "cgroup", where, &m->cgroup)))
		return ret;
	if (v[M_CONTAINER_ID]) {
		size_t len;

		ret = copy_str(l, v[M_CONTAINER_ID], "container_id", where, &m->container_id);
		if (ret)
			return ret;
		len = strlen(m->container_id);
		if (len < ZT_CONTAINER_ID_MIN_PREFIX || len > ZT_CONTAINER_ID_LEN ||
		    strspn(m->container_id, "0123456789abcdef") != len)
			return fail(l, v[M_CONTAINER_ID],
				    "bad container_id '%s'%s: give %d to %d lowercase hex digits "
				    "(the full id or a prefix, as docker ps shows)",
				    m->container_id, where, ZT_CONTAINER_ID_MIN_PREFIX,
				    ZT_CONTAINER_ID_LEN);
	}
	if (v[M_K8S_NAMESPACE]) {
		ret = copy_str(l, v[M_K8S_NAMESPACE], "k8s_namespace", where, &m->k8s_namespace);
		if (ret)
			return ret;
		if (!*m->k8s_namespace)
			return fail(l, v[M_K8S_NAMESPACE], "empty k8s_namespace%s", where);
	}
	if (v[M_K8S_POD] && (ret = get_glob(l, v[M_K8S_POD], "k8s_pod", where, &m->k8s_pod)))
		return ret;
	if (v[M_K8S_POD_LABEL]) {
		ret = get_str_list(l, v[M_K8S_POD_LABEL], "k8s_pod_label", where,
				   "key=value or a list of them", "key=value", true,
				   &m->k8s_pod_labels, &m->n_k8s_pod_labels, check_label);
		if (ret)
			return ret;
	}
	if (!m->exe && !m->comm && !m->cgroup && !m->container_id && !m->k8s_namespace &&
	    !m->k8s_pod && !m->n_k8s_pod_labels)
		return fail(l, n,
			    "empty match%s: give at least one of exe, comm, cgroup, container_id, "
			    "k8s_namespace, k8s_pod, k8s_pod_label (a rule never selects every "
			    "process)",
			    rule_where);
	return 0;
}

static int load_syscalls(struct loader *l, const yaml_node_t *n, const char *where,
			 struct zt_agent_rule *r)
{
	char **names = NULL;
	size_t count = 0, len = 0;
	int ret;

	if (n->type != YAML_SEQUENCE_NODE)
		return plain_bool(n, &r->syscalls) ? 0
						   : wrong_type(l, n, "syscalls", where,
								"true, false or a list of syscall names");
	ret = get_str_list(l, n, "syscalls", where, NULL, "a syscall name", false, &names, &count,
			   check_syscall);
	if (!ret && !count)
		ret = fail(l, n, "empty 'syscalls' list%s: write syscalls: false to trace none",
			   where);
	for (size_t i = 0; !ret && i < count; i++)
		len += strlen(names[i]) + 1;
	if (!ret) {
		r->syscall_list = calloc(1, len);
		ret = r->syscall_list ? 0 : -ENOMEM;
	}
	for (size_t i = 0; !ret && i < count; i++) {
		if (i)
			strcat(r->syscall_list, ",");
		strcat(r->syscall_list, names[i]);
	}
	if (!ret)
		r->syscalls = true;
	for (size_t i = 0; i < count; i++)
		free(names[i]);
	free(names);
	return ret;
}

/* The value node of mapping n's "name" key when it is a non-empty string, else NULL. */
static const yaml_node_t *name_node(struct loader *l, const yaml_node_t *n)
{
	if (n->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = node_at(l, p->key), *v = node_at(l, p->value);

		if (k->type == YAML_SCALAR_NODE && !strcmp(text_of(k), "name") &&
		    v->type == YAML_SCALAR_NODE && !is_null(v) && *text_of(v))
			return v;
	}
	return NULL;
}

static int load_rule(struct loader *l, const yaml_node_t *n, size_t index, struct zt_agent_rule *r)
{
	const yaml_node_t *name = name_node(l, n);
	char where[WHERE_LEN];
	const char *text;
	yaml_node_t *v[RULE_N];
	int ret;

	if (name)
		snprintf(where, sizeof(where), " in rule '%.*s'", SHOWN_SCALAR, text_of(name));
	else
		snprintf(where, sizeof(where), " in rule #%zu", index + 1);
	r->sample = 1.0;
	r->line = n->start_mark.line + 1;
	ret = read_mapping(l, n, "each rule", where, rule_keys, v);
	if (ret)
		return ret;
	if (!v[RULE_NAME])
		return fail(l, n, "rule #%zu has no name: give each rule a unique 'name'", index + 1);
	ret = copy_str(l, v[RULE_NAME], "name", where, &r->name);
	if (ret)
		return ret;
	if (!*r->name)
		return fail(l, v[RULE_NAME], "empty name in rule #%zu", index + 1);
	for (const char *c = r->name; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return fail(l, v[RULE_NAME], "rule name%s contains a control character",
				    where);
	if (!v[RULE_MATCH])
		return fail(l, n, "rule '%s' has no 'match': say which processes it selects",
			    r->name);
	ret = load_match(l, v[RULE_MATCH], where, &r->match);
	if (ret)
		return ret;
	if (v[RULE_PROBES]) {
		ret = get_str_list(l, v[RULE_PROBES], "probes", where, "a list of probe specs",
				   "a probe spec", false, &r->probes, &r->nprobes, check_probe);
		if (ret)
			return ret;
		for (size_t i = 0; i < r->nprobes; i++)
			for (size_t j = 0; j < i; j++)
				if (!strcmp(r->probes[i], r->probes[j]))
					return fail(l,
						    node_at(l, v[RULE_PROBES]
								   ->data.sequence.items.start[i]),
						    "probe '%s' is listed twice%s", r->probes[i],
						    where);
	}
	if (v[RULE_SYSCALLS] && (ret = load_syscalls(l, v[RULE_SYSCALLS], where, r)))
		return ret;
	if (!r->nprobes && !r->syscalls)
		return fail(l, n, "rule '%s' traces nothing: give it probes, syscalls: true, or both",
			    r->name);
	if (v[RULE_MIN_DURATION] &&
	    (ret = get_duration(l, v[RULE_MIN_DURATION], "min_duration", where,
				&r->min_duration_ns)))
		return ret;
	if (v[RULE_SAMPLE]) {
		char *end;

		ret = scalar(l, v[RULE_SAMPLE], "sample", where, "a fraction in (0, 1]", &text);
		if (ret)
			return ret;
		errno = 0;
		r->sample = strtod(text, &end);
		if (end == text || *end || errno || !isfinite(r->sample) || r->sample <= 0 ||
		    r->sample > 1 || !(isdigit((unsigned char)text[0]) || text[0] == '.'))
			return wrong_type(l, v[RULE_SAMPLE], "sample", where,
					  "a fraction in (0, 1] (1 keeps every root span)");
	}
	if (v[RULE_ERROR_IF]) {
		char msg[256];

		ret = scalar(l, v[RULE_ERROR_IF], "error_if", where, "a rule such as 'ret<0'", &text);
		if (ret)
			return ret;
		if (zt_error_rule_parse(text, &r->error_rule, msg, sizeof(msg)))
			return fail(l, v[RULE_ERROR_IF], "bad error_if%s: %s", where, msg);
		r->has_error_rule = true;
	}
	if (v[RULE_RET32] && (ret = get_bool(l, v[RULE_RET32], "ret32", where, &r->ret32)))
		return ret;
	return 0;
}

static int load_rules(struct loader *l, const yaml_node_t *root, const yaml_node_t *n,
		      struct zt_agent_config *c)
{
	size_t count;
	int ret;

	if (!n)
		return fail(l, root, "no rules: give at least one under 'rules:'");
	if (n->type != YAML_SEQUENCE_NODE)
		return wrong_type(l, n, "rules", "", "a list of rules");
	count = n->data.sequence.items.top - n->data.sequence.items.start;
	if (!count)
		return fail(l, n, "no rules: give at least one under 'rules:'");
	if (count > ZT_AGENT_MAX_RULES)
		return fail(l, n, "%zu rules: at most %d are allowed", count, ZT_AGENT_MAX_RULES);
	c->rules = calloc(count, sizeof(*c->rules));
	if (!c->rules)
		return -ENOMEM;
	for (size_t i = 0; i < count; i++) {
		const yaml_node_t *item = node_at(l, n->data.sequence.items.start[i]);

		c->nrules = i + 1;
		ret = load_rule(l, item, i, &c->rules[i]);
		if (ret)
			return ret;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(c->rules[j].name, c->rules[i].name))
				return fail(l, name_node(l, item),
					    "duplicate rule name '%s' (first at line %u)",
					    c->rules[i].name, c->rules[j].line);
	}
	return 0;
}

/* "k=v,k2=v2" as OTEL_EXPORTER_OTLP_HEADERS: every item has a non-empty key and a '='. */
static int check_headers(struct loader *l, const yaml_node_t *n, const char *headers)
{
	const char *p = headers;

	while (*p) {
		size_t len = strcspn(p, ",");
		size_t klen = strcspn(p, "=");

		if (klen >= len || !klen || strspn(p, " \t") >= klen)
			return fail(l, n,
				    "bad headers in otlp: item '%.*s' is not key=value: write "
				    "key=value,key2=value2",
				    (int)len, p);
		p += len;
		if (*p)
			p++;
	}
	return 0;
}

static int load_otlp(struct loader *l, const yaml_node_t *n, struct zt_agent_otlp *o)
{
	const char *where = " in otlp", *text;
	yaml_node_t *v[OTLP_N];
	char msg[256];
	int ret;

	ret = read_mapping(l, n, "'otlp'", where, otlp_keys, v);
	if (ret)
		return ret;
	if (!v[OTLP_ENDPOINT])
		return fail(l, n, "otlp has no endpoint: give one like http://otel-collector:4318");
	ret = copy_str(l, v[OTLP_ENDPOINT], "endpoint", where, &o->endpoint);
	if (ret)
		return ret;
	if (zt_otlp_check_url(o->endpoint, msg, sizeof(msg)))
		return fail(l, v[OTLP_ENDPOINT], "bad endpoint in otlp: %s", msg);
	if (v[OTLP_PROTOCOL]) {
		bool json;

		ret = scalar(l, v[OTLP_PROTOCOL], "protocol", where, "http/protobuf or http/json",
			     &text);
		if (ret)
			return ret;
		if (zt_otlp_parse_protocol(text, &json, msg, sizeof(msg)))
			return fail(l, v[OTLP_PROTOCOL], "bad protocol in otlp: %s", msg);
		o->json = json;
	}
	if (v[OTLP_HEADERS]) {
		ret = copy_str(l, v[OTLP_HEADERS], "headers", where, &o->headers);
		if (!ret)
			ret = check_headers(l, v[OTLP_HEADERS], o->headers);
		if (ret)
			return ret;
	}
	if (v[OTLP_GZIP]) {
		bool gzip;

		ret = get_bool(l, v[OTLP_GZIP], "gzip", where, &gzip);
		if (ret)
			return ret;
		o->gzip = gzip;
	}
	if (v[OTLP_TIMEOUT]) {
		uint64_t ns;

		ret = get_duration(l, v[OTLP_TIMEOUT], "timeout", where, &ns);
		if (ret)
			return ret;
		if (ns < NS_PER_MS || ns / NS_PER_MS > UINT_MAX)
			return fail(l, v[OTLP_TIMEOUT],
				    "timeout '%s' in otlp is out of range: give 1ms or more",
				    text_of(v[OTLP_TIMEOUT]));
		o->timeout_ms = (unsigned)(ns / NS_PER_MS);
	}
	return 0;
}

static int load_record(struct loader *l, const yaml_node_t *n, struct zt_agent_record *r)
{
	const char *where = " in record";
	yaml_node_t *v[REC_N];
	int ret;

	ret = read_mapping(l, n, "'record'", where, record_keys, v);
	if (ret)
		return ret;
	if (!v[REC_PATH])
		return fail(l, n, "record has no path: give one like /var/lib/ztrace/agent.zt");
	ret = copy_str(l, v[REC_PATH], "path", where, &r->path);
	if (ret)
		return ret;
	if (r->path[0] != '/')
		return fail(l, v[REC_PATH],
			    "record path '%s' must be absolute (the agent runs in /)", r->path);
	if (v[REC_MAX_SIZE] && (ret = get_size(l, v[REC_MAX_SIZE], "max_size", where,
					       ZT_AGENT_MIN_RECORD_SIZE, &r->max_size)))
		return ret;
	if (v[REC_KEEP]) {
		const char *text;
		char *end;
		long keep;

		ret = scalar(l, v[REC_KEEP], "keep", where, "a number of files", &text);
		if (ret)
			return ret;
		errno = 0;
		keep = strtol(text, &end, 10);
		if (end == text || *end || errno || !isdigit((unsigned char)text[0]) ||
		    keep > ZT_AGENT_MAX_RECORD_KEEP)
			return wrong_type(l, v[REC_KEEP], "keep", where,
					  "a number of rotated files from 0 to "
					  "100");
		r->keep = (unsigned)keep;
	}
	return 0;
}

static int load_top(struct loader *l, const yaml_node_t *root, struct zt_agent_config *c)
{
	yaml_node_t *v[TOP_N];
	const char *text;
	int ret;

	ret = read_mapping(l, root, "the config", "", top_keys, v);
	if (ret)
		return ret;
	if (v[TOP_LOG_FORMAT]) {
		ret = scalar(l, v[TOP_LOG_FORMAT], "log_format", "", "logfmt or json", &text);
		if (ret)
			return ret;
		if (strcmp(text, "logfmt") && strcmp(text, "json"))
			return wrong_type(l, v[TOP_LOG_FORMAT], "log_format", "", "logfmt or json");
		c->log_format = strcmp(text, "json") ? ZT_AGENT_LOG_LOGFMT : ZT_AGENT_LOG_JSON;
	}
	if (v[TOP_LOG_LEVEL]) {
		size_t i, n = sizeof(log_levels) / sizeof(log_levels[0]);

		ret = scalar(l, v[TOP_LOG_LEVEL], "log_level", "", "error, warn, info or debug",
			     &text);
		if (ret)
			return ret;
		for (i = 0; i < n && strcmp(text, log_levels[i]); i++)
			;
		if (i == n)
			return wrong_type(l, v[TOP_LOG_LEVEL], "log_level", "",
					  "error, warn, info or debug");
		c->log_level = (enum zt_log_level)i;
	}
	if (v[TOP_MAX_MEMORY] && (ret = get_size(l, v[TOP_MAX_MEMORY], "max_memory", "",
						 ZT_AGENT_MIN_MEMORY, &c->max_memory)))
		return ret;
	if (v[TOP_METRICS_ADDR]) {
		struct sockaddr_storage sa;
		socklen_t salen;
		char msg[256];

		ret = copy_str(l, v[TOP_METRICS_ADDR], "metrics_addr", "", &c->metrics_addr);
		if (ret)
			return ret;
		if (zt_http_parse_addr(c->metrics_addr, &sa, &salen, msg, sizeof(msg)))
			return fail(l, v[TOP_METRICS_ADDR], "bad metrics_addr: %s", msg);
	}
	if (v[TOP_OTLP] && (ret = load_otlp(l, v[TOP_OTLP], &c->otlp)))
		return ret;
	if (v[TOP_RECORD] && (ret = load_record(l, v[TOP_RECORD], &c->record)))
		return ret;
	return load_rules(l, root, v[TOP_RULES], c);
}

/*
 * Read all of path into a NUL-terminated malloc'ed buffer. Returns 0 or -errno with
 * "cannot read PATH: reason" in err.
 */
static int read_file(const char *path, char **buf, size_t *len, char *err, size_t errlen)
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
	if (st.st_size > ZT_AGENT_CONFIG_MAX_BYTES) {
		ret = -EFBIG;
		snprintf(err, errlen, "cannot read %s: it is larger than %u bytes", path,
			 ZT_AGENT_CONFIG_MAX_BYTES);
		goto out;
	}
	/* one byte more than allowed tells a file that grew past the limit since fstat() */
	*buf = malloc(ZT_AGENT_CONFIG_MAX_BYTES + 2);
	if (!*buf) {
		ret = -ENOMEM;
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, *buf + got, ZT_AGENT_CONFIG_MAX_BYTES + 1 - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			goto out;
		}
		if (n == 0)
			break;
		got += n;
		if (got > ZT_AGENT_CONFIG_MAX_BYTES) {
			ret = -EFBIG;
			snprintf(err, errlen, "cannot read %s: it is larger than %u bytes", path,
				 ZT_AGENT_CONFIG_MAX_BYTES);
			goto out;
		}
	}
	(*buf)[got] = '\0';
	*len = got;
out:
	if (ret && ret != -EFBIG)
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
static int yaml_failure(struct loader *l, const yaml_parser_t *p, const char *text)
{
	size_t line = p->problem_mark.line + 1, col = p->problem_mark.column + 1;

	if (p->error == YAML_MEMORY_ERROR)
		return -ENOMEM;
	if (p->error == YAML_READER_ERROR) {
		/* the reader reports a byte offset, not a mark: count lines up to it */
		line = 1;
		col = 1;
		for (size_t i = 0; i < p->problem_offset && text[i]; i++, col++)
			if (text[i] == '\n') {
				line++;
				col = 0;
			}
	}
	if (p->context)
		snprintf(l->err, l->errlen, "%s:%zu:%zu: invalid YAML: %s (%s at line %zu)",
			 l->path, line, col, p->problem ? p->problem : "error", p->context,
			 p->context_mark.line + 1);
	else
		snprintf(l->err, l->errlen, "%s:%zu:%zu: invalid YAML: %s", l->path, line, col,
			 p->problem ? p->problem : "error");
	return -EINVAL;
}

int zt_agent_config_load(const char *path, struct zt_agent_config *out, char *err, size_t errlen)
{
	struct loader l = { .path = path, .err = err, .errlen = errlen };
	yaml_document_t doc, extra;
	bool have_doc = false, have_extra = false;
	yaml_parser_t parser;
	yaml_node_t *root;
	size_t len = 0;
	char *text;
	int ret;

	memset(out, 0, sizeof(*out));
	if (err && errlen)
		err[0] = '\0';
	ret = read_file(path, &text, &len, err, errlen);
	if (ret)
		return ret;
	if (!yaml_parser_initialize(&parser)) {
		free(text);
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	l.doc = &doc;
	if (!yaml_parser_load(&parser, &doc)) {
		ret = yaml_failure(&l, &parser, text);
		goto out;
	}
	have_doc = true;
	root = yaml_document_get_root_node(&doc);
	if (!root) {
		snprintf(err, errlen, "%s:1:1: the config is empty: give at least one rule under "
				      "'rules:'", path);
		ret = -EINVAL;
		goto out;
	}
	if (!yaml_parser_load(&parser, &extra)) {
		ret = yaml_failure(&l, &parser, text);
		goto out;
	}
	have_extra = true;
	if (yaml_document_get_root_node(&extra)) {
		ret = fail(&l, yaml_document_get_root_node(&extra),
			   "a second YAML document: the config is one document (remove the "
			   "'---' line)");
		goto out;
	}

	out->path = strdup(path);
	if (!out->path) {
		ret = -ENOMEM;
		goto out;
	}
	out->log_format = ZT_AGENT_LOG_LOGFMT;
	out->log_level = ZT_LOG_INFO;
	out->max_memory = ZT_AGENT_DEFAULT_MAX_MEMORY;
	out->otlp.json = -1;
	out->otlp.gzip = -1;
	out->record.max_size = ZT_AGENT_DEFAULT_RECORD_MAX_SIZE;
	out->record.keep = ZT_AGENT_DEFAULT_RECORD_KEEP;
	ret = load_top(&l, root, out);
out:
	if (ret == -ENOMEM)
		snprintf(err, errlen, "%s: out of memory", path);
	if (ret)
		zt_agent_config_free(out);
	if (have_extra)
		yaml_document_delete(&extra);
	if (have_doc)
		yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	free(text);
	return ret;
}

static void free_list(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void zt_agent_config_free(struct zt_agent_config *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nrules; i++) {
		struct zt_agent_rule *r = &c->rules[i];

		free(r->name);
		free(r->match.exe);
		free(r->match.comm);
		free(r->match.cgroup);
		free(r->match.container_id);
		free(r->match.k8s_namespace);
		free(r->match.k8s_pod);
		free_list(r->match.k8s_pod_labels, r->match.n_k8s_pod_labels);
		free_list(r->probes, r->nprobes);
		free(r->syscall_list);
	}
	free(c->rules);
	free(c->path);
	free(c->metrics_addr);
	free(c->otlp.endpoint);
	free(c->otlp.headers);
	free(c->record.path);
	memset(c, 0, sizeof(*c));
}
