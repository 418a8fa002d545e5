/* SPDX-License-Identifier: MIT */
/*
 * Collecting the kernel's per-(process, probe) aggregates: copied into the metrics registry on
 * every refresh, and into the summary's syscall table when a process ends (then removed from
 * the kernel maps, so a later process with the same pid starts from zero) or at the end.
 */
#ifndef ZTRACE_COLLECT_H
#define ZTRACE_COLLECT_H

#include <stdbool.h>
#include <stdint.h>
#include "loader.h"
#include "metrics.h"
#include "probes.h"
#include "proctable.h"
#include "summary.h"

struct zt_collect {
	struct zt_loader *loader;
	const struct zt_probe_table *probes;
	struct zt_proctable *procs;
	struct zt_metrics *metrics; /* NULL without --metrics-addr */
	struct zt_summary *summary;
	bool syscalls; /* summarise syscalls */
	/* The same tables from the kernel's exact counts alone, functions included: shown when
	 * spans were not all made (--aggregate, overload) or some were lost. */
	struct zt_summary *exact;
};

/* Copy every live aggregate into the metrics registry (no-op without metrics). */
void zt_collect_refresh(struct zt_collect *c);

/* pid ended: final values to metrics and summary, then drop its kernel entries. */
void zt_collect_process_exit(struct zt_collect *c, uint32_t pid);

/* The end of the session: everything left goes to metrics and the summary. */
void zt_collect_finish(struct zt_collect *c);

#endif
