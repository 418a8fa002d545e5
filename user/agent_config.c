// SPDX-License-Identifier: MIT
/*
 * Loading the agent's config: the schema below, walked over the libyaml document with the
 * helpers of yaml_schema.h, checks every key and copies the values out.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_config.h"
#include "capture_spec.h"
#include "cli.h"
#include "export_otlp.h"
#include "governor.h"
#include "http_server.h"
#include "k8s_pod.h"
#include "probe_spec.h"
#include "syscall_names.h"
#include "yaml_schema.h"
#include "ztrace/limits.h"

/* Room for " in the match of rule '<name>'" and similar context in messages. */
#define WHERE_LEN 128
#define NS_PER_MS 1000000ull
/* Room for a message from a module a check delegates to (probe specs, URLs, addresses). */
#define MSG_LEN 256

#define SIZE_UNITS "B, KiB, MiB, GiB, TiB, KB, MB, GB or TB"

static const char *const top_keys[] = {
    "log_format", "log_level",	  "max_memory", "metrics_addr",	     "otlp", "probe_budget",
    "record",	  "k8s_pods_dir", "rules",	"metrics_retention", NULL};
enum {
	TOP_LOG_FORMAT,
	TOP_LOG_LEVEL,
	TOP_MAX_MEMORY,
	TOP_METRICS_ADDR,
	TOP_OTLP,
	TOP_PROBE_BUDGET,
	TOP_RECORD,
	TOP_K8S_PODS_DIR,
	TOP_RULES,
	TOP_METRICS_RETENTION,
	TOP_N
};

static const char *const otlp_keys[] = {"endpoint", "protocol", "headers", "gzip", "timeout", NULL};
enum { OTLP_ENDPOINT, OTLP_PROTOCOL, OTLP_HEADERS, OTLP_GZIP, OTLP_TIMEOUT, OTLP_N };

static const char *const record_keys[] = {"path", "max_size", "keep", NULL};
enum { REC_PATH, REC_MAX_SIZE, REC_KEEP, REC_N };

static const char *const rule_keys[] = {"name",	  "match",    "probes", "syscalls", "min_duration",
					"sample", "error_if", "ret32",	"capture",  NULL};
enum {
	RULE_NAME,
	RULE_MATCH,
	RULE_PROBES,
	RULE_SYSCALLS,
	RULE_MIN_DURATION,
	RULE_SAMPLE,
	RULE_ERROR_IF,
	RULE_RET32,
	RULE_CAPTURE,
	RULE_N
};

static const char *const match_keys[] = {
    "exe", "comm", "cgroup", "container_id", "k8s_namespace", "k8s_pod", "k8s_pod_label", NULL};
enum { M_EXE, M_COMM, M_CGROUP, M_CONTAINER_ID, M_K8S_NAMESPACE, M_K8S_POD, M_K8S_POD_LABEL, M_N };

_Static_assert(TOP_N <= ZT_YAML_MAX_KEYS && OTLP_N <= ZT_YAML_MAX_KEYS &&
		   REC_N <= ZT_YAML_MAX_KEYS && RULE_N <= ZT_YAML_MAX_KEYS &&
		   M_N <= ZT_YAML_MAX_KEYS,
	       "a key table outgrew ZT_YAML_MAX_KEYS");

static const struct {
	const char *name;
	enum zt_log_level level;
} log_levels[] = {
    {"error", ZT_LOG_ERROR}, {"warn", ZT_LOG_WARN},   {"notice", ZT_LOG_NOTICE},
    {"info", ZT_LOG_INFO},   {"debug", ZT_LOG_DEBUG},
};
#define LOG_LEVEL_NAMES "error, warn, notice, info or debug"

