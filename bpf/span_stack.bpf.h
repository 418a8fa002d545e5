/* SPDX-License-Identifier: MIT */
/*
 * The per-thread stack of open traced calls. Entry pushes {span id, start}; exit pops and emits
 * one record with the parent and root taken from the stack, so spans nest per thread without
 * the agent having to pair entries with exits.
 */
#ifndef ZTRACE_SPAN_STACK_BPF_H
#define ZTRACE_SPAN_STACK_BPF_H

#include "common.bpf.h"
#include "args.bpf.h"
#include "sample.bpf.h"

/*
 * Frame i of st, i masked into range. The barrier keeps clang from dropping the mask where it
 * can prove the range itself: Linux 6.1's verifier loses that proof through the zero-extension
 * of the index and refuses the access ("unbounded memory access"); 6.18's keeps it.
 */
static __always_inline struct zt_frame *zt_frame_at(struct zt_thread_stack *st, __u32 i)
{
	barrier_var(i);
	return &st->frames[i & (ZT_MAX_DEPTH - 1)];
}

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, ZT_MAX_THREADS);
	__type(key, __u32); /* tid */
	__type(value, struct zt_thread_stack);
} stacks SEC(".maps");

/* A zeroed stack to insert: too big for the BPF stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct zt_thread_stack);
} stack_zero SEC(".maps");

/* Per-CPU sequence for span ids: the CPU number in the top byte keeps them unique. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} span_seq SEC(".maps");

static __always_inline __u64 zt_next_span_id(void)
{
	__u32 zero = 0;
	__u64 *seq = bpf_map_lookup_elem(&span_seq, &zero);

	if (!seq)
		return 0;
	*seq += 1;
	return ((__u64)(bpf_get_smp_processor_id() + 1) << 48) | (*seq & 0xffffffffffffULL);
}

static __always_inline struct zt_thread_stack *zt_stack_get(__u32 tid, bool create)
{
	struct zt_thread_stack *st = bpf_map_lookup_elem(&stacks, &tid);
	__u32 zero = 0;

	if (st || !create)
		return st;
	st = bpf_map_lookup_elem(&stack_zero, &zero);
	if (!st)
		return NULL;
	bpf_map_update_elem(&stacks, &tid, st, BPF_NOEXIST);
	st = bpf_map_lookup_elem(&stacks, &tid);
	if (st)
		st->tgid = bpf_get_current_pid_tgid() >> 32;
	return st;
}

/*
 * Remember the name the thread's outermost open call is made under, for the records of calls
 * that end without a return: by then an exec may have renamed the thread (see zt_rec_comm).
 */
static __always_inline void zt_stack_note_comm(struct zt_thread_stack *st)
{
	bpf_get_current_comm(st->comm, sizeof(st->comm));
}

/*
 * The comm of record r made from st: for a call that never returned, the name it was made
 * under, not the name of the image an exec replaced it with.
 */
static __always_inline void zt_rec_comm(struct zt_span_rec *r, struct zt_thread_stack *st,
					__u16 flags)
{
	if (flags & ZT_SPAN_INCOMPLETE)
		__builtin_memcpy(r->comm, st->comm, sizeof(r->comm));
	else
		bpf_get_current_comm(r->comm, sizeof(r->comm));
}

/* Open a call on the current thread. Returns its span id, 0 when it was not recorded. */
static __always_inline __u64 zt_push(__u32 probe_id)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;
	struct zt_thread_stack *st;
	struct zt_frame *f;
	__u32 d;

	if (!zt_is_target(pid_tgid >> 32))
		return 0;
	st = zt_stack_get(tid, true);
	if (!st)
		return 0;
	d = st->depth;
	if (zt_sample_out(probe_id, st, d))
		return 0;
	if (d >= ZT_MAX_DEPTH) {
		struct zt_probe_stats *s = zt_stats(probe_id);

		if (s)
			s->overflow++;
		/* Past the kernel's uretprobe nesting limit no return will be seen: counting the
		 * call open would leave the depth off for good. */
		if (d < ZT_URETPROBE_MAX_DEPTH)
			st->depth = d + 1;
		return 0;
	}
	st->depth = d + 1;
	zt_sample_pushed(st, d);
	f = zt_frame_at(st, d);
	f->span_id = zt_next_span_id();
	f->probe_id = probe_id;
	f->syscall_ns = 0;
	f->syscall_count = 0;
	if (d == 0) {
		st->root_id = f->span_id;
		zt_stack_note_comm(st);
	}
	f->start_ns = bpf_ktime_get_ns();
	return f->span_id;
}

