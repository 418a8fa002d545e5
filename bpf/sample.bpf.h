/* SPDX-License-Identifier: MIT */
/*
 * In-kernel sampling of costly probes, set by the agent's overhead governor (user/governor.c).
 * A probe sampled 1 in 2^shift keeps every 2^shift-th of its calls on each CPU; the others
 * push no frame and emit nothing. Every entry and every sampled-out call is counted in
 * probe_stats, so calls made = calls kept + calls sampled out, exactly; a sampled-out call is
 * also counted in its process's aggregate (sampled_out), which keeps calls_total exact.
 *
 * A sampled-out call still gets its return probe (the kernel installed it at entry). It is told
 * apart from a kept call's return by a count of sampled-out calls open above each stack level:
 * returns nest, so while the count above the top frame is not zero the innermost open call is a
 * sampled-out one. Children of a sampled-out call are pushed above the nearest kept call and so
 * become its children.
 */
#ifndef ZTRACE_SAMPLE_BPF_H
#define ZTRACE_SAMPLE_BPF_H

#include "common.bpf.h"

/* log2 of the sampling period of each probe id (0: every call kept). Written by the governor. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, ZT_MAX_PROBES);
	__type(key, __u32);
	__type(value, __u32);
} probe_sample SEC(".maps");

/*
 * Count an entry of probe_id on a thread with d frames open, and say whether the governor's
 * sampling leaves it out (then counted as sampled out and as open above the top frame).
 */
static __always_inline bool zt_sample_out(__u32 probe_id, struct zt_thread_stack *st, __u32 d)
{
	struct zt_probe_stats *s;
	struct zt_agg_val *v;
	__u32 *shift;

	if (probe_id >= ZT_MAX_PROBES) /* syscalls are never sampled */
		return false;
	s = zt_stats(probe_id);
	if (!s)
		return false;
	s->calls++;
	shift = bpf_map_lookup_elem(&probe_sample, &probe_id);
	if (!shift || !*shift || *shift >= 64 || d >= ZT_MAX_DEPTH)
		return false;
	if (!(s->calls & ((1ull << *shift) - 1)))
		return false;
	s->sampled_out++;
	st->sampled_open[d & (ZT_MAX_DEPTH - 1)]++;
	/* the process's call count stays exact: only the timing of this call is given up */
	v = zt_agg_get(bpf_get_current_pid_tgid() >> 32, probe_id);
	if (v)
		v->sampled_out++;
	return true;
}

/* A frame is being pushed at index d: nothing sampled out is open above it yet. */
static __always_inline void zt_sample_pushed(struct zt_thread_stack *st, __u32 d)
{
	__u32 next = d + 1;

	/* Linux 6.1's verifier loses the bound of d + 1 once clang drops the mask after the
	 * check: bound the index itself (newer verifiers track it through the addition) */
	barrier_var(next);
	if (next < ZT_MAX_DEPTH)
		st->sampled_open[next & (ZT_MAX_DEPTH - 1)] = 0;
}

/* Whether a return on a thread with depth frames open closes a sampled-out call (consumed). */
static __always_inline bool zt_sample_return(struct zt_thread_stack *st, __u32 depth)
{
	__u32 *open;

	if (depth >= ZT_MAX_DEPTH)
		return false;
	open = &st->sampled_open[depth & (ZT_MAX_DEPTH - 1)];
	if (!*open)
		return false;
	*open -= 1;
	return true;
}

#endif