static int get_size(struct zt_yaml *y, const yaml_node_t *n, const char *key, const char *where,
		    uint64_t min, uint64_t *out)
{
	const char *text = NULL;
	int ret = zt_yaml_scalar(y, n, key, where, "a size such as 64MiB", &text);

	if (ret)
		return ret;
	ret = zt_parse_size(text, out);
	if (ret == -ERANGE)
		return zt_yaml_fail(y, n, "'%s'%s is too large: '%s'", key, where, text);
	if (ret)
		return zt_yaml_fail(
		    y, n, "bad %s '%s'%s: expected bytes with an optional unit (%s), e.g. 64MiB",
		    key, text, where, SIZE_UNITS);
	if (*out < min)
		return zt_yaml_fail(y, n, "%s '%s'%s is too small: give at least %lluKiB", key,
				    text, where, (unsigned long long)(min >> 10));
	return 0;
}

/* probe_budget: the overhead governor's budget per probe (user/governor.h), or "off". */
static int get_probe_budget(struct zt_yaml *y, const yaml_node_t *n, struct zt_agent_config *c)
{
	const char *text = NULL;
	char msg[MSG_LEN];
	int ret = zt_yaml_scalar(y, n, "probe_budget", "", "a percentage such as 2% or off", &text);

	if (ret)
		return ret;
	if (strcmp(text, "off") == 0) {
		c->probe_budget_ns = 0;
		return 0;
	}
	if (zt_parse_probe_budget(text, &c->probe_budget_ns, msg, sizeof(msg)))
		return zt_yaml_fail(y, n, "%s", msg);
	return 0;
}

static int get_duration(struct zt_yaml *y, const yaml_node_t *n, const char *key, const char *where,
			uint64_t *ns)
{
	const char *text = NULL;
	int ret = zt_yaml_scalar(y, n, key, where, "a duration such as 2ms", &text);

	if (ret)
		return ret;
	/* strtod() also reads "nan", "inf" and hex floats: a duration starts with a digit */
	if ((!isdigit((unsigned char)text[0]) && text[0] != '.') || zt_parse_duration(text, ns))
		return zt_yaml_fail(
		    y, n,
		    "bad %s '%s'%s: expected a number with a unit ns, us, ms or s, e.g. "
		    "500us or 2ms",
		    key, text, where);
	return 0;
}

static int check_probe(struct zt_yaml *y, const yaml_node_t *n, const char *where)
{
	struct zt_probe_spec spec;
	char msg[MSG_LEN];

	if (zt_probe_spec_parse(zt_yaml_text(n), &spec, msg, sizeof(msg)))
		return zt_yaml_fail(y, n, "bad probe%s: %s", where, msg);
	zt_probe_spec_free(&spec);
	return 0;
}

static int check_capture(struct zt_yaml *y, const yaml_node_t *n, const char *where)
{
	const char *text = zt_yaml_text(n);
	struct zt_capture_spec spec;
	char msg[MSG_LEN], cli[MSG_LEN];
	int ret = zt_capture_spec_parse(text, &spec, msg, sizeof(msg));
	size_t skip;

	if (!ret)
		zt_capture_spec_free(&spec);
	if (ret != -EINVAL)
		return ret;
	/* the parser speaks of the command line's --capture: say the reason only */
	snprintf(cli, sizeof(cli), "bad --capture '%s': ", text);
	skip = strncmp(msg, cli, strlen(cli)) ? 0 : strlen(cli);
	return zt_yaml_fail(y, n, "bad capture '%s'%s: %s", text, where, msg + skip);
}

static int check_syscall(struct zt_yaml *y, const yaml_node_t *n, const char *where)
{
	if (zt_syscall_nr(zt_yaml_text(n)) < 0)
		return zt_yaml_fail(
		    y, n, "unknown syscall '%s'%s (names as in syscalls(2): read, openat...)",
		    zt_yaml_text(n), where);
	return 0;
}

