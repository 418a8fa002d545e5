/* SPDX-License-Identifier: MIT */
/* The processes ztrace has seen, by pid: their /proc facts read once, for exporters. */
#ifndef ZTRACE_PROCTABLE_H
#define ZTRACE_PROCTABLE_H

#include <stdbool.h>
#include <stdint.h>
#include "procinfo.h"

struct zt_proctable;

struct zt_proctable *zt_proctable_new(void);
void zt_proctable_free(struct zt_proctable *pt);

/*
 * The process info of pid, read from /proc the first time pid is asked for (then *created, if
 * not NULL, is set true). A process that is already gone gets a minimal entry named comm (may
 * be NULL). Never NULL unless out of memory. The pointer stays valid until
 * zt_proctable_remove(pid) or zt_proctable_free().
 */
const struct zt_process_info *zt_proctable_get(struct zt_proctable *pt, uint32_t pid,
					       const char *comm, bool *created);

/*
 * Where the namespace and name of a process's pod are looked up for the entries read from now
 * on (the kubelet's pods directory; ZT_K8S_PODS_DIR_DEFAULT until set). dir NULL keeps the
 * current one. Returns 0 or -ENOMEM.
 */
int zt_proctable_set_pods_dir(struct zt_proctable *pt, const char *dir);

/* The entry of pid if there is one, without reading /proc. */
const struct zt_process_info *zt_proctable_peek(const struct zt_proctable *pt, uint32_t pid);

/* Put a copy of info in the table (replacing what it had for info->pid). Returns 0 or -ENOMEM. */
int zt_proctable_put(struct zt_proctable *pt, const struct zt_process_info *info);

/* Forget pid (it exited); a later process with the same pid gets a fresh entry. */
void zt_proctable_remove(struct zt_proctable *pt, uint32_t pid);

/* Heap bytes the table holds (what the agent's memory budget counts). */
uint64_t zt_proctable_bytes(const struct zt_proctable *pt);

/*
 * Evict entries until the table holds at most max_bytes: first those whose process is gone
 * (alive(pid, start_time) false), least recently used first, then, unless dead_only, live ones
 * the same way (a live process's entry is read again from /proc when next needed). Pointers to
 * evicted entries become invalid. Returns how many were evicted.
 */
size_t zt_proctable_shrink(struct zt_proctable *pt, uint64_t max_bytes, bool dead_only,
			   bool (*alive)(uint32_t pid, uint64_t start_time));

#endif
