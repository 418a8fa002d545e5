// SPDX-License-Identifier: MIT
#include <stdlib.h>
#include <bpf/bpf.h>
#include "aggs.h"
#include "collect.h"
#include "syscall_names.h"

enum scope { ALL_LIVE, ONE_PROCESS_FINAL, ALL_FINAL };

static void to_metrics(struct zt_collect *c, const struct zt_agg_entry *e)
{
	const struct zt_process_info *pi;
	uint32_t id = e->key.probe_id;

	if (!c->metrics)
		return;
	pi = zt_proctable_get(c->procs, e->key.tgid, NULL, NULL);
	if (!pi)
		return;
	if (pi->container_id || pi->k8s_namespace) {
		struct zt_metrics_container mc = {pi->container_id, pi->k8s_namespace,
						  pi->k8s_pod_name};

		zt_metrics_set_container(c->metrics, pi->pid, pi->start_time, pi->comm, &mc);
	}
	if (id >= ZT_AGG_SYSCALL_BASE) {
		zt_metrics_set_syscall(c->metrics, pi->pid, pi->start_time, pi->comm,
				       (int)(id - ZT_AGG_SYSCALL_BASE), &e->val);
	} else {
		const struct zt_probe *p = zt_probes_get(c->probes, id);

		if (p)
			zt_metrics_set_function(c->metrics, pi->pid, pi->start_time, pi->comm,
						p->name, p->binary, &e->val);
	}
}

static void to_summary(struct zt_collect *c, const struct zt_agg_entry *e)
{
	uint32_t id = e->key.probe_id;
	const struct zt_probe *p;
	const char *name;

	if (id >= ZT_AGG_SYSCALL_BASE) {
		if (!c->syscalls)
			return;
		name = zt_syscall_name((int)(id - ZT_AGG_SYSCALL_BASE));
		zt_summary_add_agg(c->summary, ZT_KIND_SYSCALL, name ? name : "?", NULL, &e->val);
		zt_summary_add_agg(c->exact, ZT_KIND_SYSCALL, name ? name : "?", NULL, &e->val);
		return;
	}
	/* the summary has functions from their spans; the exact one from the kernel's counts */
	p = zt_probes_get(c->probes, id);
	if (p)
		zt_summary_add_agg(c->exact, p->kind, p->name, p->binary, &e->val);
}

static void collect(struct zt_collect *c, enum scope scope, uint32_t pid)
{
	int aggs_fd = zt_loader_aggs_fd(c->loader), errnos_fd = zt_loader_errnos_fd(c->loader);
	struct zt_agg_entry *aggs = NULL;
	struct zt_errno_entry *errs = NULL;
	size_t naggs = 0, nerrs = 0;

	if (zt_aggs_read(aggs_fd, &aggs, &naggs))
		return;
	for (size_t i = 0; i < naggs; i++) {
		if (scope == ONE_PROCESS_FINAL && aggs[i].key.tgid != pid)
			continue;
		to_metrics(c, &aggs[i]);
		if (scope == ALL_LIVE)
			continue;
		to_summary(c, &aggs[i]);
		if (scope == ONE_PROCESS_FINAL)
			bpf_map_delete_elem(aggs_fd, &aggs[i].key);
	}
	if (scope != ALL_LIVE && errnos_fd >= 0 && zt_errnos_read(errnos_fd, &errs, &nerrs) == 0) {
		for (size_t i = 0; i < nerrs; i++) {
			const char *name = zt_syscall_name((int)errs[i].key.nr);

			if (scope == ONE_PROCESS_FINAL && errs[i].key.tgid != pid)
				continue;
			if (c->syscalls) {
				zt_summary_add_syscall_errno(c->summary, name ? name : "?",
							     (int)errs[i].key.err, errs[i].count);
				zt_summary_add_syscall_errno(c->exact, name ? name : "?",
							     (int)errs[i].key.err, errs[i].count);
			}
			if (scope == ONE_PROCESS_FINAL)
				bpf_map_delete_elem(errnos_fd, &errs[i].key);
		}
	}
	free(aggs);
	free(errs);
}

void zt_collect_refresh(struct zt_collect *c)
{
	if (c->metrics)
		collect(c, ALL_LIVE, 0);
}

void zt_collect_process_exit(struct zt_collect *c, uint32_t pid)
{
	const struct zt_process_info *pi;

	collect(c, ONE_PROCESS_FINAL, pid);
	/* after the collection, which reads the process's facts again if the memory budget had
	 * evicted them: its series must still be marked exited, or they would stay forever */
	pi = zt_proctable_peek(c->procs, pid);
	if (c->metrics && pi)
		zt_metrics_process_exited(c->metrics, pi->pid, pi->start_time);
	zt_proctable_remove(c->procs, pid);
}

void zt_collect_finish(struct zt_collect *c)
{
	collect(c, ALL_FINAL, 0);
}