/* "key=value" or "key": a Kubernetes label key is never empty and has no blanks. */
static int check_label(struct zt_yaml *y, const yaml_node_t *n, const char *where)
{
	const char *t = zt_yaml_text(n);
	size_t klen = strcspn(t, "=");

	if (!klen || strcspn(t, " \t") < strlen(t))
		return zt_yaml_fail(
		    y, n, "bad k8s_pod_label '%s'%s: write key=value (or key for any value)", t,
		    where);
	return 0;
}

static int get_glob(struct zt_yaml *y, const yaml_node_t *n, const char *key, const char *where,
		    char **out)
{
	char msg[MSG_LEN];
	int ret = zt_yaml_strdup(y, n, key, where, out);

	if (ret)
		return ret;
	if (!zt_glob_is_valid(*out, msg, sizeof(msg)))
		return zt_yaml_fail(y, n, "bad %s glob%s: %s", key, where, msg);
	return 0;
}

static bool has_glob_chars(const char *s)
{
	return strpbrk(s, "*?[\\") != NULL;
}

static int load_match(struct zt_yaml *y, const yaml_node_t *n, const char *rule_where,
		      struct zt_agent_match *m)
{
	char where[WHERE_LEN + sizeof(" the match of")];
	yaml_node_t *v[M_N];
	int ret;

	/* " in rule 'x'" becomes " in the match of rule 'x'" */
	snprintf(where, sizeof(where), " in the match of%s", rule_where + strlen(" in"));
	ret = zt_yaml_mapping(y, n, "'match'", where, match_keys, v);
	if (ret)
		return ret;
	if (v[M_EXE] && (ret = get_glob(y, v[M_EXE], "exe", where, &m->exe)))
		return ret;
	if (v[M_COMM] && (ret = get_glob(y, v[M_COMM], "comm", where, &m->comm)))
		return ret;
	if (m->comm && !has_glob_chars(m->comm) && strlen(m->comm) > ZT_COMM_LEN - 1)
		return zt_yaml_fail(
		    y, v[M_COMM],
		    "comm '%s'%s can never match: the kernel keeps the first %d characters "
		    "of a process name (write '%.*s' or match on exe)",
		    m->comm, where, ZT_COMM_LEN - 1, ZT_COMM_LEN - 1, m->comm);
	if (v[M_CGROUP] && (ret = get_glob(y, v[M_CGROUP], "cgroup", where, &m->cgroup)))
		return ret;
	if (v[M_CONTAINER_ID]) {
		size_t len;

		ret = zt_yaml_strdup(y, v[M_CONTAINER_ID], "container_id", where, &m->container_id);
		if (ret)
			return ret;
		len = strlen(m->container_id);
		if (len < ZT_CONTAINER_ID_MIN_PREFIX || len > ZT_CONTAINER_ID_LEN ||
		    strspn(m->container_id, "0123456789abcdef") != len)
			return zt_yaml_fail(
			    y, v[M_CONTAINER_ID],
			    "bad container_id '%s'%s: give %d to %d lowercase hex digits "
			    "(the full id or a prefix, as docker ps shows)",
			    m->container_id, where, ZT_CONTAINER_ID_MIN_PREFIX,
			    ZT_CONTAINER_ID_LEN);
	}
	if (v[M_K8S_NAMESPACE]) {
		ret = zt_yaml_strdup(y, v[M_K8S_NAMESPACE], "k8s_namespace", where,
				     &m->k8s_namespace);
		if (ret)
			return ret;
		if (!*m->k8s_namespace)
			return zt_yaml_fail(y, v[M_K8S_NAMESPACE], "empty k8s_namespace%s", where);
	}
	if (v[M_K8S_POD] && (ret = get_glob(y, v[M_K8S_POD], "k8s_pod", where, &m->k8s_pod)))
		return ret;
	if (v[M_K8S_POD_LABEL]) {
		ret = zt_yaml_str_list(y, v[M_K8S_POD_LABEL], "k8s_pod_label", where,
				       "key=value or a list of them", "key=value", true,
				       &m->k8s_pod_labels, &m->n_k8s_pod_labels, check_label);
		if (ret)
			return ret;
	}
	if (!m->exe && !m->comm && !m->cgroup && !m->container_id && !m->k8s_namespace &&
	    !m->k8s_pod && !m->n_k8s_pod_labels)
		return zt_yaml_fail(
		    y, n,
		    "empty match%s: give at least one of exe, comm, cgroup, container_id, "
		    "k8s_namespace, k8s_pod, k8s_pod_label (a rule never selects every "
		    "process)",
		    rule_where);
	return 0;
}

