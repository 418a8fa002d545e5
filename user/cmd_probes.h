/* SPDX-License-Identifier: MIT */
/* `ztrace probes`: list the functions a probe spec could attach to. */
#ifndef ZTRACE_CMD_PROBES_H
#define ZTRACE_CMD_PROBES_H

#include "cli.h"

/* Returns the process exit code. */
int zt_cmd_probes(const struct zt_options *opts);

#endif
