// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "k8s_pod.h"
#include "proctable.h"

/* Buckets of the pid hash; chains stay short for the few thousand processes of a host. */
#define PROCTABLE_BUCKETS 1024

struct proc_node {
	struct proc_node *next;
	struct zt_process_info info;
};

struct zt_proctable {
	struct proc_node *buckets[PROCTABLE_BUCKETS];
	char *pods_dir; /* NULL: ZT_K8S_PODS_DIR_DEFAULT */
};

struct zt_proctable *zt_proctable_new(void)
{
	return calloc(1, sizeof(struct zt_proctable));
}

void zt_proctable_free(struct zt_proctable *pt)
{
	if (!pt)
		return;
	for (size_t i = 0; i < PROCTABLE_BUCKETS; i++) {
		struct proc_node *n = pt->buckets[i], *next;

		for (; n; n = next) {
			next = n->next;
			zt_procinfo_free(&n->info);
			free(n);
		}
	}
	free(pt->pods_dir);
	free(pt);
}

int zt_proctable_set_pods_dir(struct zt_proctable *pt, const char *dir)
{
	char *copy;

	if (!dir || (pt->pods_dir && !strcmp(pt->pods_dir, dir)))
		return 0;
	copy = strdup(dir);
	if (!copy)
		return -ENOMEM;
	free(pt->pods_dir);
	pt->pods_dir = copy;
	return 0;
}

const struct zt_process_info *zt_proctable_peek(const struct zt_proctable *pt, uint32_t pid)
{
	for (struct proc_node *n = pt->buckets[pid % PROCTABLE_BUCKETS]; n; n = n->next)
		if (n->info.pid == pid)
			return &n->info;
	return NULL;
}

const struct zt_process_info *zt_proctable_get(struct zt_proctable *pt, uint32_t pid,
					       const char *comm, bool *created)
{
	const struct zt_process_info *found = zt_proctable_peek(pt, pid);
	struct proc_node *n;

	if (created)
		*created = !found;
	if (found)
		return found;
	n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	if (zt_procinfo_read((int)pid, &n->info)) {
		/* gone already: what the records said is all there is */
		memset(&n->info, 0, sizeof(n->info));
		n->info.pid = pid;
		if (comm)
			strncpy(n->info.comm, comm, sizeof(n->info.comm) - 1);
		n->info.service_name = strdup(n->info.comm[0] ? n->info.comm : "unknown");
	} else {
		zt_procinfo_add_pod_names(&n->info,
					  pt->pods_dir ? pt->pods_dir : ZT_K8S_PODS_DIR_DEFAULT);
	}
	n->next = pt->buckets[pid % PROCTABLE_BUCKETS];
	pt->buckets[pid % PROCTABLE_BUCKETS] = n;
	return &n->info;
}

int zt_proctable_put(struct zt_proctable *pt, const struct zt_process_info *info)
{
	struct proc_node *n = calloc(1, sizeof(*n));

	if (!n || zt_procinfo_copy(&n->info, info)) {
		free(n);
		return -ENOMEM;
	}
	zt_proctable_remove(pt, info->pid);
	n->next = pt->buckets[info->pid % PROCTABLE_BUCKETS];
	pt->buckets[info->pid % PROCTABLE_BUCKETS] = n;
	return 0;
}

void zt_proctable_remove(struct zt_proctable *pt, uint32_t pid)
{
	struct proc_node **pp = &pt->buckets[pid % PROCTABLE_BUCKETS];

	for (; *pp; pp = &(*pp)->next) {
		if ((*pp)->info.pid == pid) {
			struct proc_node *n = *pp;

			*pp = n->next;
			zt_procinfo_free(&n->info);
			free(n);
			return;
		}
	}
}
