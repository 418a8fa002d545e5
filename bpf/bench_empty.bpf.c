// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Benchmark floor: programs that do nothing, attached where ztrace's real ones go, so a
 * benchmark can tell the kernel's cost of getting into BPF from the cost of ztrace's work.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual MIT/GPL";

SEC("uprobe")
int empty_entry(void *ctx)
{
	return 0;
}

SEC("uretprobe")
int empty_return(void *ctx)
{
	return 0;
}

SEC("raw_tp/sys_enter")
int empty_sys_enter(void *ctx)
{
	return 0;
}

SEC("raw_tp/sys_exit")
int empty_sys_exit(void *ctx)
{
	return 0;
}
