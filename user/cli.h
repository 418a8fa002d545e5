/* SPDX-License-Identifier: MIT */
/* The command line: argv → struct zt_options. No side effects beyond parsing. */
#ifndef ZTRACE_CLI_H
#define ZTRACE_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "capture_spec.h"
#include "error_rule.h"
#include "ztrace/limits.h"

enum zt_command {
	ZT_CMD_HELP,
	ZT_CMD_VERSION,
	ZT_CMD_TRACE,
	ZT_CMD_RECORD,
	ZT_CMD_REPORT,
	ZT_CMD_EXPORT,
	ZT_CMD_PROBES,
	ZT_CMD_AGENT,
};

/* Exit codes: 2 means the user can fix it (the message says how). */
enum zt_exit { ZT_EXIT_OK = 0, ZT_EXIT_FAILURE = 1, ZT_EXIT_USAGE = 2 };

enum zt_output_format { ZT_FORMAT_TEXT, ZT_FORMAT_JSON };

struct zt_options {
	enum zt_command cmd;
	/* target selection (trace, record, probes) */
	int pids[ZT_MAX_TARGETS];
	size_t npids;
	char **specs; /* the strings are argv's; the array is freed by zt_options_free() */
	size_t nspecs;
	char **command; /* argv of the program to launch, NULL-terminated; NULL if none */
	/* tracing */
	double duration_s; /* -d; 0 = until the targets exit or a signal */
	enum zt_output_format format;
	struct zt_error_rule error_rule;
	bool ret32; /* --ret32: return values are 32-bit ints */
	int kprobe_mechanism; /* enum zt_kmech: --kprobe-mechanism auto|fentry|kprobe */
	bool kernel; /* probes -k: list kernel functions */
	bool usdt;   /* probes --list-usdt FILE */
	unsigned max_probes;
	uint64_t min_duration_ns;
	bool syscalls;
	const char *syscall_list; /* --syscalls=LIST, NULL = all */
	bool syscall_spans;
	bool aggregate; /* --aggregate: count in the kernel, spans only for slow or failed calls */
	struct zt_capture_spec *captures; /* --capture, in order; freed by zt_options_free() */
	size_t ncaptures;
	uint64_t probe_budget_ns; /* --probe-budget: overhead governor, BPF ns/s per probe; 0 off */
	bool quiet; /* no per-call lines, summary only */
	int verbose;
	/* exporters */
	const char *otlp_url;
	const char *otlp_protocol; /* "http/protobuf" or "http/json"; NULL = environment/default */
	int otlp_gzip;		   /* -1 = environment/default */
	const char *metrics_addr;
	uint64_t metrics_retention_ns; /* --metrics-retention; 0 = ZT_METRICS_EXITED_LINGER_S */
	const char *output; /* record -o FILE */
	/* report / export / probes */
	const char *file;
	const char *export_format;
	size_t top;
	const char *glob;
	const char *config; /* agent --config */
	bool check_config;  /* agent --check-config: validate and exit */
	uint64_t
	    max_memory; /* agent --max-memory: overrides the config's max_memory; 0 = not given */
};

/* Parse argv into opts. Returns 0, or -EINVAL with a one-line message (no "ztrace: " prefix)
 * in err. */
int zt_cli_parse(int argc, char **argv, struct zt_options *opts, char *err, size_t errlen);

/* Parse a duration such as "500us", "2ms", "1.5s", "250" (ns). Returns 0 or -EINVAL. */
int zt_parse_duration(const char *text, uint64_t *ns);

/* Free what zt_cli_parse() allocated in opts. */
void zt_options_free(struct zt_options *opts);

void zt_cli_usage(FILE *out);

#endif
