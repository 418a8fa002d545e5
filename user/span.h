/* SPDX-License-Identifier: MIT */
/*
 * Spans as the agent hands them to exporters: ids already mapped to their exported (random
 * looking, per-run unique) form, times in unix nanoseconds.
 */
#ifndef ZTRACE_SPAN_H
#define ZTRACE_SPAN_H

#include <stdbool.h>
#include <stdint.h>
#include "ztrace/record.h"

enum zt_span_kind {
	ZT_KIND_FUNCTION,
	ZT_KIND_SYSCALL,
	ZT_KIND_KERNEL,
	ZT_KIND_USDT,
	ZT_KIND_TRACEPOINT,
};

enum zt_span_status {
	ZT_STATUS_OK,
	ZT_STATUS_ERROR,
	ZT_STATUS_INCOMPLETE,
};

struct zt_span {
	uint8_t trace_id[16];
	uint64_t span_id;
	uint64_t parent_span_id; /* 0 for a root span */
	uint64_t start_ns;	 /* unix time */
	uint64_t end_ns;	 /* unix time */
	int64_t ret;
	uint64_t syscall_ns; /* time in syscalls made while this call was innermost */
	uint32_t syscall_count;
	uint32_t pid;
	uint32_t tid;
	uint32_t probe_id;
	uint16_t depth; /* nesting depth on its thread, 0 for a root */
	enum zt_span_kind kind;
	enum zt_span_status status;
	char comm[ZT_COMM_LEN];
	const char *name;  /* function or syscall name; owned by the probe table */
	const char *probe; /* the probe as written in DESIGN.md form, e.g. "u:/usr/bin/x:main" */
	const char *binary; /* absolute path of the file the function lives in, or NULL */
	struct zt_args_part args; /* --capture: arguments at entry (span_args.h); zero if none */
};

const char *zt_span_kind_name(enum zt_span_kind kind);
const char *zt_span_status_name(enum zt_span_status status);

/* Write 32 lowercase hex digits of the trace id and a NUL into out. */
void zt_trace_id_hex(const uint8_t trace_id[16], char out[33]);

#endif
