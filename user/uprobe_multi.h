/* SPDX-License-Identifier: MIT */
/*
 * uprobe_multi links (Linux 6.6+): one BPF link attaches a program to many offsets of one file,
 * and releasing it unregisters them all behind a single RCU grace period, where one perf-event
 * link per function waits one grace period each (~75 ms here: 'u:libc:*' took minutes to
 * detach). libbpf 1.1 predates them, so this speaks bpf(2) directly.
 */
#ifndef ZTRACE_UPROBE_MULTI_H
#define ZTRACE_UPROBE_MULTI_H

#include <stdbool.h>
#include <stdint.h>

/* enum bpf_attach_type value of BPF_TRACE_UPROBE_MULTI (include/uapi/linux/bpf.h, 6.6). */
#define ZT_BPF_TRACE_UPROBE_MULTI 48

/* Whether the kernel loads programs for uprobe_multi links. Probed once, then cached. */
bool zt_uprobe_multi_supported(void);

/*
 * Attach prog_fd (loaded with expected_attach_type ZT_BPF_TRACE_UPROBE_MULTI) to the cnt file
 * offsets of path, as return probes if retprobe; cookies[i] is what bpf_get_attach_cookie()
 * returns at offsets[i]. pid > 0 limits it to that process. Returns the link fd or -errno.
 */
int zt_uprobe_multi_attach(int prog_fd, const char *path, const uint64_t *offsets,
			   const uint64_t *cookies, uint32_t cnt, bool retprobe, int pid);

#endif
