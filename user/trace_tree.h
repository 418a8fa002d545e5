/* SPDX-License-Identifier: MIT */
/* The slowest traces of a run as indented call trees (`ztrace report --top N`). */
#ifndef ZTRACE_TRACE_TREE_H
#define ZTRACE_TRACE_TREE_H

#include <stddef.h>
#include <stdio.h>
#include "span.h"

/*
 * Group spans (any order) by trace id, pick the top traces with the longest root span (a
 * trace whose root was not recorded counts from its first start to its last end) and print
 * each as a tree: children under their parent in start order, with start offset, duration
 * and any status other than ok. At most ZT_TRACE_TREE_MAX_LINES spans per tree are printed.
 * Returns 0 or -ENOMEM (nothing printed then).
 */
int zt_trace_tree_print(FILE *out, const struct zt_span *spans, size_t n, size_t top);

#endif
