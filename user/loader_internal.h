/* SPDX-License-Identifier: MIT */
/*
 * The loader's private state, shared by the session setup (loader.c) and the uprobe
 * attachments (loader_uprobes.c). Not part of the API: see loader.h.
 */
#ifndef ZTRACE_LOADER_INTERNAL_H
#define ZTRACE_LOADER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <bpf/libbpf.h>
#include "loader.h"

struct zt_loader {
	struct uprobe_bpf *skel;
	struct syscall_bpf *sys; /* NULL without --syscalls */
	struct bpf_link *sys_links[2];
	struct bpf_link **links;
	uint32_t *link_group; /* [cap]: the group each link was attached in */
	size_t nlinks, cap;
	size_t nuprobes;
	uint32_t group; /* of the attachments made now (zt_loader_set_group) */
	struct bpf_link *exit_link;
	struct bpf_link *exec_link;    /* ends open calls at exec; agent discovery */
	int *fds;		       /* uprobe_multi link fds */
	uint32_t *fd_group, *fd_count; /* [fds_cap]: group, and functions the link probes */
	size_t nfds, fds_cap;
	bool multi; /* attach through uprobe_multi links */
	struct zt_loader_config cfg;
	uint8_t *captures; /* [ZT_MAX_PROBES]: probe ids with a --capture spec, NULL if none */
	int ncpus;
	/* read-only views of the ring buffer's consumer and producer positions */
	const volatile unsigned long *rb_consumer, *rb_producer;
};

#endif
