// SPDX-License-Identifier: MIT
/* The record layout is shared with BPF compiled by clang; any drift must fail the build. */
#include <stddef.h>
#include "ztrace/record.h"

_Static_assert(sizeof(struct zt_rec_hdr) == 16, "zt_rec_hdr size");
_Static_assert(offsetof(struct zt_rec_hdr, ts_ns) == 8, "zt_rec_hdr.ts_ns");
_Static_assert(sizeof(struct zt_span_rec) == 112, "zt_span_rec size");
_Static_assert(offsetof(struct zt_span_rec, span_id) == 16, "zt_span_rec.span_id");
_Static_assert(offsetof(struct zt_span_rec, ret) == 56, "zt_span_rec.ret");
_Static_assert(offsetof(struct zt_span_rec, syscall_count) == 72, "zt_span_rec.syscall_count");
_Static_assert(offsetof(struct zt_span_rec, probe_id) == 76, "zt_span_rec.probe_id");
_Static_assert(offsetof(struct zt_span_rec, depth) == 88, "zt_span_rec.depth");
_Static_assert(offsetof(struct zt_span_rec, comm) == 96, "zt_span_rec.comm");
_Static_assert(sizeof(struct zt_exit_rec) == 24, "zt_exit_rec size");
_Static_assert(sizeof(struct zt_agg_key) == 8, "zt_agg_key size");
_Static_assert(sizeof(struct zt_agg_val) == 40 + 8 * ZT_HIST_BUCKETS, "zt_agg_val size");
_Static_assert(offsetof(struct zt_agg_val, buckets) == 40, "zt_agg_val.buckets");
_Static_assert(sizeof(struct zt_errno_key) == 12, "zt_errno_key size");
_Static_assert(sizeof(struct zt_thread_stack) == 16 + ZT_COMM_LEN + 36 * ZT_MAX_DEPTH,
	       "zt_thread_stack size");
_Static_assert(offsetof(struct zt_thread_stack, frames) == 32, "zt_thread_stack.frames");
_Static_assert(sizeof(struct zt_target_policy) == 24, "zt_target_policy size");
_Static_assert(offsetof(struct zt_target_policy, err_val) == 8, "zt_target_policy.err_val");
_Static_assert(offsetof(struct zt_target_policy, span_min_ns) == 16, "zt_target_policy.span_min");
_Static_assert(sizeof(struct zt_probe_stats) == 40, "zt_probe_stats size");
_Static_assert(sizeof(struct zt_arg_spec) == 8, "zt_arg_spec size");
_Static_assert(sizeof(struct zt_arg_str) == 72, "zt_arg_str size");
_Static_assert(offsetof(struct zt_arg_str, text) == 4, "zt_arg_str.text");
_Static_assert(sizeof(struct zt_args_part) == 200, "zt_args_part size");
_Static_assert(offsetof(struct zt_args_part, regs) == 8, "zt_args_part.regs");
_Static_assert(offsetof(struct zt_args_part, strs) == 56, "zt_args_part.strs");
