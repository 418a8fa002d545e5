/* SPDX-License-Identifier: MIT */
/*
 * Argument capture (--capture): at entry, a probe whose cookie has ZT_COOKIE_ARGS copies the
 * registers and strings its zt_arg_spec asks for into a slot keyed by the call's span id; at
 * return the slot rides along as the span record's trailing part. A probe without the bit
 * reads nothing of the process's memory and its records keep their size.
 */
#ifndef ZTRACE_ARGS_BPF_H
#define ZTRACE_ARGS_BPF_H

#include "common.bpf.h"

/* Some probe of this run captures arguments; off, the verifier drops every lookup below. */
const volatile bool capture_args = false;

/* What each probe captures, indexed by probe id; set by the agent before it attaches. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, ZT_MAX_PROBES);
	__type(key, __u32);
	__type(value, struct zt_arg_spec);
} arg_specs SEC(".maps");

/* Arguments of open calls, by span id (unique per boot: no tid needed in the key). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	/* preallocated (an allocation per call would cost more than the capture); the agent
	 * shrinks it to one entry when nothing captures */
	__uint(max_entries, ZT_MAX_ARG_SLOTS);
	__type(key, __u64);
	__type(value, struct zt_args_part);
} arg_slots SEC(".maps");

/* Where a slot is built: too big for the BPF stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct zt_args_part);
} arg_scratch SEC(".maps");

/* ZT_ARGS_MAX rounded up to a power of two, so an index can be masked into range. */
#define ZT_ARG_REGS_SLOTS 8

/* The register arguments in the System V x86-64 order (libbpf 1.1 has no PT_REGS_PARM6). Read
 * at constant offsets: the verifier refuses a ctx access at a computed one. */
static __always_inline void zt_arg_regs(struct pt_regs *ctx, __u64 regs[ZT_ARG_REGS_SLOTS])
{
	regs[0] = ctx->di;
	regs[1] = ctx->si;
	regs[2] = ctx->dx;
	regs[3] = ctx->cx;
	regs[4] = ctx->r8;
	regs[5] = ctx->r9;
}

/*
 * Copy at most len bytes of the user string at ptr into s. Reading len + 1 bytes cannot tell a
 * string of exactly len bytes from a longer one, so the byte after the limit is looked at (and
 * not kept) to decide whether the string was cut.
 */
static __always_inline void zt_arg_read_str(struct zt_arg_str *s, __u64 ptr, __u32 len)
{
	char next = 0;
	long n;

	if (len < 1 || len > ZT_ARG_STR_MAX)
		len = ZT_ARG_STR_DEFAULT;
	n = bpf_probe_read_user_str(s->text, len + 1, (const void *)ptr);
	if (n <= 0) {
		s->flags = ZT_ARG_STR_FAULT;
		return;
	}
	s->len = n - 1;
	if (n == len + 1 && (bpf_probe_read_user(&next, 1, (const void *)(ptr + len)) || next))
		s->flags = ZT_ARG_STR_TRUNCATED;
}

/* At entry of the call span_id (0: not pushed, nothing to keep). */
static __always_inline void zt_args_capture(struct pt_regs *ctx, __u64 cookie, __u64 span_id)
{
	__u32 probe_id = (__u32)cookie, zero = 0;
	__u64 regs[ZT_ARG_REGS_SLOTS] = {};
	struct zt_args_part *a;
	struct zt_arg_spec *spec;

	if (!capture_args || !(cookie & ZT_COOKIE_ARGS) || !span_id)
		return;
	spec = bpf_map_lookup_elem(&arg_specs, &probe_id);
	a = bpf_map_lookup_elem(&arg_scratch, &zero);
	if (!spec || !a)
		return;
	/* zeroed first: the scratch holds another call's strings, which must not leak into this
	 * record past the NUL */
	__builtin_memset(a, 0, sizeof(*a));
	a->spec = *spec;
	zt_arg_regs(ctx, regs);
	for (__u32 i = 0; i < ZT_ARGS_MAX; i++)
		if (spec->int_mask & (1u << i))
			a->regs[i] = regs[i];
	for (__u32 k = 0; k < ZT_ARGS_MAX_STRS; k++) {
		__u32 arg = spec->str_arg[k];

		if (k >= spec->nstr)
			break;
		if (arg >= ZT_ARGS_MAX)
			continue;
		a->strs[k].arg = arg;
		/* the mask, not the check above, is what the verifier can follow */
		zt_arg_read_str(&a->strs[k], regs[arg & (ZT_ARG_REGS_SLOTS - 1)], spec->str_len[k]);
	}
	if (bpf_map_update_elem(&arg_slots, &span_id, a, BPF_ANY)) {
		struct zt_probe_stats *s = zt_stats(probe_id);

		if (s)
			s->args_lost++;
	}
}

/* The ZT_SPAN_ARGS flag to pass when popping a probe with this cookie. */
static __always_inline __u16 zt_args_flag(__u64 cookie)
{
	return capture_args && (cookie & ZT_COOKIE_ARGS) ? ZT_SPAN_ARGS : 0;
}

/* The captured arguments of span_id if flags asks for them and they were kept, else NULL. */
static __always_inline struct zt_args_part *zt_args_find(__u16 flags, __u64 span_id)
{
	if (!capture_args || !(flags & ZT_SPAN_ARGS))
		return NULL;
	return bpf_map_lookup_elem(&arg_slots, &span_id);
}

/* The call span_id is closed: free its slot, if it had one. */
static __always_inline void zt_args_release(struct zt_args_part *a, __u64 span_id)
{
	if (a)
		bpf_map_delete_elem(&arg_slots, &span_id);
}

/* Reserve a span record, with room for a's arguments after it when a is not NULL. */
static __always_inline struct zt_span_rec *zt_args_reserve(struct zt_args_part *a)
{
	if (a)
		return bpf_ringbuf_reserve(&events, sizeof(struct zt_span_rec) + sizeof(*a), 0);
	return bpf_ringbuf_reserve(&events, sizeof(struct zt_span_rec), 0);
}

/* Append a's arguments to r, reserved by zt_args_reserve(a), and mark it. */
static __always_inline void zt_args_append(struct zt_span_rec *r, struct zt_args_part *a)
{
	if (!a)
		return;
	__builtin_memcpy(r + 1, a, sizeof(*a));
	r->hdr.flags |= ZT_SPAN_ARGS;
	r->hdr.size = sizeof(*r) + sizeof(*a);
}

#endif