/*
 * How a frame ends, for zt_emit(): the thread, the return value and time, and for a call that
 * returned the process's policy, which its caller has looked up already.
 */
struct zt_frame_end {
	__u64 pid_tgid;
	__s64 ret;
	__u64 end_ns;
	struct zt_target_policy pol;
};

/*
 * Emit the record for frame d of st; flags (enum zt_span_flags) ride in the top half of d.
 * With ZT_SPAN_ARGS, the arguments captured at the call's entry (if any) go with it.
 * A real call rather than inlined: inside the callers' loops clang would otherwise turn the
 * frame index into a running pointer the verifier cannot bound.
 */
static __noinline void zt_emit(struct zt_thread_stack *st, __u32 d_flags,
			       const struct zt_frame_end *e)
{
	__u64 pid_tgid = e->pid_tgid, end_ns = e->end_ns;
	__s64 ret = e->ret;
	__u16 flags = d_flags >> 16;
	__u32 d = d_flags & 0xffff;
	struct zt_args_part *args;
	struct zt_span_rec *r;
	struct zt_frame *f;
	bool syscall;

	if (!st)
		return;

	if (d >= ZT_MAX_DEPTH)
		return;
	f = zt_frame_at(st, d);
	args = zt_args_find(flags, f->span_id);
	flags &= ~ZT_SPAN_ARGS;
	syscall = f->probe_id >= ZT_AGG_SYSCALL_BASE;
	if (syscall)
		flags |= ZT_SPAN_SYSCALL;
	/* a syscall fails by returning -errno; functions by the process's rule. The record says
	 * which, so spans and the aggregates' error counts cannot disagree. */
	if (!(flags & ZT_SPAN_INCOMPLETE)) {
		__u64 dur = end_ns - f->start_ns;
		bool error = syscall ? ret < 0 : zt_func_is_error(&e->pol, ret);

		if (error)
			flags |= ZT_SPAN_ERROR;
		zt_aggregate(pid_tgid >> 32, f->probe_id, dur, error);
		if (!zt_span_wanted(dur, error, syscall ? 0 : e->pol.span_min_ns)) {
			zt_args_release(args, f->span_id);
			return;
		}
	}
	r = zt_args_reserve(args);
	if (!r) {
		struct zt_probe_stats *s = zt_stats(syscall ? ZT_SYSCALL_STATS_ID : f->probe_id);

		if (s)
			s->lost++;
		zt_args_release(args, f->span_id);
		return;
	}
	r->hdr.type = ZT_REC_SPAN;
	r->hdr.flags = flags;
	r->hdr.size = sizeof(*r);
	r->hdr.ts_ns = end_ns;
	r->span_id = f->span_id;
	r->parent_id = d > 0 ? zt_frame_at(st, d - 1)->span_id : 0;
	r->root_id = st->root_id;
	r->start_ns = f->start_ns;
	r->end_ns = end_ns;
	r->ret = ret;
	r->syscall_ns = f->syscall_ns;
	r->syscall_count = f->syscall_count;
	r->probe_id = syscall ? f->probe_id - ZT_AGG_SYSCALL_BASE : f->probe_id;
	r->pid = pid_tgid >> 32;
	r->tid = (__u32)pid_tgid;
	r->depth = d;
	r->pad0 = 0;
	r->pad1 = 0;
	zt_rec_comm(r, st, flags);
	zt_args_append(r, args);
	zt_args_release(args, f->span_id);
	zt_submit(r);
}

