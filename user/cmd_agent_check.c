// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>

#include "agent_config.h"
#include "cli.h"
#include "cmd_agent_check.h"
#include "log.h"

/* A message names the file, line and column, and quotes what it says is wrong. */
#define CHECK_ERR_LEN 1024

int zt_cmd_agent_check(const char *path)
{
	struct zt_agent_config cfg;
	char err[CHECK_ERR_LEN];
	int ret;

	ret = zt_agent_config_load(path, &cfg, err, sizeof(err));
	if (ret) {
		zt_err("%s", err);
		return ret == -ENOMEM ? ZT_EXIT_FAILURE : ZT_EXIT_USAGE;
	}
	printf("config OK: %zu rule%s\n", cfg.nrules, cfg.nrules == 1 ? "" : "s");
	fflush(stdout);
	zt_agent_config_free(&cfg);
	return ZT_EXIT_OK;
}
