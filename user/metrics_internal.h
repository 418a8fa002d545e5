/* SPDX-License-Identifier: MIT */
/*
 * The metrics registry's private state, shared by the bookkeeping (metrics.c) and the
 * Prometheus rendering (metrics_render.c). Not part of the API: see metrics.h.
 */
#ifndef ZTRACE_METRICS_INTERNAL_H
#define ZTRACE_METRICS_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ztrace/limits.h"
#include "metrics.h"
#include "prom_text.h"

enum proc_state {
	PROC_LIVE,
	PROC_EXITED, /* still shown, until a render after the linger time */
	PROC_GONE,   /* series freed; kept until the grace period ends so updates can't revive it */
};

struct fn_series {
	char *function;
	char *binary; /* "" when unknown */
	struct zt_agg_val v;
};

struct proc {
	uint32_t pid;
	uint64_t start_time;
	char comm[ZT_COMM_LEN];
	enum proc_state state;
	uint64_t exited_ns;
	bool hidden; /* this render: held back behind an exited process with the same pid */
	struct fn_series *fns; /* sorted by (function, binary) */
	size_t nfns;
	size_t fns_cap;
	struct zt_agg_val **sys; /* [ZT_MAX_SYSCALLS], NULL until the first syscall */
	char *container[ZT_METRICS_CONTAINER_LABELS]; /* values, NULL when not known */
};

struct probe_events {
	char *probe;
	uint64_t delivered;
	uint64_t lost;
	bool sampling_set; /* a function probe the governor watches */
	uint64_t sampled_out;
	uint64_t sample_period;
};

/* Entries one of the agent's caches evicted under the memory budget (see membudget.h). */
struct cache_evictions {
	char *cache;
	uint64_t evictions;
};

struct exporter_stats {
	char *exporter; /* first: see named_entry() */
	uint64_t sent;
	uint64_t dropped;
	uint64_t failed;
};

struct sampled_out {
	char *rule; /* first: see named_entry() */
	uint64_t spans;
};

struct zt_metrics {
	pthread_mutex_t lock;
	uint64_t (*now_ns)(void);
	uint64_t retention_ns; /* an exited process's series stay at least this long */
	struct proc **procs;   /* sorted by (pid, start_time) */
	size_t nprocs;
	size_t procs_cap;
	struct probe_events *events; /* sorted by probe */
	size_t nevents;
	size_t events_cap;
	struct exporter_stats *exporters; /* in the order they were first set */
	size_t nexporters;
	size_t exporters_cap;
	struct cache_evictions *caches; /* in the order they were first set */
	size_t ncaches;
	size_t caches_cap;
	bool memory_set;
	uint64_t memory_used, memory_budget;
	struct sampled_out *sampled; /* in the order the rules first sampled */
	size_t nsampled;
	size_t sampled_cap;
	bool fill_set;
	double fill_peak; /* highest ratio since the last render */
	double fill_last;
};

/*
 * Write every family of the exposition into out: the per-process function and syscall series
 * (those mark_hidden() left visible), ztrace's own counters and the process's CPU and memory.
 * The caller holds m->lock.
 */
void zt_metrics_render_families(struct zt_prom *out, struct zt_metrics *m);

#endif
