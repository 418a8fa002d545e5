// SPDX-License-Identifier: MIT
#include <stdio.h>
#include <string.h>
#include "log.h"
#include "membudget.h"
#include "procinfo.h"

bool zt_membudget_process_alive(uint32_t pid, uint64_t start_time)
{
	char path[64], text[1024], comm[ZT_COMM_LEN];
	uint64_t now_start = 0;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%u/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	/* a reused pid is another process: its start time differs */
	return zt_proc_stat_parse(text, comm, &now_start) == 0 && now_start == start_time;
}

/* What the process table may hold next to series bytes of metrics. */
static uint64_t room_for(const struct zt_membudget *b, uint64_t series)
{
	return b->max_bytes > series ? b->max_bytes - series : 0;
}

uint64_t zt_membudget_enforce(struct zt_membudget *b, struct zt_proctable *pt, struct zt_metrics *m)
{
	bool (*alive)(uint32_t, uint64_t) = b->alive ? b->alive : zt_membudget_process_alive;
	uint64_t procs = zt_proctable_bytes(pt), series = m ? zt_metrics_bytes(m) : 0;
	size_t gone = 0, exited = 0, live = 0;

	if (procs + series > b->max_bytes)
		gone = zt_proctable_shrink(pt, room_for(b, series), true, alive);
	procs = zt_proctable_bytes(pt);
	if (m && procs + series > b->max_bytes) {
		uint64_t over = procs + series - b->max_bytes;

		exited = zt_metrics_evict_exited(m, series > over ? series - over : 0);
		series = zt_metrics_bytes(m);
	}
	if (procs + series > b->max_bytes)
		live = zt_proctable_shrink(pt, room_for(b, series), false, alive);
	procs = zt_proctable_bytes(pt);
	if (gone + exited + live)
		zt_notice(
		    "memory budget %llu bytes: evicted %zu process entries (%zu of live "
		    "processes) and the series of %zu exited processes; caches hold %llu bytes",
		    (unsigned long long)b->max_bytes, gone + live, live, exited,
		    (unsigned long long)(procs + series));
	if (procs + series > b->max_bytes && !b->warned) {
		zt_warn("memory budget %llu bytes exceeded by the metrics of live processes (%llu "
			"bytes): nothing more can be evicted",
			(unsigned long long)b->max_bytes, (unsigned long long)series);
		b->warned = true;
	}
	b->evicted_procs += gone + live;
	b->evicted_series += exited;
	if (m) {
		zt_metrics_set_evictions(m, ZT_CACHE_PROCESSES, b->evicted_procs);
		zt_metrics_set_evictions(m, ZT_CACHE_SERIES, b->evicted_series);
		zt_metrics_set_memory(m, procs + series, b->max_bytes);
	}
	return procs + series;
}
