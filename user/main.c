// SPDX-License-Identifier: MIT
/* ztrace: wires the command line to the command that runs. */
#include <stdio.h>
#include "agent.h"
#include "cli.h"
#include "cmd_agent_check.h"
#include "cmd_probes.h"
#include "cmd_report.h"
#include "log.h"
#include "tracer.h"
#include "version.h"

static int run(const struct zt_options *opts)
{
	switch (opts->cmd) {
	case ZT_CMD_HELP:
		zt_cli_usage(stdout);
		return ZT_EXIT_OK;
	case ZT_CMD_VERSION:
		printf("ztrace %s\n", ZTRACE_VERSION);
		return ZT_EXIT_OK;
	case ZT_CMD_TRACE:
	case ZT_CMD_RECORD:
		return zt_cmd_trace(opts);
	case ZT_CMD_REPORT:
		return zt_cmd_report(opts->file, opts->top, stdout);
	case ZT_CMD_EXPORT:
		return zt_cmd_export(opts->file, opts->export_format, stdout);
	case ZT_CMD_PROBES:
		return zt_cmd_probes(opts);
	case ZT_CMD_AGENT:
		return opts->check_config ? zt_cmd_agent_check(opts->config) : zt_cmd_agent(opts);
	}
	return ZT_EXIT_USAGE;
}

int main(int argc, char **argv)
{
	struct zt_options opts;
	char err[512];
	int code;

	if (zt_cli_parse(argc, argv, &opts, err, sizeof(err))) {
		zt_err("%s", err);
		return ZT_EXIT_USAGE;
	}
	zt_log_set_level(opts.verbose >= 2 ? ZT_LOG_DEBUG
			 : opts.verbose	    ? ZT_LOG_INFO
					    : ZT_LOG_NOTICE);
	zt_log_install_libbpf();
	code = run(&opts);
	zt_options_free(&opts);
	return code;
}
