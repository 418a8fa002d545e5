/* SPDX-License-Identifier: MIT */
/*
 * The registry behind /metrics: per-process function and syscall aggregates (the kernel's
 * counters and log2 histograms, copied in, never computed per event here) and ztrace's own
 * counters. The agent's main loop updates it, the HTTP thread renders it: every function takes
 * the registry's mutex, so both may be called from any thread.
 *
 * Processes are keyed by (pid, start_time) so a reused pid never merges into an old process's
 * series. Lifecycle of a process's series:
 *   - created by the first zt_metrics_set_function/_syscall for (pid, start_time);
 *   - zt_metrics_process_exited (or a new start_time for the same pid) marks it exited: its
 *     series stay, with their final values, until the first render that happens at least
 *     ZT_METRICS_EXITED_LINGER_S seconds after the exit, which shows them a last time and then
 *     removes them. So they are scraped at least once more, and by every scraper polling at
 *     least that often, not only by whoever scrapes first;
 *   - if nobody renders within ZT_METRICS_EXITED_GRACE_S seconds of the exit, they are removed
 *     anyway, so label sets stay bounded when nobody scrapes;
 *   - until then, updates for a removed process are refused (-ESRCH) rather than resurrecting
 *     it. Label values are the same for two processes sharing a pid (DESIGN.md: pid and comm),
 *     so a new process is hidden while an exited one with its pid is still shown: the
 *     exposition never holds the same series twice.
 */
#ifndef ZTRACE_METRICS_H
#define ZTRACE_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "ztrace/record.h"

struct zt_metrics;

/* A new, empty registry, or NULL with errno set. Free with zt_metrics_free. */
struct zt_metrics *zt_metrics_new(void);

void zt_metrics_free(struct zt_metrics *m);

/*
 * Set (not add: the kernel's counts are cumulative) the aggregates of function in binary for
 * process (pid, start_time); comm is the process's current name (NUL-terminated or
 * ZT_COMM_LEN bytes). start_time is any value that differs between two processes that had the
 * same pid (e.g. the start time from /proc/PID/stat). binary may be NULL (label value "").
 * Returns 0, -ESRCH when the process already exited and its series were removed, -ENOMEM.
 */
int zt_metrics_set_function(struct zt_metrics *m, uint32_t pid, uint64_t start_time,
			    const char *comm, const char *function, const char *binary,
			    const struct zt_agg_val *v);

/* Same as zt_metrics_set_function, for syscall number nr (0 <= nr < ZT_MAX_SYSCALLS, -EINVAL). */
int zt_metrics_set_syscall(struct zt_metrics *m, uint32_t pid, uint64_t start_time,
			   const char *comm, int nr, const struct zt_agg_val *v);

/* Labels a process's series carry when it runs in a container (container_id, k8s_...). */
#define ZT_METRICS_CONTAINER_LABELS 3

/* The container and Kubernetes pod of a process; NULL for what is not known. */
struct zt_metrics_container {
	const char *container_id;
	const char *k8s_namespace;
	const char *k8s_pod;
};

/*
 * Label the series of process (pid, start_time) with its container: the labels container_id,
 * k8s_namespace and k8s_pod follow the others, each only when known. Creates the process like
 * zt_metrics_set_function. Returns 0, -ESRCH (exited and removed), -ENOMEM.
 */
int zt_metrics_set_container(struct zt_metrics *m, uint32_t pid, uint64_t start_time,
			     const char *comm, const struct zt_metrics_container *c);

/*
 * Process (pid, start_time) ended: its series stay for one more render at least, then go (see
 * the lifecycle above).
 * Returns 0, or -ENOENT when the registry holds no series for it (nothing to do).
 */
int zt_metrics_process_exited(struct zt_metrics *m, uint32_t pid, uint64_t start_time);

/* Heap bytes the registry holds (what the agent's memory budget counts). */
uint64_t zt_metrics_bytes(struct zt_metrics *m);

/*
 * Memory budget: free the series of exited processes, longest exited first, before their last
 * scrape, until the registry holds at most max_bytes (zt_metrics_bytes; live processes' series
 * are never evicted). Returns how many processes' series were freed.
 */
size_t zt_metrics_evict_exited(struct zt_metrics *m, uint64_t max_bytes);

/*
 * Records of probe delivered to the agent and lost (ring buffer full), cumulative:
 * ztrace_events_total{probe, outcome="delivered|lost"}. Returns 0 or -ENOMEM.
 */
int zt_metrics_set_events(struct zt_metrics *m, const char *probe, uint64_t delivered,
			  uint64_t lost);

/*
 * The overhead governor's view of function probe probe: calls it sampled out (cumulative) and
 * its sampling period (keeps 1 call in period):
 * ztrace_function_calls_sampled_out_total{probe}, ztrace_probe_sample_rate{probe}.
 * Returns 0 or -ENOMEM.
 */
int zt_metrics_set_sampling(struct zt_metrics *m, const char *probe, uint64_t sampled_out,
			    uint64_t period);

/* Entries cache evicted under the memory budget, cumulative:
 * ztrace_cache_evictions_total{cache}. Returns 0 or -ENOMEM. */
int zt_metrics_set_evictions(struct zt_metrics *m, const char *cache, uint64_t evictions);

/* The caches' memory and its budget: ztrace_cache_memory_bytes, ..._budget_bytes. */
void zt_metrics_set_memory(struct zt_metrics *m, uint64_t used_bytes, uint64_t budget_bytes);

/*
 * Spans an exporter sent, dropped (queue full) and failed (given up after retries), cumulative:
 * ztrace_spans_exported_total{exporter, outcome="sent|dropped|failed"}. Returns 0 or -ENOMEM.
 */
int zt_metrics_set_exported(struct zt_metrics *m, const char *exporter, uint64_t sent,
			    uint64_t dropped, uint64_t failed);

/*
 * The ring buffer holds used_bytes of size_bytes. Call as often as convenient (each drain):
 * ztrace_ringbuf_fill_ratio shows the highest fill seen since the previous render, since the
 * consumer drains far more often than anyone scrapes and the fill at scrape time is ~0.
 */
/* Count spans rule's sample fraction left out (ztrace_spans_sampled_out_total). 0/-ENOMEM. */
int zt_metrics_add_sampled_out(struct zt_metrics *m, const char *rule, uint64_t spans);

void zt_metrics_set_ringbuf_fill(struct zt_metrics *m, uint64_t used_bytes, uint64_t size_bytes);

/*
 * Render the exposition (text format 0.0.4) into a malloc'd NUL-terminated *text of *len bytes
 * that the caller frees. Also the agent's own process_cpu_seconds_total and
 * process_resident_memory_bytes. Completes the lifecycle step of exited processes.
 * Returns 0 or -ENOMEM.
 */
int zt_metrics_render(struct zt_metrics *m, char **text, size_t *len);

/*
 * How long an exited process's series stay at least (they also stay for one successful render):
 * ns, at most ZT_METRICS_MAX_RETENTION_NS (larger is cut to it); ZT_METRICS_EXITED_LINGER_S
 * seconds until set.
 */
void zt_metrics_set_retention(struct zt_metrics *m, uint64_t ns);

/* For tests: replace the CLOCK_MONOTONIC clock (nanoseconds) the grace period is measured on. */
void zt_metrics_set_clock(struct zt_metrics *m, uint64_t (*now_ns)(void));

#endif
