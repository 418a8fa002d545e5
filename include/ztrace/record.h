/* SPDX-License-Identifier: MIT */
/*
 * The record ABI between ztrace's BPF programs and its agent. Every ring-buffer record starts
 * with struct zt_rec_hdr; type numbers are fixed. Padding is explicit so BPF (clang -target bpf)
 * and the agent (gcc) lay records out the same; user/record_abi.c checks sizes and offsets.
 */
#ifndef ZTRACE_RECORD_H
#define ZTRACE_RECORD_H

#include "limits.h"

#ifdef __bpf__
typedef __u8 zt_u8;
typedef __u16 zt_u16;
typedef __u32 zt_u32;
typedef __u64 zt_u64;
typedef __s64 zt_s64;
#else
#include <stdint.h>
typedef uint8_t zt_u8;
typedef uint16_t zt_u16;
typedef uint32_t zt_u32;
typedef uint64_t zt_u64;
typedef int64_t zt_s64;
#endif

enum zt_rec_type {
	ZT_REC_SPAN = 1,	/* a completed (or abandoned) call: struct zt_span_rec */
	ZT_REC_EXIT = 2,	/* a traced process ended (its last thread exited): zt_exit_rec */
	ZT_REC_EXEC = 3,	/* a process exec'd (agent discovery): zt_exit_rec layout */
};

/* Values in the targets map: what is traced in that process. */
enum zt_target_flags {
	ZT_TARGET_FUNCS = 1 << 0,    /* function, kernel and event probes */
	ZT_TARGET_SYSCALLS = 1 << 1, /* syscalls */
};

/*
 * A targets map value: what is traced in that process and how its function calls are judged
 * (the agent's per-rule policy; ztrace trace gives every target its global options).
 */
struct zt_target_policy {
	zt_u8 flags;  /* enum zt_target_flags */
	zt_u8 err_op; /* enum zt_err_op: which return values are errors */
	zt_u8 ret32;  /* return values are 32-bit ints */
	zt_u8 pad0;
	zt_u32 pad1;
	zt_s64 err_val;	    /* compared with the return value by err_op */
	zt_u64 span_min_ns; /* no span for a call that succeeded faster (still aggregated) */
};

/*
 * An executable file as the kernel names it, the key of the exec_files map: a process that
 * execs it is made a target at once, before its first instruction (see zt_loader_select_file).
 */
struct zt_file_key {
	zt_u64 dev; /* super_block s_dev: the kernel's MKDEV encoding, major << 20 | minor */
	zt_u64 ino;
};

/* zt_span_rec.flags */
enum zt_span_flags {
	ZT_SPAN_INCOMPLETE = 1 << 0, /* thread ended before the call returned */
	ZT_SPAN_SYSCALL = 1 << 1,    /* probe_id is a syscall number, not a function probe */
	ZT_SPAN_INSTANT = 1 << 2,    /* a point event (tracepoint, USDT hit): start == end */
	ZT_SPAN_ARGS = 1 << 3,	     /* a struct zt_args_part follows (hdr.size includes it) */
	ZT_SPAN_ERROR = 1 << 4,	     /* the return value failed the process's error rule */
};

struct zt_rec_hdr {
	zt_u16 type;  /* enum zt_rec_type */
	zt_u16 flags; /* type-specific */
	zt_u32 size;  /* whole record, header included */
	zt_u64 ts_ns; /* CLOCK_MONOTONIC (bpf_ktime_get_ns) when the record was made */
};

/* One span, emitted when the call returns: entry and exit in one record. */
struct zt_span_rec {
	struct zt_rec_hdr hdr;
	zt_u64 span_id;	     /* unique per boot and run; 0 is never used */
	zt_u64 parent_id;    /* innermost open call on the same thread, 0 for a root */
	zt_u64 root_id;	     /* span id of the root of this call's trace */
	zt_u64 start_ns;     /* CLOCK_MONOTONIC */
	zt_u64 end_ns;	     /* CLOCK_MONOTONIC */
	zt_s64 ret;	     /* return value (rax) */
	zt_u64 syscall_ns;   /* time spent in syscalls made while this call was innermost */
	zt_u32 syscall_count;
	zt_u32 probe_id;     /* index into the agent's probe table (or syscall number) */
	zt_u32 pid;	     /* tgid */
	zt_u32 tid;
	zt_u16 depth;	     /* 0 for a root */
	zt_u16 pad0;
	zt_u32 pad1;
	char comm[ZT_COMM_LEN];
};

/*
 * Argument capture (--capture). Nothing of a traced process's memory is read unless its probe
 * asked: the agent sets ZT_COOKIE_ARGS in the uprobe cookie of such probes only (the low half
 * is the probe id) and their zt_arg_spec in a map indexed by probe id.
 */
#define ZT_COOKIE_ARGS (1ULL << 32)

/* What one probe captures. */
struct zt_arg_spec {
	zt_u8 int_mask;			 /* bit i: register argument i, as an integer */
	zt_u8 nstr;			 /* strings, at most ZT_ARGS_MAX_STRS */
	zt_u8 str_arg[ZT_ARGS_MAX_STRS]; /* register argument holding each string's pointer */
	zt_u8 str_len[ZT_ARGS_MAX_STRS]; /* bytes kept of each, 1..ZT_ARG_STR_MAX */
	zt_u8 int32_mask;		 /* of int_mask: a 32-bit int, sign-extended by the agent */
	zt_u8 pad[5 - 2 * ZT_ARGS_MAX_STRS];
};

