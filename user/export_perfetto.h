/* SPDX-License-Identifier: MIT */
/*
 * Perfetto / chrome://tracing export: the Chrome trace-event JSON format, one track per thread,
 * each call a complete ("X") slice nested inside its caller's.
 */
#ifndef ZTRACE_EXPORT_PERFETTO_H
#define ZTRACE_EXPORT_PERFETTO_H

#include <stddef.h>
#include <stdio.h>
#include "span.h"
#include "store.h"

/*
 * Write spans (any order) as one trace-event JSON document to out. Timestamps are microseconds
 * (three decimals, so nanoseconds survive) since the earliest span's start, which is recorded
 * as otherData.time_origin_unix_ns; absolute unix times would lose the nanoseconds in the
 * doubles that viewers parse them into. A slice that overruns its enclosing slice on the same
 * thread is clipped to it, so the viewers nest every slice. procs (may be NULL) names the
 * process tracks; without an entry a process is named after the comm of its spans. Returns 0,
 * -ENOMEM or -EIO.
 */
int zt_perfetto_write(FILE *out, const struct zt_span *spans, size_t n,
		      const struct zt_store_process *procs, size_t nprocs);

#endif
