/* SPDX-License-Identifier: MIT */
/*
 * The summary's private state, shared by the accumulation (summary.c) and the printing
 * (summary_print.c). Not part of the API: see summary.h.
 */
#ifndef ZTRACE_SUMMARY_INTERNAL_H
#define ZTRACE_SUMMARY_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "latency.h"
#include "summary.h"

struct errno_count {
	int err;
	uint64_t count;
};

struct summary_row {
	enum zt_span_kind kind;
	char *name;
	char *binary; /* NULL for syscalls and for spans without one */
	uint64_t hash;
	uint64_t calls;
	uint64_t errors;
	uint64_t incomplete;
	struct zt_latency lat;	    /* complete calls only */
	struct errno_count *errnos; /* syscalls: errors by errno, unordered */
	size_t nerrnos;
};

struct capture {
	char *probe;
	uint64_t delivered;
	uint64_t lost;
};

struct zt_summary {
	struct summary_row **rows;
	size_t nrows, rows_cap;
	/* Open-addressing index into rows: slot holds row index + 1, 0 when free. */
	size_t *slots;
	size_t nslots;
	struct capture *captures;
	size_t ncaptures, captures_cap;
};

#endif