struct zt_incomplete_ctx {
	struct zt_thread_stack *st;
	struct zt_frame_end end; /* no return value, no policy: an incomplete call is not judged */
	__u32 top;
};

static long zt_emit_incomplete_cb(__u32 i, void *data)
{
	struct zt_incomplete_ctx *c = data;

	/* which frames captured is not kept: their slots are looked up (a rare path) */
	zt_emit(c->st, (c->top - i) | ((ZT_SPAN_INCOMPLETE | ZT_SPAN_ARGS) << 16), &c->end);
	return 0;
}

/*
 * Emit frames top down to bottom (inclusive) as incomplete: calls whose return will never be
 * seen. Through bpf_loop (Linux 5.17+), whose callback is verified once: an open-coded loop
 * around zt_emit() multiplies the verifier's work past its limit.
 */
static __always_inline void zt_emit_incomplete(struct zt_thread_stack *st, __u32 top, __u32 bottom,
					       __u64 pid_tgid, __u64 now)
{
	struct zt_incomplete_ctx c = {
	    .st = st, .end = {.pid_tgid = pid_tgid, .end_ns = now}, .top = top};

	if (top < bottom || top >= ZT_MAX_DEPTH)
		return;
	bpf_loop(top - bottom + 1, zt_emit_incomplete_cb, &c, 0);
}

struct zt_find_ctx {
	struct zt_thread_stack *st;
	__u32 depth;
	__u32 probe_id;
	__u32 found;
};

static long zt_find_cb(__u32 i, void *data)
{
	struct zt_find_ctx *c = data;
	__u32 d = c->depth - 1 - i;

	if (d >= ZT_MAX_DEPTH)
		return 1;
	if (zt_frame_at(c->st, d)->probe_id == c->probe_id) {
		c->found = d;
		return 1;
	}
	return 0;
}

/*
 * The index of the innermost open frame of probe_id among the first depth frames, or
 * ZT_MAX_DEPTH. Through bpf_loop: an open-coded search hands the verifier one state per
 * possible index, and each of them then walks zt_emit().
 */
static __always_inline __u32 zt_find_open(struct zt_thread_stack *st, __u32 depth, __u32 probe_id)
{
	struct zt_find_ctx c = { .st = st, .depth = depth, .probe_id = probe_id,
				 .found = ZT_MAX_DEPTH };

	/* the top frame is the common case: no loop at all */
	if (depth >= 1 && depth <= ZT_MAX_DEPTH &&
	    zt_frame_at(st, depth - 1)->probe_id == probe_id)
		return depth - 1;
	bpf_loop(depth, zt_find_cb, &c, 0);
	return c.found;
}

/*
 * Close the innermost call of probe_id on the current thread. Frames above it whose return was
 * never seen (longjmp, exceptions) are emitted as incomplete first; a return with no open call
 * of its probe (attached while the call was running) is ignored. flags: ZT_SPAN_ARGS when the
 * probe captures arguments (zt_args_flag()).
 */
static __always_inline void zt_pop_flags(__u32 probe_id, __s64 ret, __u16 flags)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u64 now = bpf_ktime_get_ns();
	struct zt_thread_stack *st;
	__u32 depth, found = ZT_MAX_DEPTH;
	struct zt_frame_end end;

	/* the policy, looked up once here, judges the call in zt_emit() too */
	if (!zt_policy_of(pid_tgid >> 32, ZT_TARGET_FUNCS, &end.pol))
		return;
	if (end.pol.ret32)
		ret = (__s64)(__s32)ret;
	st = zt_stack_get((__u32)pid_tgid, false);
	if (!st || zt_sample_return(st, st->depth) || st->depth == 0)
		return;
	depth = st->depth;
	if (depth > ZT_MAX_DEPTH) {
		st->depth = depth - 1;
		return;
	}
	found = zt_find_open(st, depth, probe_id);
	if (found >= ZT_MAX_DEPTH)
		return;
	if (depth - 1 > found)
		zt_emit_incomplete(st, depth - 1, found + 1, pid_tgid, now);
	end.pid_tgid = pid_tgid;
	end.ret = ret;
	end.end_ns = now;
	zt_emit(st, found | (__u32)flags << 16, &end);
	st->depth = found;
}

