/* SPDX-License-Identifier: MIT */
/* `ztrace trace` / `ztrace record`: one tracing session from argument checks to the summary. */
#ifndef ZTRACE_TRACER_H
#define ZTRACE_TRACER_H

#include "cli.h"

/* Run a session as opts says. Returns the process exit code (enum zt_exit). */
int zt_cmd_trace(const struct zt_options *opts);

#endif