static int load_syscalls(struct zt_yaml *y, const yaml_node_t *n, const char *where,
			 struct zt_agent_rule *r)
{
	char **names = NULL;
	size_t count = 0, len = 0;
	int ret;

	if (n->type != YAML_SEQUENCE_NODE)
		return zt_yaml_plain_bool(n, &r->syscalls)
			   ? 0
			   : zt_yaml_wrong_type(y, n, "syscalls", where,
						"true, false or a list of syscall names");
	ret = zt_yaml_str_list(y, n, "syscalls", where, NULL, "a syscall name", false, &names,
			       &count, check_syscall);
	if (!ret && !count)
		ret = zt_yaml_fail(
		    y, n, "empty 'syscalls' list%s: write syscalls: false to trace none", where);
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
static const yaml_node_t *name_node(struct zt_yaml *y, const yaml_node_t *n)
{
	if (n->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = zt_yaml_node(y, p->key), *v = zt_yaml_node(y, p->value);

		if (k->type == YAML_SCALAR_NODE && !strcmp(zt_yaml_text(k), "name") &&
		    v->type == YAML_SCALAR_NODE && !zt_yaml_is_null(v) && *zt_yaml_text(v))
			return v;
	}
	return NULL;
}

static int load_rule(struct zt_yaml *y, const yaml_node_t *n, size_t index, struct zt_agent_rule *r)
{
	const yaml_node_t *name = name_node(y, n);
	char where[WHERE_LEN];
	const char *text;
	yaml_node_t *v[RULE_N];
	int ret;

	if (name)
		snprintf(where, sizeof(where), " in rule '%.*s'", ZT_YAML_SHOWN,
			 zt_yaml_text(name));
	else
		snprintf(where, sizeof(where), " in rule #%zu", index + 1);
	r->sample = 1.0;
	r->line = n->start_mark.line + 1;
	ret = zt_yaml_mapping(y, n, "each rule", where, rule_keys, v);
	if (ret)
		return ret;
	if (!v[RULE_NAME])
		return zt_yaml_fail(y, n, "rule #%zu has no name: give each rule a unique 'name'",
				    index + 1);
	ret = zt_yaml_strdup(y, v[RULE_NAME], "name", where, &r->name);
	if (ret)
		return ret;
	if (!*r->name)
		return zt_yaml_fail(y, v[RULE_NAME], "empty name in rule #%zu", index + 1);
	for (const char *c = r->name; *c; c++)
		if (iscntrl((unsigned char)*c))
			return zt_yaml_fail(y, v[RULE_NAME],
					    "rule name%s contains a control character", where);
	if (!v[RULE_MATCH])
		return zt_yaml_fail(
		    y, n, "rule '%s' has no 'match': say which processes it selects", r->name);
	ret = load_match(y, v[RULE_MATCH], where, &r->match);
	if (ret)
		return ret;
	if (v[RULE_PROBES]) {
		ret = zt_yaml_str_list(y, v[RULE_PROBES], "probes", where, "a list of probe specs",
				       "a probe spec", false, &r->probes, &r->nprobes, check_probe);
		if (ret)
			return ret;
		for (size_t i = 0; i < r->nprobes; i++)
			for (size_t j = 0; j < i; j++)
				if (!strcmp(r->probes[i], r->probes[j]))
					return zt_yaml_fail(
					    y,
					    zt_yaml_node(
						y, v[RULE_PROBES]->data.sequence.items.start[i]),
					    "probe '%s' is listed twice%s", r->probes[i], where);
	}
	if (v[RULE_SYSCALLS] && (ret = load_syscalls(y, v[RULE_SYSCALLS], where, r)))
		return ret;
	if (!r->nprobes && !r->syscalls)
		return zt_yaml_fail(
		    y, n, "rule '%s' traces nothing: give it probes, syscalls: true, or both",
		    r->name);
	if (v[RULE_MIN_DURATION] && (ret = get_duration(y, v[RULE_MIN_DURATION], "min_duration",
							where, &r->min_duration_ns)))
		return ret;
	if (v[RULE_SAMPLE]) {
		char *end;

		ret = zt_yaml_scalar(y, v[RULE_SAMPLE], "sample", where, "a fraction in (0, 1]",
				     &text);
		if (ret)
			return ret;
		errno = 0;
		r->sample = strtod(text, &end);
		if (end == text || *end || errno || !isfinite(r->sample) || r->sample <= 0 ||
		    r->sample > 1 || !(isdigit((unsigned char)text[0]) || text[0] == '.'))
			return zt_yaml_wrong_type(y, v[RULE_SAMPLE], "sample", where,
						  "a fraction in (0, 1] (1 keeps every root span)");
	}
	if (v[RULE_ERROR_IF]) {
		char msg[MSG_LEN];

		ret = zt_yaml_scalar(y, v[RULE_ERROR_IF], "error_if", where,
				     "a rule such as 'ret<0'", &text);
		if (ret)
			return ret;
		if (zt_error_rule_parse(text, &r->error_rule, msg, sizeof(msg)))
			return zt_yaml_fail(y, v[RULE_ERROR_IF], "bad error_if%s: %s", where, msg);
		r->has_error_rule = true;
	}
	if (v[RULE_RET32] && (ret = zt_yaml_bool(y, v[RULE_RET32], "ret32", where, &r->ret32)))
		return ret;
	if (v[RULE_CAPTURE] &&
	    (ret = zt_yaml_str_list(y, v[RULE_CAPTURE], "capture", where, "a list of capture specs",
				    "a capture spec", false, &r->captures, &r->ncaptures,
				    check_capture)))
		return ret;
	return 0;
}

static int load_rules(struct zt_yaml *y, const yaml_node_t *root, const yaml_node_t *n,
		      struct zt_agent_config *c)
{
	size_t count;
	int ret;

