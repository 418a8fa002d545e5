/* SPDX-License-Identifier: MIT */
/*
 * Test helper for the integration tests: start traced targets and ztrace, and check ztrace's
 * exit and output contracts, failing the Criterion test with what went wrong.
 */
#ifndef ZT_TEST_ZTRUN_H
#define ZT_TEST_ZTRUN_H

#include <stdbool.h>
#include <stddef.h>

#include "common/jsonl.h"
#include "common/runproc.h"
#include "common/testenv.h"

/* Deadlines, in milliseconds (zt_proc_* stretches them by ZT_TIME_SCALE). */
#define ZT_READY_MS  3000 /* a --wait target prints "ready <pid>" */
#define ZT_ATTACH_MS 5000 /* ztrace prints its "tracing" line */
#define ZT_REFUSE_MS 5000 /* ztrace refuses bad input */

/* What ztrace prints on stderr once every probe is attached. */
#define ZT_TRACING_LINE "ztrace: tracing "

/*
 * Runs @a (with @opts, may be NULL) and checks the refusal contract: exit 2, nothing on
 * stdout, exactly one line on stderr starting "ztrace: " and containing every string of the
 * NULL-terminated @needles. Copies the line (without its newline) to @line when not NULL.
 */
void zt_expect_refusal(struct zt_argv *a, const struct zt_spawn_opts *opts,
		       const char *const *needles, char *line, size_t size);

/* Starts @bin --wait with the NULL-terminated @extra arguments; returns once it is ready. */
void zt_start_waiting(struct zt_proc *p, const char *bin, const char *const *extra);

/* Lets a target started by zt_start_waiting() go (one byte on its stdin). */
void zt_release(struct zt_proc *target);

/* Starts ztrace with @a and waits for its "tracing" line on stderr. */
void zt_start_tracing(struct zt_proc *zt, struct zt_argv *a);

/*
 * Starts @bin --wait with @extra (as zt_start_waiting()) in @target, then @ztrace trace
 * --format json -p PID with the NULL-terminated @args in @zt, and waits until it traces.
 */
void zt_trace_waiting_json(const char *ztrace, struct zt_proc *zt, struct zt_proc *target,
			   const char *bin, const char *const *extra, const char *const *args);

/* Waits up to @timeout_ms for @p to exit with @code (128 + N: killed by signal N). */
void zt_expect_exit(struct zt_proc *p, const char *what, int code, int timeout_ms);

/* Parses ztrace's JSON stdout into @spans; every stdout line must be a span. */
void zt_parse_spans(struct zt_proc *zt, struct zt_spans *spans);

#endif