enum zt_arg_str_flags {
	ZT_ARG_STR_TRUNCATED = 1 << 0, /* longer than its limit: the first len bytes are kept */
	ZT_ARG_STR_FAULT = 1 << 1,     /* the pointer could not be read (NULL, unmapped) */
};

struct zt_arg_str {
	zt_u8 arg;		       /* register argument index */
	zt_u8 flags;		       /* enum zt_arg_str_flags */
	zt_u16 len;		       /* bytes of text, the NUL not counted */
	char text[ZT_ARG_STR_MAX + 4]; /* NUL-terminated; zeroed past the NUL */
};

/* The trailing part of a span record with ZT_SPAN_ARGS. */
struct zt_args_part {
	struct zt_arg_spec spec;		  /* what was asked */
	zt_u64 regs[ZT_ARGS_MAX];		  /* spec.int_mask's registers; the others are 0 */
	struct zt_arg_str strs[ZT_ARGS_MAX_STRS]; /* the first spec.nstr */
};

struct zt_exit_rec {
	struct zt_rec_hdr hdr;
	zt_u32 pid;
	zt_u32 pad;
};

/*
 * The error rule (--error-if 'ret<0'), applied by the kernel side to count errors in the
 * aggregates and by the agent to set span status, so both always agree.
 */
enum zt_err_op {
	ZT_ERR_NONE = 0, /* no call is an error */
	ZT_ERR_LT,
	ZT_ERR_LE,
	ZT_ERR_EQ,
	ZT_ERR_NE,
	ZT_ERR_GT,
	ZT_ERR_GE,
};

/*
 * The per-thread stack of open calls (BPF hash map keyed by tid). The agent reads it at detach
 * to report calls still open as incomplete.
 */
struct zt_frame {
	zt_u64 span_id;
	zt_u64 start_ns;
	zt_u64 syscall_ns;
	zt_u32 syscall_count;
	zt_u32 probe_id;
};

struct zt_thread_stack {
	zt_u64 root_id; /* root span of the trace the thread is in */
	zt_u32 depth;	/* open calls, including ones past ZT_MAX_DEPTH that were not stored */
	zt_u32 tgid;
	/* the thread's name when its outermost open call was made: an exec renames the thread
	 * before the calls it ends are reported */
	char comm[ZT_COMM_LEN];
	struct zt_frame frames[ZT_MAX_DEPTH];
	/* sampled_open[k]: calls sampled out by the governor and still open directly above the
	 * first k frames (bpf/sample.bpf.h): their returns are recognised by this count */
	zt_u32 sampled_open[ZT_MAX_DEPTH];
};

/* Failed syscalls by errno (per-CPU hash map, value: a count). */
struct zt_errno_key {
	zt_u32 tgid;
	zt_u32 nr;  /* syscall number */
	zt_u32 err; /* positive errno */
};

/* USDT cookies: the probe id, with this bit set on the END probe of a START..END pair. */
#define ZT_USDT_END_BIT 0x80000000u

/*
 * Switches the agent flips at run time (a one-entry array map shared by every program).
 * aggregate: no span record for a call that succeeded faster than span_min_ns; the in-kernel
 * aggregates still count every call (--aggregate, or the overload governor).
 */
struct zt_control {
	zt_u32 aggregate;
	zt_u32 pad;
	zt_u64 span_min_ns;
};

/* Per-probe counters kept by the kernel side (per-CPU array indexed by probe id). */
struct zt_probe_stats {
	zt_u64 lost;	 /* ring buffer full: a completed span could not be recorded */
	zt_u64 overflow; /* call deeper than ZT_MAX_DEPTH: not recorded */
	zt_u64 args_lost; /* --capture: no room for the arguments (ZT_MAX_ARG_SLOTS) */
	zt_u64 calls;	  /* entries of the probe by traced processes (function probes) */
	zt_u64 sampled_out; /* of those, left out by the overhead governor's sampling */
};

/*
 * In-kernel aggregates per (process, probe): counters and a log2 latency histogram, updated by
 * the BPF side for every completed call, read by the agent for metrics. Per-CPU hash map.
 * For syscalls probe_id is ZT_AGG_SYSCALL_BASE + syscall number.
 */
#define ZT_AGG_SYSCALL_BASE 0x80000000u
/* x86_64 __NR_uretprobe: how Linux 6.11+ returns from a uretprobe trampoline. */
#define ZT_NR_URETPROBE 335
/* Syscall span records lost are counted in probe_stats under this id. */
#define ZT_SYSCALL_STATS_ID (ZT_MAX_PROBES - 1)
/* Process-exit records lost are counted under this id. */
#define ZT_EXIT_STATS_ID (ZT_MAX_PROBES - 2)
/* Exec records lost (agent discovery) are counted under this id. */
#define ZT_EXEC_STATS_ID (ZT_MAX_PROBES - 3)

struct zt_agg_key {
	zt_u32 tgid;
	zt_u32 probe_id;
};

struct zt_agg_val {
	zt_u64 count; /* calls timed: the histogram's count */
	zt_u64 errors;
	zt_u64 sum_ns;
	zt_u64 max_ns;
	zt_u64 sampled_out; /* calls the overhead governor left out: counted, not timed */
	zt_u64 buckets[ZT_HIST_BUCKETS]; /* bucket i: duration < 2^i ns (and >= 2^(i-1)) */
};

#endif
