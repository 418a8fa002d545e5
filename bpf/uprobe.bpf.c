// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Function spans from uprobes. One entry and one return program are attached to every traced
 * function; the BPF cookie carries the probe id, so one program pair serves all functions.
 */
#include "span_stack.bpf.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

SEC("uprobe")
int BPF_KPROBE(zt_uprobe_entry)
{
	zt_push((__u32)bpf_get_attach_cookie(ctx));
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(zt_uprobe_return, long ret)
{
	zt_pop((__u32)bpf_get_attach_cookie(ctx), ret);
	return 0;
}

/* A thread is exiting: its open calls will never return. */
SEC("raw_tp/sched_process_exit")
int zt_thread_exit(void *ctx)
{
	zt_flush_thread();
	return 0;
}