	if (!n)
		return zt_yaml_fail(y, root, "no rules: give at least one under 'rules:'");
	if (n->type != YAML_SEQUENCE_NODE)
		return zt_yaml_wrong_type(y, n, "rules", "", "a list of rules");
	count = n->data.sequence.items.top - n->data.sequence.items.start;
	if (!count)
		return zt_yaml_fail(y, n, "no rules: give at least one under 'rules:'");
	if (count > ZT_AGENT_MAX_RULES)
		return zt_yaml_fail(y, n, "%zu rules: at most %d are allowed", count,
				    ZT_AGENT_MAX_RULES);
	c->rules = calloc(count, sizeof(*c->rules));
	if (!c->rules)
		return -ENOMEM;
	for (size_t i = 0; i < count; i++) {
		const yaml_node_t *item = zt_yaml_node(y, n->data.sequence.items.start[i]);

		c->nrules = i + 1;
		ret = load_rule(y, item, i, &c->rules[i]);
		if (ret)
			return ret;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(c->rules[j].name, c->rules[i].name))
				return zt_yaml_fail(y, name_node(y, item),
						    "duplicate rule name '%s' (first at line %u)",
						    c->rules[i].name, c->rules[j].line);
	}
	return 0;
}

/* "k=v,k2=v2" as OTEL_EXPORTER_OTLP_HEADERS: every item has a non-empty key and a '='. */
static int check_headers(struct zt_yaml *y, const yaml_node_t *n, const char *headers)
{
	const char *p = headers;

	while (*p) {
		size_t len = strcspn(p, ",");
		size_t klen = strcspn(p, "=");

		if (klen >= len || !klen || strspn(p, " \t") >= klen)
			return zt_yaml_fail(
			    y, n,
			    "bad headers in otlp: item '%.*s' is not key=value: write "
			    "key=value,key2=value2",
			    (int)len, p);
		p += len;
		if (*p)
			p++;
	}
	return 0;
}

