/* SPDX-License-Identifier: MIT */
/* `ztrace agent --config FILE --check-config`: validate the config and say so. */
#ifndef ZTRACE_CMD_AGENT_CHECK_H
#define ZTRACE_CMD_AGENT_CHECK_H

/*
 * Load the agent config at path. Prints "config OK: N rule(s)" on stdout and returns 0, or
 * prints the error ("ztrace: FILE:LINE:COLUMN: ...") on stderr and returns 2 (the user can fix
 * it: a bad or unreadable file), or 1 when out of memory. The process exit code.
 */
int zt_cmd_agent_check(const char *path);

#endif
