// SPDX-License-Identifier: MIT
/*
 * Config reload (SIGHUP) as a difference per rule. A rule whose name, selection and probes are
 * unchanged keeps its attachments untouched (its processes see no gap; a new policy, error_if,
 * ret32, min_duration or sample, reaches them by the scan); a removed or changed rule's
 * group of uprobes is detached, and the following scan attaches what the new and changed rules
 * need, including functions a removed rule had attached that a remaining rule also traces
 * (those alone see a gap between the detach and the re-attach). Every process is matched
 * again, so policies follow the new rules and processes no rule selects are no longer traced.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "agent_state.h"
#include "log.h"

/* The index of old's rule named like r, if it attaches the same as r; else -1. */
static long attached_rule(const struct zt_agent_config *old, const struct zt_agent_rule *r)
{
	const struct zt_agent_rule *o = zt_agent_config_find_rule(old, r->name);

	if (!o || !zt_agent_rule_same_probes(o, r))
		return -1;
	return o - old->rules;
}

static bool group_kept(const uint32_t *groups, size_t n, uint32_t g)
{
	for (size_t i = 0; i < n; i++)
		if (groups[i] == g)
			return true;
	return false;
}

/*
 * rule_of[] indexes the old rules: point each traced process at the same-named rule of next,
 * or at -1 (traced, its rule gone) until the scan matches it again. A process that ended
 * before the scan reaches it keeps a valid index for its records still in the ring buffer.
 */
static int remap_processes(struct zt_agent *a, const struct zt_agent_config *next)
{
	int *to = calloc(a->cfg.nrules, sizeof(*to));

	if (!to)
		return -ENOMEM;
	for (size_t i = 0; i < a->cfg.nrules; i++) {
		const struct zt_agent_rule *r =
		    zt_agent_config_find_rule(next, a->cfg.rules[i].name);

		to[i] = r ? (int)(r - next->rules) + 1 : -1;
	}
	for (size_t pid = 0; pid < a->pid_max; pid++)
		if (a->rule_of[pid] > 0)
			a->rule_of[pid] = to[a->rule_of[pid] - 1];
	free(to);
	return 0;
}

void zt_agent_reload(struct zt_session *s)
{
	struct zt_agent *a = s->owner;
	struct zt_agent_config next;
	size_t same = 0, removed = 0;
	uint32_t *groups;
	char err[512];

	if (zt_agent_config_load(a->config_path, &next, err, sizeof(err))) {
		zt_err("config reload refused, the running config stays: %s", err);
		return;
	}
	groups = calloc(next.nrules, sizeof(*groups));
	if (!groups || remap_processes(a, &next)) {
		free(groups);
		zt_err("config reload refused, the running config stays: out of memory");
		zt_agent_config_free(&next);
		return;
	}
	for (size_t i = 0; i < next.nrules; i++) {
		long old = attached_rule(&a->cfg, &next.rules[i]);

		groups[i] = old >= 0 ? a->group[old] : ++a->next_group;
		same += old >= 0;
		if (old >= 0 && !zt_agent_rule_equal(&a->cfg.rules[old], &next.rules[i]))
			zt_info("rule '%s': a new policy for its processes, attachments kept",
				next.rules[i].name);
	}
	for (size_t i = 0; i < a->cfg.nrules; i++) {
		uint32_t g = a->group[i];

		if (group_kept(groups, next.nrules, g))
			continue;
		zt_loader_detach_group(s->loader, g);
		for (size_t id = 0; id < ZT_MAX_PROBES; id++)
			if (a->owner[id] == g)
				a->owner[id] = 0;
		removed++;
		zt_info("rule '%s' removed or its selection or probes changed: its functions are "
			"detached",
			a->cfg.rules[i].name);
	}
	zt_agent_config_free(&a->cfg);
	free(a->group);
	a->cfg = next;
	a->group = groups;
	if (s->metrics)
		zt_metrics_set_retention(s->metrics, a->cfg.metrics_retention_ns);
	if (!a->max_memory_flag)
		s->membudget.max_bytes = a->cfg.max_memory;
	zt_agent_scan(a);
	zt_notice("config reloaded: %zu rules (%zu kept attached, %zu new or with new probes, %zu "
		  "detached), %zu processes traced, %zu functions attached",
		  a->cfg.nrules, same, a->cfg.nrules - same, removed, a->traced,
		  zt_loader_uprobe_count(s->loader));
}
