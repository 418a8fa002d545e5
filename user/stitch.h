/* SPDX-License-Identifier: MIT */
/*
 * Turning kernel span records into exported spans: the kernel hands out compact per-boot ids;
 * the agent maps them through a keyed bijection so exported ids look random and differ from
 * run to run, derives the 128-bit trace id from the root span id, converts monotonic times to
 * unix times once, and applies the error rule.
 */
#ifndef ZTRACE_STITCH_H
#define ZTRACE_STITCH_H

#include "span.h"
#include "ztrace/record.h"

struct zt_stitch {
	uint64_t salt[3];
	int64_t mono_to_real_ns; /* add to a CLOCK_MONOTONIC time to get unix time */
};

/* Seed the salts from getrandom() and measure the clock offset. */
void zt_stitch_init(struct zt_stitch *st);

/* Exported form of a kernel span id (0 stays 0). */
uint64_t zt_stitch_span_id(const struct zt_stitch *st, uint64_t kernel_id);

/*
 * Fill out from rec; out->name/probe/binary/kind are left for the caller (probe table). args is
 * the record's trailing part (ZT_SPAN_ARGS), checked by the caller, or NULL.
 */
void zt_stitch_span(const struct zt_stitch *st, const struct zt_span_rec *rec,
		    const struct zt_args_part *args, struct zt_span *out);

/*
 * Whether the trace of root span root_id is kept when fraction (0, 1] of traces are: decided
 * from the root id alone, so a trace is kept or dropped whole and the same way every time.
 */
bool zt_stitch_sampled_in(const struct zt_stitch *st, uint64_t root_id, double fraction);

#endif