static int load_otlp(struct zt_yaml *y, const yaml_node_t *n, struct zt_agent_otlp *o)
{
	const char *where = " in otlp", *text;
	yaml_node_t *v[OTLP_N];
	char msg[MSG_LEN];
	int ret;

	ret = zt_yaml_mapping(y, n, "'otlp'", where, otlp_keys, v);
	if (ret)
		return ret;
	if (!v[OTLP_ENDPOINT])
		return zt_yaml_fail(
		    y, n, "otlp has no endpoint: give one like http://otel-collector:4318");
	ret = zt_yaml_strdup(y, v[OTLP_ENDPOINT], "endpoint", where, &o->endpoint);
	if (ret)
		return ret;
	if (zt_otlp_check_url(o->endpoint, msg, sizeof(msg)))
		return zt_yaml_fail(y, v[OTLP_ENDPOINT], "bad endpoint in otlp: %s", msg);
	if (v[OTLP_PROTOCOL]) {
		bool json;

		ret = zt_yaml_scalar(y, v[OTLP_PROTOCOL], "protocol", where,
				     "http/protobuf or http/json", &text);
		if (ret)
			return ret;
		if (zt_otlp_parse_protocol(text, &json, msg, sizeof(msg)))
			return zt_yaml_fail(y, v[OTLP_PROTOCOL], "bad protocol in otlp: %s", msg);
		o->json = json;
	}
	if (v[OTLP_HEADERS]) {
		ret = zt_yaml_strdup(y, v[OTLP_HEADERS], "headers", where, &o->headers);
		if (!ret)
			ret = check_headers(y, v[OTLP_HEADERS], o->headers);
		if (ret)
			return ret;
	}
	if (v[OTLP_GZIP]) {
		bool gzip;

		ret = zt_yaml_bool(y, v[OTLP_GZIP], "gzip", where, &gzip);
		if (ret)
			return ret;
		o->gzip = gzip;
	}
	if (v[OTLP_TIMEOUT]) {
		uint64_t ns;

		ret = get_duration(y, v[OTLP_TIMEOUT], "timeout", where, &ns);
		if (ret)
			return ret;
		if (ns < NS_PER_MS || ns / NS_PER_MS > UINT_MAX)
			return zt_yaml_fail(
			    y, v[OTLP_TIMEOUT],
			    "timeout '%s' in otlp is out of range: give 1ms or more",
			    zt_yaml_text(v[OTLP_TIMEOUT]));
		o->timeout_ms = (unsigned)(ns / NS_PER_MS);
	}
	return 0;
}

