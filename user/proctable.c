// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "k8s_pod.h"
#include "proctable.h"

/* Buckets of the pid hash; chains stay short for the few thousand processes of a host. */
#define PROCTABLE_BUCKETS 1024

struct proc_node {
	struct proc_node *next;
	uint64_t last_used; /* pt->clock at the last get: least recently used goes first */
	uint64_t bytes;
	struct zt_process_info info;
};

struct zt_proctable {
	struct proc_node *buckets[PROCTABLE_BUCKETS];
	uint64_t clock;
	uint64_t bytes;
	size_t n;
	char *pods_dir; /* NULL: ZT_K8S_PODS_DIR_DEFAULT */
};

static size_t str_bytes(const char *s)
{
	return s ? strlen(s) + 1 : 0;
}

/* What a node holds on the heap, as counted against the memory budget. */
static uint64_t node_bytes(const struct proc_node *n)
{
	const struct zt_process_info *i = &n->info;

	return sizeof(*n) + str_bytes(i->exe) + str_bytes(i->cmdline) + str_bytes(i->service_name) +
	       str_bytes(i->container_id) + str_bytes(i->resource_attrs);
}

/* Link n into the table and count it. */
static void node_add(struct zt_proctable *pt, struct proc_node *n)
{
	n->bytes = node_bytes(n);
	n->last_used = ++pt->clock;
	n->next = pt->buckets[n->info.pid % PROCTABLE_BUCKETS];
	pt->buckets[n->info.pid % PROCTABLE_BUCKETS] = n;
	pt->bytes += n->bytes;
	pt->n++;
}

/* Unlink the node *pp points to, uncount and free it. */
static void node_remove(struct zt_proctable *pt, struct proc_node **pp)
{
	struct proc_node *n = *pp;

	*pp = n->next;
	pt->bytes -= n->bytes;
	pt->n--;
	zt_procinfo_free(&n->info);
	free(n);
}

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
	if (found) {
		((struct proc_node *)((char *)found - offsetof(struct proc_node, info)))
		    ->last_used = ++pt->clock;
		return found;
	}
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
	node_add(pt, n);
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
	node_add(pt, n);
	return 0;
}

void zt_proctable_remove(struct zt_proctable *pt, uint32_t pid)
{
	struct proc_node **pp = &pt->buckets[pid % PROCTABLE_BUCKETS];

	for (; *pp; pp = &(*pp)->next) {
		if ((*pp)->info.pid == pid) {
			node_remove(pt, pp);
			return;
		}
	}
}

uint64_t zt_proctable_bytes(const struct zt_proctable *pt)
{
	return sizeof(*pt) + pt->bytes;
}

/* Evict the least recently used entry (of a process that is gone, with dead_only). */
static bool evict_one(struct zt_proctable *pt, bool dead_only, bool (*alive)(uint32_t, uint64_t))
{
	struct proc_node **victim = NULL;

	for (size_t b = 0; b < PROCTABLE_BUCKETS; b++) {
		for (struct proc_node **pp = &pt->buckets[b]; *pp; pp = &(*pp)->next) {
			if (dead_only && alive((*pp)->info.pid, (*pp)->info.start_time))
				continue;
			if (!victim || (*pp)->last_used < (*victim)->last_used)
				victim = pp;
		}
	}
	if (!victim)
		return false;
	node_remove(pt, victim);
	return true;
}

size_t zt_proctable_shrink(struct zt_proctable *pt, uint64_t max_bytes, bool dead_only,
			   bool (*alive)(uint32_t pid, uint64_t start_time))
{
	size_t evicted = 0;

	while (zt_proctable_bytes(pt) > max_bytes && evict_one(pt, true, alive))
		evicted++;
	while (!dead_only && zt_proctable_bytes(pt) > max_bytes && evict_one(pt, false, alive))
		evicted++;
	return evicted;
}
