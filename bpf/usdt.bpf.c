// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * USDT probes (usdt:FILE:PROVIDER:NAME) through libbpf's USDT support: a hit is a point event on
 * the current span; a START..END pair opens and closes a span of its own, which nests like a
 * function call. The cookie is the probe id, with ZT_USDT_END_BIT on the END probe.
 */
#include "span_stack.bpf.h"
#include <bpf/usdt.bpf.h>

char LICENSE[] SEC("license") = "GPL";

/* Which probe ids are START probes of a pair (others are single points). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, ZT_MAX_PROBES);
	__type(key, __u32);
	__type(value, __u8);
} usdt_pairs SEC(".maps");

SEC("usdt")
int zt_usdt(struct pt_regs *ctx)
{
	__u32 cookie = (__u32)bpf_usdt_cookie(ctx);
	__u32 id = cookie & ~ZT_USDT_END_BIT;
	__u8 *pair;

	if (cookie & ZT_USDT_END_BIT) {
		zt_pop(id, 0);
		return 0;
	}
	pair = bpf_map_lookup_elem(&usdt_pairs, &id);
	if (pair && *pair)
		zt_push(id);
	else
		zt_emit_instant(id);
	return 0;
}