static int load_record(struct zt_yaml *y, const yaml_node_t *n, struct zt_agent_record *r)
{
	const char *where = " in record";
	yaml_node_t *v[REC_N];
	int ret;

	ret = zt_yaml_mapping(y, n, "'record'", where, record_keys, v);
	if (ret)
		return ret;
	if (!v[REC_PATH])
		return zt_yaml_fail(y, n,
				    "record has no path: give one like /var/lib/ztrace/agent.zt");
	ret = zt_yaml_strdup(y, v[REC_PATH], "path", where, &r->path);
	if (ret)
		return ret;
	if (r->path[0] != '/')
		return zt_yaml_fail(y, v[REC_PATH],
				    "record path '%s' must be absolute (the agent runs in /)",
				    r->path);
	if (v[REC_MAX_SIZE] && (ret = get_size(y, v[REC_MAX_SIZE], "max_size", where,
					       ZT_AGENT_MIN_RECORD_SIZE, &r->max_size)))
		return ret;
	if (v[REC_KEEP]) {
		const char *text;
		char *end;
		long keep;

		ret = zt_yaml_scalar(y, v[REC_KEEP], "keep", where, "a number of files", &text);
		if (ret)
			return ret;
		errno = 0;
		keep = strtol(text, &end, 10);
		if (end == text || *end || errno || !isdigit((unsigned char)text[0]) ||
		    keep > ZT_AGENT_MAX_RECORD_KEEP)
			return zt_yaml_wrong_type(y, v[REC_KEEP], "keep", where,
						  "a number of rotated files from 0 to "
						  "100");
		r->keep = (unsigned)keep;
	}
	return 0;
}

static int load_top(struct zt_yaml *y, const yaml_node_t *root, struct zt_agent_config *c)
{
	yaml_node_t *v[TOP_N];
	const char *text;
	int ret;

	ret = zt_yaml_mapping(y, root, "the config", "", top_keys, v);
	if (ret)
		return ret;
	if (v[TOP_LOG_FORMAT]) {
		ret =
		    zt_yaml_scalar(y, v[TOP_LOG_FORMAT], "log_format", "", "logfmt or json", &text);
		if (ret)
			return ret;
		if (strcmp(text, "logfmt") && strcmp(text, "json"))
			return zt_yaml_wrong_type(y, v[TOP_LOG_FORMAT], "log_format", "",
						  "logfmt or json");
		c->log_format = strcmp(text, "json") ? ZT_AGENT_LOG_LOGFMT : ZT_AGENT_LOG_JSON;
	}
	if (v[TOP_LOG_LEVEL]) {
		size_t i, n = sizeof(log_levels) / sizeof(log_levels[0]);

		ret = zt_yaml_scalar(y, v[TOP_LOG_LEVEL], "log_level", "", LOG_LEVEL_NAMES, &text);
		if (ret)
			return ret;
		for (i = 0; i < n && strcmp(text, log_levels[i].name); i++)
			;
		if (i == n)
			return zt_yaml_wrong_type(y, v[TOP_LOG_LEVEL], "log_level", "",
						  LOG_LEVEL_NAMES);
		c->log_level = log_levels[i].level;
	}
	if (v[TOP_MAX_MEMORY] && (ret = get_size(y, v[TOP_MAX_MEMORY], "max_memory", "",
						 ZT_AGENT_MIN_MEMORY, &c->max_memory)))
		return ret;
	if (v[TOP_METRICS_ADDR]) {
		struct sockaddr_storage sa;
		socklen_t salen;
		char msg[MSG_LEN];

		ret = zt_yaml_strdup(y, v[TOP_METRICS_ADDR], "metrics_addr", "", &c->metrics_addr);
		if (ret)
			return ret;
		if (zt_http_parse_addr(c->metrics_addr, &sa, &salen, msg, sizeof(msg)))
			return zt_yaml_fail(y, v[TOP_METRICS_ADDR], "bad metrics_addr: %s", msg);
	}
	if (v[TOP_PROBE_BUDGET] && (ret = get_probe_budget(y, v[TOP_PROBE_BUDGET], c)))
		return ret;
	if (v[TOP_OTLP] && (ret = load_otlp(y, v[TOP_OTLP], &c->otlp)))
		return ret;
	if (v[TOP_RECORD] && (ret = load_record(y, v[TOP_RECORD], &c->record)))
		return ret;
	if (v[TOP_K8S_PODS_DIR]) {
		free(c->k8s_pods_dir);
		c->k8s_pods_dir = NULL;
		ret = zt_yaml_strdup(y, v[TOP_K8S_PODS_DIR], "k8s_pods_dir", "", &c->k8s_pods_dir);
		if (ret)
			return ret;
		if (c->k8s_pods_dir[0] != '/')
			return zt_yaml_fail(
			    y, v[TOP_K8S_PODS_DIR],
			    "k8s_pods_dir '%s' must be absolute (the agent runs in /)",
			    c->k8s_pods_dir);
	}
	if (v[TOP_METRICS_RETENTION]) {
		ret = get_duration(y, v[TOP_METRICS_RETENTION], "metrics_retention", "",
				   &c->metrics_retention_ns);
		if (ret)
			return ret;
		if (c->metrics_retention_ns < ZT_METRICS_MIN_RETENTION_NS ||
		    c->metrics_retention_ns > ZT_METRICS_MAX_RETENTION_NS)
			return zt_yaml_fail(
			    y, v[TOP_METRICS_RETENTION],
			    "metrics_retention '%s' is out of range: give 1s to 300s",
			    zt_yaml_text(v[TOP_METRICS_RETENTION]));
	}
	return load_rules(y, root, v[TOP_RULES], c);
}

