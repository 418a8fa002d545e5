// SPDX-License-Identifier: MIT
/*
 * What the agent does with a loaded config: match processes against rules, compare rules
 * across a reload, hand the OTLP settings to the exporter. Also the size syntax of the config.
 */
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "agent_config.h"
#include "export_otlp.h"

/* A glob selector: not given matches anything; given, the value must be known and match. */
static bool glob_ok(const char *glob, const char *value)
{
	if (!glob)
		return true;
	return value && fnmatch(glob, value, 0) == 0;
}

/* "key=value" selects that value, "key" any value of key. */
static bool label_present(const char *selector, const struct zt_proc_identity *p)
{
	const char *eq = strchr(selector, '=');
	size_t klen = eq ? (size_t)(eq - selector) : strlen(selector);

	for (size_t i = 0; i < p->n_k8s_pod_labels; i++) {
		const char *label = p->k8s_pod_labels[i];

		if (!label || strncmp(label, selector, klen) || label[klen] != '=')
			continue;
		if (!eq || !strcmp(label + klen + 1, eq + 1))
			return true;
	}
	return false;
}

bool zt_agent_rule_matches(const struct zt_agent_rule *r, const struct zt_proc_identity *p)
{
	const struct zt_agent_match *m = &r->match;

	/* a rule from a config always has a selector; an empty one selects nothing, never all */
	if (!m->exe && !m->comm && !m->cgroup && !m->container_id && !m->k8s_namespace &&
	    !m->k8s_pod && !m->n_k8s_pod_labels)
		return false;
	/* in a container the same file has a host path and a path inside: either may match */
	if (m->exe && !glob_ok(m->exe, p->exe) && !(p->exe_in_ns && glob_ok(m->exe, p->exe_in_ns)))
		return false;
	if (!glob_ok(m->comm, p->comm) || !glob_ok(m->cgroup, p->cgroup) ||
	    !glob_ok(m->k8s_pod, p->k8s_pod))
		return false;
	/* a prefix, as `docker ps` shows 12 digits; a full id is its own prefix */
	if (m->container_id && (!p->container_id ||
				strncmp(p->container_id, m->container_id, strlen(m->container_id))))
		return false;
	if (m->k8s_namespace && (!p->k8s_namespace || strcmp(m->k8s_namespace, p->k8s_namespace)))
		return false;
	for (size_t i = 0; i < m->n_k8s_pod_labels; i++)
		if (!label_present(m->k8s_pod_labels[i], p))
			return false;
	return true;
}

static bool str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static bool list_eq(char *const *a, size_t na, char *const *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (strcmp(a[i], b[i]))
			return false;
	return true;
}

bool zt_agent_rule_same_probes(const struct zt_agent_rule *a, const struct zt_agent_rule *b)
{
	const struct zt_agent_match *ma = &a->match, *mb = &b->match;

	return str_eq(a->name, b->name) && str_eq(ma->exe, mb->exe) && str_eq(ma->comm, mb->comm) &&
	       str_eq(ma->cgroup, mb->cgroup) && str_eq(ma->container_id, mb->container_id) &&
	       str_eq(ma->k8s_namespace, mb->k8s_namespace) && str_eq(ma->k8s_pod, mb->k8s_pod) &&
	       list_eq(ma->k8s_pod_labels, ma->n_k8s_pod_labels, mb->k8s_pod_labels,
		       mb->n_k8s_pod_labels) &&
	       list_eq(a->probes, a->nprobes, b->probes, b->nprobes) &&
	       list_eq(a->captures, a->ncaptures, b->captures, b->ncaptures) &&
	       a->syscalls == b->syscalls && str_eq(a->syscall_list, b->syscall_list);
}

bool zt_agent_rule_equal(const struct zt_agent_rule *a, const struct zt_agent_rule *b)
{
	return zt_agent_rule_same_probes(a, b) && a->min_duration_ns == b->min_duration_ns &&
	       a->sample == b->sample && a->has_error_rule == b->has_error_rule &&
	       (!a->has_error_rule || (a->error_rule.op == b->error_rule.op &&
				       a->error_rule.value == b->error_rule.value)) &&
	       a->ret32 == b->ret32;
}

const struct zt_agent_rule *zt_agent_config_find_rule(const struct zt_agent_config *c,
						      const char *name)
{
	for (size_t i = 0; i < c->nrules; i++)
		if (!strcmp(c->rules[i].name, name))
			return &c->rules[i];
	return NULL;
}

void zt_agent_otlp_apply(const struct zt_agent_config *c, struct zt_otlp_config *o)
{
	if (c->otlp.endpoint) {
		o->endpoint = c->otlp.endpoint;
		/* a base URL, as OTEL_EXPORTER_OTLP_ENDPOINT: /v1/traces is appended if missing */
		o->endpoint_exact = false;
	}
	if (c->otlp.json >= 0)
		o->json = c->otlp.json;
	if (c->otlp.gzip >= 0)
		o->gzip = c->otlp.gzip;
	if (c->otlp.headers)
		o->headers = c->otlp.headers;
	if (c->otlp.timeout_ms)
		o->timeout_ms = c->otlp.timeout_ms;
}

bool zt_agent_rule_selects_file(const struct zt_agent_rule *r, const char *exe)
{
	const struct zt_agent_match *m = &r->match;

	return m->exe && !m->comm && !m->cgroup && !m->container_id && !m->k8s_namespace &&
	       !m->k8s_pod && m->n_k8s_pod_labels == 0 && glob_ok(m->exe, exe);
}
