// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Kernel function spans (k:GLOB). fentry/fexit where the kernel allows BPF trampolines, else
 * kprobe/kretprobe; the agent loads one set or the other. Kernel calls go on the same per-thread
 * stacks as user calls and syscalls (maps shared with uprobe.bpf.c), so a kernel function called
 * from a traced syscall or user function becomes its child.
 */
#include "span_stack.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* fentry programs are cloned per function; they find their probe id by function address. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, ZT_MAX_PROBES);
	__type(key, __u64);   /* function address */
	__type(value, __u32); /* probe id */
} kfunc_ids SEC(".maps");

SEC("kprobe")
int BPF_KPROBE(zt_kprobe_entry)
{
	zt_push((__u32)bpf_get_attach_cookie(ctx));
	return 0;
}

SEC("kretprobe")
int BPF_KRETPROBE(zt_kprobe_return, long ret)
{
	zt_pop((__u32)bpf_get_attach_cookie(ctx), ret);
	return 0;
}

static __always_inline int kfunc_id(void *ctx, __u32 *id)
{
	__u64 ip = bpf_get_func_ip(ctx);
	__u32 *v = bpf_map_lookup_elem(&kfunc_ids, &ip);

	if (!v)
		return -1;
	*id = *v;
	return 0;
}

/* The attach target is set by the agent before load (the first matched function). */
SEC("fentry")
int zt_fentry(void *ctx)
{
	__u32 id;

	if (kfunc_id(ctx, &id) == 0)
		zt_push(id);
	return 0;
}

SEC("fexit")
int zt_fexit(void *ctx)
{
	__u64 ret = 0;
	__u32 id;

	if (kfunc_id(ctx, &id))
		return 0;
	bpf_get_func_ret(ctx, &ret);
	zt_pop(id, (__s64)ret);
	return 0;
}
