/* SPDX-License-Identifier: MIT */
/*
 * The agent's running state, shared by agent.c (discovery, matching, attaching) and
 * agent_reload.c (SIGHUP: the per-rule difference between two configs).
 *
 * Each rule's uprobes are attached in a loader group of their own (zt_loader_set_group), so a
 * reload can detach the rules it removes or changes and leave every other attachment alone. A
 * function is attached once, in the group of the first rule that needed it.
 */
#ifndef ZTRACE_AGENT_STATE_H
#define ZTRACE_AGENT_STATE_H

#include "agent_config.h"
#include "session.h"

struct zt_agent {
	struct zt_session s;
	struct zt_options opts; /* what the session reads, made from the config */
	struct zt_agent_config cfg;
	const char *config_path;
	uint32_t *group;     /* [cfg.nrules]: the loader group of each rule's attachments */
	uint32_t next_group; /* groups are never reused: 0 is "none" */
	uint32_t *owner;     /* [ZT_MAX_PROBES]: group that attached the probe, 0 = not attached */
	/* [pid_max]: 1 + index of the rule whose policy pid has, 0 = not traced, -1 = traced
	 * but its rule is gone (a reload, until the process is matched again) */
	int *rule_of;
	size_t pid_max;
	size_t traced;
	bool capture_args; /* the loader has room for captured arguments (a rule had capture) */
	uint64_t execs, selected;
	uint64_t max_memory_flag; /* --max-memory, over the config's; 0 = not given */
};

/* agent.c: match every running process against the rules (attach, set policies, untrace). */
void zt_agent_scan(struct zt_agent *a);

/* agent_reload.c: SIGHUP. A good config replaces the old one rule by rule; a bad one is
 * refused and the old one stays. */
void zt_agent_reload(struct zt_session *s);

#endif
