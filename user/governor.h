/* SPDX-License-Identifier: MIT */
/*
 * The overhead governor: keeps each function probe's BPF cost under a budget by sampling it in
 * the kernel (bpf/sample.bpf.h).
 *
 * Cost estimate. One entry and one return program serve every function probe (the BPF cookie
 * tells them apart), so the kernel's BPF run-time stats (bpf_enable_stats) give a cost per
 * program, not per probe. Every interval the governor takes the programs' mean run time per
 * call over the interval (entry mean + return mean) and charges each probe its calls in the
 * interval (counted in the kernel at entry, kept or not) times that mean, per second. The mean
 * is shared, so a cheap probe and a costly one are charged alike per call; what is measured is
 * BPF run time only, not the uprobe trap itself, which sampling cannot remove.
 *
 * Decision. A probe costing C ns/s against a budget B is sampled 1 in 2^s, s the smallest with
 * C / 2^s <= B (at most 1 in 2^ZT_GOVERNOR_MAX_SHIFT); the cost of a sampled-out call (a counter
 * and a stack slot) is taken as small next to a kept one. Sampling is raised at once and relaxed
 * only as far as keeps C / 2^s under B / ZT_GOVERNOR_LIFT_FACTOR, so a probe near its budget
 * does not flap. Each change is logged at notice level and shown in metrics
 * (ztrace_probe_sample_rate, ztrace_function_calls_sampled_out_total).
 */
#ifndef ZTRACE_GOVERNOR_H
#define ZTRACE_GOVERNOR_H

#include <stddef.h>
#include <stdint.h>
#include "loader.h"
#include "metrics.h"
#include "probes.h"

struct zt_governor;

/*
 * Parse a probe budget: "N%" of one CPU (0 < N <= 100, decimals allowed) or N nanoseconds of BPF
 * run time per second. Returns 0 with *ns_per_s set, or -EINVAL with a one-line reason in err.
 */
int zt_governor_parse_budget(const char *text, uint64_t *ns_per_s, char *err, size_t errlen);

/* The sampling shift for a probe costing cost_ns (per second, every call kept) under budget_ns,
 * sampled 1 in 2^shift until now (see the decision above). */
uint32_t zt_governor_decide(uint64_t cost_ns, uint64_t budget_ns, uint32_t shift);

/*
 * Start governing l's function probes at budget_ns per probe: enables the kernel's BPF run-time
 * stats (CAP_SYS_ADMIN) for as long as the governor lives. Returns NULL with errno set.
 */
struct zt_governor *zt_governor_new(struct zt_loader *l, uint64_t budget_ns);

/*
 * Measure and decide if ZT_GOVERNOR_INTERVAL_MS passed since the last time (now_ms on
 * CLOCK_MONOTONIC), for the function probes of probes; publish to m (may be NULL).
 */
void zt_governor_tick(struct zt_governor *g, const struct zt_probe_table *probes,
		      struct zt_metrics *m, uint64_t now_ms);

/* Calls of the function probes of probes sampled out so far, and how many probes had any. */
uint64_t zt_governor_sampled_out(struct zt_governor *g, const struct zt_probe_table *probes,
				 size_t *nprobes);

void zt_governor_free(struct zt_governor *g);

#endif
