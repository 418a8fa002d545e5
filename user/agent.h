/* SPDX-License-Identifier: MIT */
/* `ztrace agent`: the host-wide daemon that traces the processes its config's rules select. */
#ifndef ZTRACE_AGENT_H
#define ZTRACE_AGENT_H

#include "cli.h"

/* Run the agent until SIGINT/SIGTERM (SIGHUP reloads the config). Returns the exit code. */
int zt_cmd_agent(const struct zt_options *opts);

#endif
