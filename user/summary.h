/* SPDX-License-Identifier: MIT */
/*
 * The end-of-run summary of `ztrace trace` and `ztrace report`: one table of traced functions
 * (function, kernel, USDT and tracepoint spans), one of syscalls, and the capture accounting.
 *
 *   FUNCTION       CALLS  ERRORS  INCOMPL     MIN    MEAN     P50     P90     P99     MAX
 *   SYSCALL  COUNT  ERRORS            TOTAL    MEAN     P50     P99     MAX
 *   events: delivered D, lost L, capture rate R%
 *
 * Latency columns cover complete calls only; an incomplete call counts in CALLS and INCOMPL.
 */
#ifndef ZTRACE_SUMMARY_H
#define ZTRACE_SUMMARY_H

#include <stdint.h>
#include <stdio.h>

#include "span.h"
#include "ztrace/record.h"

struct zt_summary;

/* An empty summary, or NULL with errno set to ENOMEM. Release with zt_summary_free(). */
struct zt_summary *zt_summary_new(void);

/* Release s and everything it holds; NULL is ignored. */
void zt_summary_free(struct zt_summary *s);

/*
 * Account one span. Functions are keyed by (kind, name, binary), syscalls by name. Counts the
 * call, an error (status error; for syscalls also the errno of a -errno return), an incomplete
 * call (status incomplete, kept out of the latency) or the duration of a complete call. The
 * span's strings are copied. Returns 0, -EINVAL for a NULL span or -ENOMEM.
 */
int zt_summary_add(struct zt_summary *s, const struct zt_span *span);

/*
 * Set (not add) the ring-buffer accounting of one probe, as written: events delivered to
 * userspace and events lost. Probes with losses get a line of their own in the output; all
 * count in the total. Returns 0 or -ENOMEM.
 */
/*
 * Add an in-kernel aggregate of a syscall or function (one process's worth; call once per
 * process), and a syscall's failures by errno. These are exact counts even when span records
 * were lost or never made (--aggregate); latency columns come from the kernel's log2 histogram
 * (upper bounds within 2x, max and mean exact). Returns 0 or -ENOMEM.
 */
int zt_summary_add_agg(struct zt_summary *s, enum zt_span_kind kind, const char *name,
		       const char *binary, const struct zt_agg_val *v);

int zt_summary_add_syscall_errno(struct zt_summary *s, const char *name, int err, uint64_t count);

int zt_summary_set_capture(struct zt_summary *s, const char *probe, uint64_t delivered,
			   uint64_t lost);

/*
 * Print the tables and the capture accounting to out, columns aligned to their widest cell,
 * rows sorted by total time, most first. Returns 0, or -ENOMEM (nothing printed).
 */
int zt_summary_print(const struct zt_summary *s, FILE *out);

#endif
