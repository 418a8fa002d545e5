/* SPDX-License-Identifier: MIT */
/* Reading the kernel's per-CPU aggregates (aggs, sys_errnos maps) into per-key totals. */
#ifndef ZTRACE_AGGS_H
#define ZTRACE_AGGS_H

#include <stddef.h>
#include <stdint.h>
#include "ztrace/record.h"

struct zt_agg_entry {
	struct zt_agg_key key;
	struct zt_agg_val val; /* summed over CPUs; max_ns is the max over CPUs */
};

struct zt_errno_entry {
	struct zt_errno_key key;
	uint64_t count;
};

/* Read every entry of the aggs map fd. *out is the caller's to free. Returns 0 or -errno. */
int zt_aggs_read(int fd, struct zt_agg_entry **out, size_t *n);

/* Read every entry of the sys_errnos map fd. *out is the caller's to free. */
int zt_errnos_read(int fd, struct zt_errno_entry **out, size_t *n);

#endif