static __always_inline void zt_pop(__u32 probe_id, __s64 ret)
{
	zt_pop_flags(probe_id, ret, 0);
}

/*
 * Thread tid of process tgid will make no more returns: every call open on it is incomplete,
 * ended at now, and its stack is freed.
 */
static __always_inline void zt_flush_tid(__u32 tgid, __u32 tid, __u64 now)
{
	struct zt_thread_stack *st = zt_stack_get(tid, false);

	if (!st)
		return;
	if (st->depth > 0)
		zt_emit_incomplete(st, st->depth > ZT_MAX_DEPTH ? ZT_MAX_DEPTH - 1 : st->depth - 1,
				   0, (__u64)tgid << 32 | tid, now);
	bpf_map_delete_elem(&stacks, &tid);
}

/* The thread is ending: every open call on it is incomplete. */
static __always_inline void zt_flush_thread(void)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();

	zt_flush_tid(pid_tgid >> 32, (__u32)pid_tgid, bpf_ktime_get_ns());
}

/*
 * An exec by thread old_tid of process tgid. de_thread() has killed the other threads (each
 * flushed its own stack on its way out) and, when old_tid was not the leader, moved the
 * exec'ing thread to the leader's pid: its calls sit on the stack of old_tid, which no thread
 * has any more. Ends them, and whatever the leader's stack still holds, at the exec.
 */
static __always_inline void zt_flush_exec(__u32 tgid, __u32 old_tid)
{
	__u64 now = bpf_ktime_get_ns();

	zt_flush_tid(tgid, old_tid, now);
	if (old_tid != tgid)
		zt_flush_tid(tgid, tgid, now);
}

/*
 * A span record that is not a frame of the stack: a syscall made outside the stack (its own
 * start) or a point event (start == end). Its parent is the innermost open call on the thread,
 * or it is the root of a trace of its own. stats_id counts it if the ring buffer is full.
 */
static __always_inline void zt_emit_leaf(struct zt_thread_stack *st, __u64 pid_tgid,
					 __u32 probe_id, __u32 stats_id, __u16 flags, __u64 start_ns,
					 __u64 end_ns, __s64 ret)
{
	__u32 depth = st ? st->depth : 0;
	struct zt_span_rec *r;

	r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		struct zt_probe_stats *s = zt_stats(stats_id);

		if (s)
			s->lost++;
		return;
	}
	r->hdr.type = ZT_REC_SPAN;
	r->hdr.flags = flags;
	r->hdr.size = sizeof(*r);
	r->hdr.ts_ns = end_ns;
	r->span_id = zt_next_span_id();
	if (st && depth > 0 && depth <= ZT_MAX_DEPTH) {
		r->parent_id = zt_frame_at(st, depth - 1)->span_id;
		r->root_id = st->root_id;
	} else {
		r->parent_id = 0;
		r->root_id = r->span_id;
		depth = 0;
	}
	r->start_ns = start_ns;
	r->end_ns = end_ns;
	r->ret = ret;
	r->syscall_ns = 0;
	r->syscall_count = 0;
	r->probe_id = probe_id;
	r->pid = pid_tgid >> 32;
	r->tid = (__u32)pid_tgid;
	r->depth = depth > ZT_MAX_DEPTH ? ZT_MAX_DEPTH : depth;
	r->pad0 = 0;
	r->pad1 = 0;
	bpf_get_current_comm(r->comm, sizeof(r->comm));
	zt_submit(r);
}

/* A point event (tracepoint or USDT hit) on the current thread. */
static __always_inline void zt_emit_instant(__u32 probe_id)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u64 now;

	if (!zt_is_target(pid_tgid >> 32))
		return;
	now = bpf_ktime_get_ns();
	zt_emit_leaf(zt_stack_get((__u32)pid_tgid, false), pid_tgid, probe_id, probe_id,
		     ZT_SPAN_INSTANT, now, now, 0);
}

#endif
