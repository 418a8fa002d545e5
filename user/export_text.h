/* SPDX-License-Identifier: MIT */
/* Human-readable span lines for the terminal: one line per completed call, indented by depth. */
#ifndef ZTRACE_EXPORT_TEXT_H
#define ZTRACE_EXPORT_TEXT_H

#include <stdio.h>
#include "span.h"

void zt_text_write_header(FILE *out);

/* One line for span; times are printed in seconds since t0_ns (unix ns). */
void zt_text_write_span(FILE *out, const struct zt_span *span, uint64_t t0_ns);

#endif
