/* SPDX-License-Identifier: MIT */
/* The JSON-lines span format of DESIGN.md ("JSON lines"): one object per line. */
#ifndef ZTRACE_EXPORT_JSON_H
#define ZTRACE_EXPORT_JSON_H

#include <stdio.h>
#include "span.h"

/* Write span as one JSON line (with the trailing newline). Returns 0 or -EIO. */
int zt_json_write_span(FILE *out, const struct zt_span *span);

/* Write s as a JSON string literal (quotes included), escaping as RFC 8259 requires. */
void zt_json_write_string(FILE *out, const char *s);

#endif
