// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Kernel tracepoints (t:CATEGORY:NAME) as point events on the current span of the thread that
 * hit them. One program serves every tracepoint: the BPF cookie carries the probe id. Maps are
 * shared with uprobe.bpf.c.
 */
#include "span_stack.bpf.h"

char LICENSE[] SEC("license") = "GPL";

SEC("tracepoint")
int zt_tracepoint(void *ctx)
{
	zt_emit_instant((__u32)bpf_get_attach_cookie(ctx));
	return 0;
}