/* Fill *out from the parsed document y (of path); out is zeroed. */
static int load_document(struct zt_yaml *y, const char *path, struct zt_agent_config *out,
			 char *err, size_t errlen)
{
	yaml_node_t *root = zt_yaml_root(y);

	if (!root) {
		snprintf(err, errlen,
			 "%s:1:1: the config is empty: give at least one rule under 'rules:'",
			 path);
		return -EINVAL;
	}
	out->path = strdup(path);
	if (!out->path)
		return -ENOMEM;
	out->log_format = ZT_AGENT_LOG_LOGFMT;
	out->log_level = ZT_LOG_INFO;
	out->max_memory = ZT_AGENT_DEFAULT_MAX_MEMORY;
	out->metrics_retention_ns = (uint64_t)ZT_METRICS_EXITED_LINGER_S * 1000000000ull;
	out->probe_budget_ns = ZT_GOVERNOR_DEFAULT_BUDGET_NS;
	out->otlp.json = -1;
	out->otlp.gzip = -1;
	out->record.max_size = ZT_AGENT_DEFAULT_RECORD_MAX_SIZE;
	out->record.keep = ZT_AGENT_DEFAULT_RECORD_KEEP;
	out->k8s_pods_dir = strdup(ZT_K8S_PODS_DIR_DEFAULT);
	if (!out->k8s_pods_dir)
		return -ENOMEM;
	return load_top(y, root, out);
}

/* Finish a load: fill *out from y (of path) when opening it gave ret 0, then close y. */
static int finish_load(struct zt_yaml *y, int ret, const char *path, struct zt_agent_config *out,
		       char *err, size_t errlen)
{
	if (!ret)
		ret = load_document(y, path, out, err, errlen);
	if (ret == -ENOMEM)
		snprintf(err, errlen, "%s: out of memory", path);
	if (ret)
		zt_agent_config_free(out);
	zt_yaml_close(y);
	return ret;
}

int zt_agent_config_load(const char *path, struct zt_agent_config *out, char *err, size_t errlen)
{
	struct zt_yaml y;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = zt_yaml_open(&y, path, ZT_AGENT_CONFIG_MAX_BYTES, err, errlen);
	return finish_load(&y, ret, path, out, err, errlen);
}

int zt_agent_config_parse(const char *name, const char *text, size_t len,
			  struct zt_agent_config *out, char *err, size_t errlen)
{
	struct zt_yaml y;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = zt_yaml_parse(&y, name, text, len, err, errlen);
	return finish_load(&y, ret, name, out, err, errlen);
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
		free_list(r->captures, r->ncaptures);
	}
	free(c->rules);
	free(c->path);
	free(c->metrics_addr);
	free(c->otlp.endpoint);
	free(c->otlp.headers);
	free(c->record.path);
	free(c->k8s_pods_dir);
	memset(c, 0, sizeof(*c));
}
