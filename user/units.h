/* SPDX-License-Identifier: MIT */
/* Quantities users write on the command line and in the agent's config: sizes and budgets. */
#ifndef ZTRACE_UNITS_H
#define ZTRACE_UNITS_H

#include <stddef.h>
#include <stdint.h>

/*
 * Parse a size: an integer with an optional unit B; K, KiB, Ki; M, MiB, Mi; G, GiB, Gi;
 * T, TiB, Ti (powers of 1024) or kB, KB, MB, GB, TB (powers of 1000). Returns 0, -EINVAL
 * for a malformed size, -ERANGE when it does not fit in 64 bits.
 */
int zt_parse_size(const char *text, uint64_t *bytes);

/*
 * Parse a probe budget (the overhead governor's): "N%" of one CPU (0 < N <= 100, decimals
 * allowed) or N nanoseconds of BPF run time per second. Returns 0 with *ns_per_s set, or
 * -EINVAL with a one-line reason in err.
 */
int zt_parse_probe_budget(const char *text, uint64_t *ns_per_s, char *err, size_t errlen);

#endif
