// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Syscall latency from the raw_syscalls tracepoints. Every syscall of a target is counted in the
 * in-kernel aggregates (count, errors, log2 histogram, per-errno counts) without a ring-buffer
 * record; it is charged to the innermost open function call of its thread; and it becomes a
 * span of its own only when asked for (--syscall-spans, or slower than --min-duration).
 * The maps it shares with uprobe.bpf.c (stacks, events, aggs...) are the same kernel objects:
 * the agent reuses their fds before loading this object.
 */
#include "span_stack.bpf.h"

/* The raw tracepoint's arguments are read as a plain u64 array, not through vmlinux.h's struct
 * bpf_raw_tracepoint_args: with no CO-RE relocation, libbpf need not parse the kernel's BTF
 * for this object (~0.8 s here). */

char LICENSE[] SEC("license") = "Dual MIT/GPL";

const volatile bool filter_syscalls = false; /* only syscalls set in syscall_sel */
const volatile bool syscall_spans = false;   /* a span for every syscall */
const volatile __u64 min_duration_ns = 0;    /* else a span for syscalls at least this slow */

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, ZT_MAX_SYSCALLS);
	__type(key, __u32);
	__type(value, __u8);
} syscall_sel SEC(".maps");

struct zt_sys_start {
	__u64 start_ns;
	__u32 nr;
	__u32 pad;
};

/* In-flight syscall per thread. LRU: a thread that dies inside a syscall (exit_group) never
 * removes its entry, and eviction reclaims it. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, ZT_MAX_THREADS);
	__type(key, __u32);
	__type(value, struct zt_sys_start);
} sys_start SEC(".maps");

/* Failed syscalls per (process, syscall, errno), for "ENOENT x50" in the summary. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, ZT_MAX_ERRNO_KEYS);
	__type(key, struct zt_errno_key);
	__type(value, __u64);
} sys_errnos SEC(".maps");

SEC("raw_tp/sys_enter")
int zt_sys_enter(__u64 *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 nr = (__u32)ctx[1]; /* args: pt_regs *, syscall number */
	__u32 tid = (__u32)pid_tgid;
	struct zt_sys_start s;

	/* The kernel's own uretprobe trampoline enters through a syscall (Linux 6.11+): it is
	 * ztrace's cost, not the program's work. */
	if (!zt_traced_for(pid_tgid >> 32, ZT_TARGET_SYSCALLS) || nr >= ZT_MAX_SYSCALLS ||
	    nr == ZT_NR_URETPROBE)
		return 0;
	if (filter_syscalls) {
		__u8 *sel = bpf_map_lookup_elem(&syscall_sel, &nr);

		if (!sel || !*sel)
			return 0;
	}
	/* With a span per syscall, the syscall is an open call like any other: kernel functions
	 * it runs (k: probes) nest under it. */
	if (syscall_spans) {
		zt_push(ZT_AGG_SYSCALL_BASE + nr);
		return 0;
	}
	s.nr = nr;
	s.pad = 0;
	s.start_ns = bpf_ktime_get_ns();
	bpf_map_update_elem(&sys_start, &tid, &s, BPF_ANY);
	return 0;
}

static __always_inline void count_errno(__u32 tgid, __u32 nr, __s64 ret)
{
	struct zt_errno_key key = {.tgid = tgid, .nr = nr, .err = (__u32)-ret};
	__u64 one = 1, *v = bpf_map_lookup_elem(&sys_errnos, &key);

	if (v)
		*v += 1;
	else
		bpf_map_update_elem(&sys_errnos, &key, &one, BPF_NOEXIST);
}

/* Charge a syscall of dur ns to the innermost of the thread's first `open` calls. */
static __always_inline void charge(struct zt_thread_stack *st, __u32 open, __u64 dur)
{
	struct zt_frame *f;

	if (open < 1 || open > ZT_MAX_DEPTH)
		return;
	f = zt_frame_at(st, open - 1);
	f->syscall_count++;
	f->syscall_ns += dur;
}

SEC("raw_tp/sys_exit")
int zt_sys_exit(__u64 *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;
	__s64 ret = (__s64)ctx[1]; /* args: pt_regs *, return value */
	struct zt_thread_stack *st;
	struct zt_sys_start *s;
	__u64 now, dur;

	if (syscall_spans) {
		struct zt_frame *f;
		__u32 nr;

		st = zt_stack_get(tid, false);
		if (!st || st->depth == 0 || st->depth > ZT_MAX_DEPTH)
			return 0;
		f = zt_frame_at(st, st->depth - 1);
		if (f->probe_id < ZT_AGG_SYSCALL_BASE)
			return 0; /* its entry was not seen (attached mid-syscall) */
		nr = f->probe_id - ZT_AGG_SYSCALL_BASE;
		if (ret < 0 && ret > -4096)
			count_errno(pid_tgid >> 32, nr, ret);
		/* the syscall's own frame is on top: its caller is the one below */
		charge(st, st->depth - 1, bpf_ktime_get_ns() - f->start_ns);
		zt_pop(f->probe_id, ret);
		return 0;
	}
	s = bpf_map_lookup_elem(&sys_start, &tid);
	if (!s)
		return 0;
	now = bpf_ktime_get_ns();
	dur = now - s->start_ns;
	zt_aggregate(pid_tgid >> 32, ZT_AGG_SYSCALL_BASE + s->nr, dur, ret < 0);
	if (ret < 0 && ret > -4096)
		count_errno(pid_tgid >> 32, s->nr, ret);

	st = zt_stack_get(tid, false);
	if (st)
		charge(st, st->depth, dur);
	if (min_duration_ns && dur >= min_duration_ns)
		zt_emit_leaf(st, pid_tgid, s->nr, ZT_SYSCALL_STATS_ID, ZT_SPAN_SYSCALL, s->start_ns,
			     now, ret);
	bpf_map_delete_elem(&sys_start, &tid);
	return 0;
}
