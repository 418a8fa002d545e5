/* SPDX-License-Identifier: MIT */
/*
 * Point probes: kernel tracepoints (t:CATEGORY:NAME) and USDT probes (usdt:FILE:PROVIDER:NAME,
 * or START..END for a span bounded by two probes). Hits are events on the current span of the
 * thread; programs share the session's maps (user/loader.h).
 */
#ifndef ZTRACE_POINTS_H
#define ZTRACE_POINTS_H

#include <stdbool.h>
#include <stdint.h>
#include "loader.h"

struct zt_points;

/* Load the tracepoint and USDT programs. Returns NULL with a reason in err. */
struct zt_points *zt_points_open(struct zt_loader *l, char *err, size_t errlen);

/*
 * Record hits of tracepoint category:name as probe id. Returns 0, -ENOENT (no such tracepoint:
 * a usage error) or another -errno, with err.
 */
int zt_points_attach_tracepoint(struct zt_points *p, const char *category, const char *name,
				uint32_t id, char *err, size_t errlen);

/*
 * Record hits of USDT provider:name in path (pid -1 for every process) as probe id; end marks
 * the END probe of a START..END pair whose START has id too. Returns 0 or -errno with err.
 */
int zt_points_attach_usdt(struct zt_points *p, int pid, const char *path, const char *provider,
			  const char *name, uint32_t id, bool end, char *err, size_t errlen);

/* Make probe id the START of a pair: its hits open a span (closed by the END probe) instead
 * of being points. Call before attaching. Returns 0 or -errno. */
int zt_points_mark_pair(struct zt_points *p, uint32_t id);

void zt_points_detach(struct zt_points *p);
void zt_points_close(struct zt_points *p);

#endif
