/* SPDX-License-Identifier: MIT */
/*
 * The agent's memory budget (max_memory, --max-memory): what its caches may hold on the heap.
 *
 * Covered: the process table (/proc facts of traced processes) and the metrics registry (the
 * series of every process, live and exited). Bounded by their own limits instead, and not
 * evicted: the probe table (ZT_MAX_PROBES), the OTLP queue (ZT_OTLP_DEFAULT_QUEUE_SPANS spans,
 * ZT_OTLP_PROC_CACHE resources). Not covered at all: BPF maps and the ring buffer, which are
 * kernel memory (the ring buffer's pages also show in the agent's RSS, mapped twice), and the
 * libraries' own memory.
 *
 * Over budget, entries go in this order, each counted (ztrace_cache_evictions_total{cache})
 * and logged: process-table entries of processes that are gone; series of exited processes
 * still waiting for their last scrape, longest exited first; process-table entries of live
 * processes, least recently used first (read again from /proc when next needed). Live series
 * are never dropped: if they alone exceed the budget it says so once in the log.
 */
#ifndef ZTRACE_MEMBUDGET_H
#define ZTRACE_MEMBUDGET_H

#include <stdbool.h>
#include <stdint.h>
#include "metrics.h"
#include "proctable.h"

#define ZT_CACHE_PROCESSES "processes"
#define ZT_CACHE_SERIES	   "series"

struct zt_membudget {
	uint64_t max_bytes;
	uint64_t evicted_procs;	 /* process-table entries */
	uint64_t evicted_series; /* exited processes' metrics series */
	bool warned;		 /* "live series alone exceed the budget" was logged */
	/* whether (pid, start_time) still runs; zt_membudget_process_alive unless a test says */
	bool (*alive)(uint32_t pid, uint64_t start_time);
};

/* Whether process pid with start_time (/proc/PID/stat field 22) still runs. */
bool zt_membudget_process_alive(uint32_t pid, uint64_t start_time);

/*
 * Bring the process table pt and the registry m (may be NULL) within b->max_bytes as above,
 * and publish the counts and the bytes used to m. Returns the bytes used afterwards.
 */
uint64_t zt_membudget_enforce(struct zt_membudget *b, struct zt_proctable *pt,
			      struct zt_metrics *m);

#endif
