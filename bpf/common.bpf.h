/* SPDX-License-Identifier: MIT */
/* Maps and helpers every ztrace BPF program shares: target filter, ring buffer, loss counters. */
#ifndef ZTRACE_COMMON_BPF_H
#define ZTRACE_COMMON_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "ztrace/record.h"

/* Set by the agent before load. With filter_tgids off every process that hits a probe counts
 * (system-wide tracing of one binary). */
const volatile bool filter_tgids = false;
/* ztrace's own pid: never traced, or system-wide syscall tracing would trace its own reads. */
const volatile __u32 self_tgid = 0;
/* The function error rule (enum zt_err_op against err_val), see record.h, and --ret32 below:
 * with filter_tgids each target's entry carries its own (struct zt_target_policy). */
const volatile __u32 err_op = ZT_ERR_NONE;
const volatile __s64 err_val = 0;
/* --ret32: functions return int; the upper half of rax is garbage, sign-extend the lower. */
const volatile bool ret32 = false;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, ZT_MAX_TARGETS);
	__type(key, __u32);
	__type(value, struct zt_target_policy);
} targets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, ZT_RINGBUF_BYTES);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, ZT_MAX_PROBES);
	__type(key, __u32);
	__type(value, struct zt_probe_stats);
} probe_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, ZT_MAX_AGGS);
	/* allocated as (process, probe) pairs appear: preallocating every entry on every CPU
	 * cost ~70 MB of kernel memory and a quarter second at each start */
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct zt_agg_key);
	__type(value, struct zt_agg_val);
} aggs SEC(".maps");

/* Aggregates that could not be created because the aggs map was full, per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} aggs_full SEC(".maps");

/*
 * Whether tgid is traced for what (enum zt_target_flags); if so *pol is its policy: its
 * targets entry, or the global rodata one when every process is traced.
 */
static __always_inline bool zt_policy_of(__u32 tgid, __u8 what, struct zt_target_policy *pol)
{
	struct zt_target_policy *t;

	if (!filter_tgids) {
		pol->err_op = err_op;
		pol->err_val = err_val;
		pol->ret32 = ret32;
		pol->span_min_ns = 0;
		return tgid != self_tgid;
	}
	t = bpf_map_lookup_elem(&targets, &tgid);
	if (!t || !(t->flags & what))
		return false;
	*pol = *t;
	return true;
}

static __always_inline bool zt_traced_for(__u32 tgid, __u8 what)
{
	struct zt_target_policy pol;

	return zt_policy_of(tgid, what, &pol);
}

static __always_inline bool zt_is_target(__u32 tgid)
{
	return zt_traced_for(tgid, ZT_TARGET_FUNCS);
}

static __always_inline struct zt_probe_stats *zt_stats(__u32 probe_id)
{
	return bpf_map_lookup_elem(&probe_stats, &probe_id);
}

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct zt_control);
} control SEC(".maps");

/*
 * Whether a completed call deserves a span record: not one that succeeded faster than its
 * process's min duration, nor (tail sampling in aggregate mode) than the control's.
 */
static __always_inline bool zt_span_wanted(__u64 dur, bool error, __u64 min_ns)
{
	__u32 zero = 0;
	struct zt_control *c = bpf_map_lookup_elem(&control, &zero);

	if (error)
		return true;
	if (dur < min_ns)
		return false;
	if (!c || !c->aggregate)
		return true;
	return c->span_min_ns && dur >= c->span_min_ns;
}

static __always_inline bool zt_func_is_error(const struct zt_target_policy *pol, __s64 ret)
{
	__s64 v = pol->err_val;

	switch (pol->err_op) {
	case ZT_ERR_LT:
		return ret < v;
	case ZT_ERR_LE:
		return ret <= v;
	case ZT_ERR_EQ:
		return ret == v;
	case ZT_ERR_NE:
		return ret != v;
	case ZT_ERR_GT:
		return ret > v;
	case ZT_ERR_GE:
		return ret >= v;
	default:
		return false;
	}
}

/* log2 bucket of a duration: bucket i holds [2^(i-1), 2^i) ns, the last one everything above. */
static __always_inline __u32 zt_log2_bucket(__u64 ns)
{
	__u32 b = 0;

	if (ns >> 32) {
		b += 32;
		ns >>= 32;
	}
	if (ns >> 16) {
		b += 16;
		ns >>= 16;
	}
	if (ns >> 8) {
		b += 8;
		ns >>= 8;
	}
	if (ns >> 4) {
		b += 4;
		ns >>= 4;
	}
	if (ns >> 2) {
		b += 2;
		ns >>= 2;
	}
	if (ns >> 1) {
		b += 1;
		ns >>= 1;
	}
	b += ns; /* bit length: ns in [2^(b-1), 2^b) */
	return b < ZT_HIST_BUCKETS ? b : ZT_HIST_BUCKETS - 1;
}

/* The bucket index is masked for the verifier; a mask only works for a power of two. */
_Static_assert((ZT_HIST_BUCKETS & (ZT_HIST_BUCKETS - 1)) == 0, "ZT_HIST_BUCKETS: power of two");

/* The per-(process, probe) aggregate behind the metrics, made on first use; NULL when the map
 * is full (counted in aggs_full). */
static __always_inline struct zt_agg_val *zt_agg_get(__u32 tgid, __u32 probe_id)
{
	struct zt_agg_key key = {.tgid = tgid, .probe_id = probe_id};
	struct zt_agg_val *v = bpf_map_lookup_elem(&aggs, &key);

	if (!v) {
		static const struct zt_agg_val zero;
		__u32 z = 0;

		if (bpf_map_update_elem(&aggs, &key, &zero, BPF_NOEXIST) &&
		    !bpf_map_lookup_elem(&aggs, &key)) {
			__u64 *full = bpf_map_lookup_elem(&aggs_full, &z);

			if (full)
				*full += 1;
			return NULL;
		}
		v = bpf_map_lookup_elem(&aggs, &key);
	}
	return v;
}

/* Count one completed call in the per-(process, probe) aggregates behind the metrics. */
static __always_inline void zt_aggregate(__u32 tgid, __u32 probe_id, __u64 ns, bool error)
{
	struct zt_agg_val *v = zt_agg_get(tgid, probe_id);

	if (!v)
		return;
	v->count++;
	v->errors += error;
	v->sum_ns += ns;
	if (ns > v->max_ns)
		v->max_ns = ns;
	v->buckets[zt_log2_bucket(ns) & (ZT_HIST_BUCKETS - 1)]++;
}

/* Submit without waking the consumer unless the backlog is large: a wakeup per record costs
 * about 3x the record itself; the consumer drains on a short timer anyway. */
static __always_inline void zt_submit(void *rec)
{
	__u64 backlog = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);

	bpf_ringbuf_submit(rec, backlog >= ZT_RINGBUF_WAKEUP_BYTES ? BPF_RB_FORCE_WAKEUP
								   : BPF_RB_NO_WAKEUP);
}

#endif
