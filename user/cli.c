// SPDX-License-Identifier: MIT
#include <errno.h>
#include <math.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "agent_config.h"
#include "cli.h"
#include "governor.h"
#include "kprobes.h"
#include "log.h"

enum {
	OPT_FORMAT = 256,
	OPT_OTLP,
	OPT_OTLP_PROTOCOL,
	OPT_NO_GZIP,
	OPT_METRICS_ADDR,
	OPT_MIN_DURATION,
	OPT_SYSCALLS,
	OPT_SYSCALL_SPANS,
	OPT_ERROR_IF,
	OPT_MAX_PROBES,
	OPT_TOP,
	OPT_CONFIG,
	OPT_RET32,
	OPT_KPROBE_MECH,
	OPT_LIST_USDT,
	OPT_CHECK_CONFIG,
	OPT_AGGREGATE,
	OPT_CAPTURE,
	OPT_METRICS_RETENTION,
	OPT_PROBE_BUDGET,
	OPT_MAX_MEMORY,
};

static const struct option long_options[] = {
	{ "pid", required_argument, NULL, 'p' },
	{ "duration", required_argument, NULL, 'd' },
	{ "output", required_argument, NULL, 'o' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "otlp", required_argument, NULL, OPT_OTLP },
	{ "otlp-protocol", required_argument, NULL, OPT_OTLP_PROTOCOL },
	{ "no-gzip", no_argument, NULL, OPT_NO_GZIP },
	{ "metrics-addr", required_argument, NULL, OPT_METRICS_ADDR },
	{ "min-duration", required_argument, NULL, OPT_MIN_DURATION },
	{ "metrics-retention", required_argument, NULL, OPT_METRICS_RETENTION },
	{ "syscalls", optional_argument, NULL, OPT_SYSCALLS },
	{ "syscall-spans", no_argument, NULL, OPT_SYSCALL_SPANS },
	{ "error-if", required_argument, NULL, OPT_ERROR_IF },
	{ "max-probes", required_argument, NULL, OPT_MAX_PROBES },
	{ "top", required_argument, NULL, OPT_TOP },
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "ret32", no_argument, NULL, OPT_RET32 },
	{ "kprobe-mechanism", required_argument, NULL, OPT_KPROBE_MECH },
	{ "kernel", no_argument, NULL, 'k' },
	{ "list-usdt", no_argument, NULL, OPT_LIST_USDT },
	{ "check-config", no_argument, NULL, OPT_CHECK_CONFIG },
	{ "aggregate", no_argument, NULL, OPT_AGGREGATE },
	{ "capture", required_argument, NULL, OPT_CAPTURE },
	{ "probe-budget", required_argument, NULL, OPT_PROBE_BUDGET },
	{ "max-memory", required_argument, NULL, OPT_MAX_MEMORY },
	{ "usdt", no_argument, NULL, OPT_LIST_USDT },
	{ 0 },
};

static const struct {
	const char *name;
	enum zt_command cmd;
} commands[] = {
	{ "trace", ZT_CMD_TRACE },   { "record", ZT_CMD_RECORD },   { "report", ZT_CMD_REPORT },
	{ "export", ZT_CMD_EXPORT }, { "probes", ZT_CMD_PROBES },   { "agent", ZT_CMD_AGENT },
	{ "version", ZT_CMD_VERSION }, { "help", ZT_CMD_HELP },
};

void zt_cli_usage(FILE *out)
{
	fputs("usage:\n"
	      "  ztrace trace  [-p PID[,PID]] [PROBE...] [--syscalls[=LIST]] [-d SECONDS]\n"
	      "                [--format text|json] [--error-if 'ret<0'] [--otlp URL]\n"
	      "                [--metrics-addr [HOST:]PORT] [--min-duration DUR] [-q] [-v]\n"
	      "                [--metrics-retention DUR] [--syscall-spans] [--aggregate] [--ret32]\n"
	      "                [--capture 'FUNC_GLOB:argN,strN[/LEN],...'] [--probe-budget PCT%|NS]\n"
	      "                [--kprobe-mechanism auto|fentry|kprobe]\n"
	      "                [-- COMMAND ARGS...]\n"
	      "  ztrace record -o FILE (same selection options as trace)\n"
	      "  ztrace report FILE [--top N]\n"
	      "  ztrace export FILE --format jsonl|otlp-json|perfetto\n"
	      "  ztrace probes (-p PID | FILE | -k) [GLOB]\n"
	      "  ztrace probes --list-usdt FILE\n"
	      "  ztrace agent  --config FILE [--check-config] [--max-memory SIZE]\n"
	      "  ztrace version\n"
	      "\n"
	      "PROBE is GLOB (functions of the target's executable), u:FILE:GLOB (FILE a path or a\n"
	      "library name such as libc), k:GLOB, usdt:FILE:PROVIDER:NAME or t:CATEGORY:NAME.\n",
	      out);
}

int zt_parse_duration(const char *text, uint64_t *ns)
{
	static const struct {
		const char *suffix;
		double scale;
	} units[] = { { "ns", 1 }, { "us", 1e3 }, { "ms", 1e6 }, { "s", 1e9 }, { "", 1 } };
	char *end;
	double v;

	errno = 0;
	v = strtod(text, &end);
	if (end == text || errno || v < 0)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].suffix) == 0) {
			double ns_d = v * units[i].scale;

			/* beyond 2^63 ns (292 years) it is no duration, and the cast would be UB */
			if (!(ns_d < 9.2e18))
				return -EINVAL;
			*ns = (uint64_t)ns_d;
			return 0;
		}
	}
	return -EINVAL;
}

/* Parse "123,456" into opts->pids. */
static int parse_pids(const char *text, struct zt_options *o, char *err, size_t errlen)
{
	const char *p = text;

	while (*p) {
		char *end;
		long pid;

		errno = 0;
		pid = strtol(p, &end, 10);
		if (end == p || errno || pid <= 0 || pid > 0x3fffffff || (*end && *end != ',')) {
			snprintf(err, errlen, "bad pid list '%s': expected -p PID[,PID...]", text);
			return -EINVAL;
		}
		if (o->npids == ZT_MAX_TARGETS) {
			snprintf(err, errlen, "too many pids in '%s' (at most %d)", text,
				 ZT_MAX_TARGETS);
			return -EINVAL;
		}
		o->pids[o->npids++] = (int)pid;
		p = *end ? end + 1 : end;
	}
	return 0;
}

/* One more --capture FUNC_GLOB:LIST. Returns 0 or -errno with err. */
static int add_capture(struct zt_options *o, const char *text, char *err, size_t errlen)
{
	struct zt_capture_spec *v = realloc(o->captures, (o->ncaptures + 1) * sizeof(*v));
	int ret;

	if (!v) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	o->captures = v;
	ret = zt_capture_spec_parse(text, &v[o->ncaptures], err, errlen);
	if (ret == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	if (!ret)
		o->ncaptures++;
	return ret;
}

static int parse_option(int c, struct zt_options *o, char *err, size_t errlen)
{
	char *end;

	switch (c) {
	case 'p':
		return parse_pids(optarg, o, err, errlen);
	case 'd':
		errno = 0;
		o->duration_s = strtod(optarg, &end);
		if (end == optarg || *end || errno || !(o->duration_s >= ZT_MIN_DURATION_S) ||
		    o->duration_s > ZT_MAX_DURATION_S) {
			snprintf(err, errlen, "bad -d '%s': expected a number of seconds, e.g. -d 5",
				 optarg);
			return -EINVAL;
		}
		return 0;
	case 'o':
		o->output = optarg;
		return 0;
	case 'q':
		o->quiet = true;
		return 0;
	case 'v':
		o->verbose++;
		return 0;
	case 'h':
		o->cmd = ZT_CMD_HELP;
		return 0;
	case OPT_FORMAT:
		if (o->cmd == ZT_CMD_EXPORT) {
			o->export_format = optarg;
			return 0;
		}
		if (strcmp(optarg, "text") == 0) {
			o->format = ZT_FORMAT_TEXT;
		} else if (strcmp(optarg, "json") == 0) {
			o->format = ZT_FORMAT_JSON;
		} else {
			snprintf(err, errlen, "bad --format '%s': use text or json", optarg);
			return -EINVAL;
		}
		return 0;
	case OPT_OTLP:
		o->otlp_url = optarg;
		return 0;
	case OPT_OTLP_PROTOCOL:
		if (strcmp(optarg, "http/protobuf") && strcmp(optarg, "http/json")) {
			snprintf(err, errlen,
				 "bad --otlp-protocol '%s': use http/protobuf or http/json", optarg);
			return -EINVAL;
		}
		o->otlp_protocol = optarg;
		return 0;
	case OPT_NO_GZIP:
		o->otlp_gzip = 0;
		return 0;
	case OPT_METRICS_ADDR:
		o->metrics_addr = optarg;
		return 0;
	case OPT_MIN_DURATION:
		if (zt_parse_duration(optarg, &o->min_duration_ns)) {
			snprintf(err, errlen,
				 "bad --min-duration '%s': expected a duration such as 500us, 2ms, 1s",
				 optarg);
			return -EINVAL;
		}
		return 0;
	case OPT_METRICS_RETENTION:
		if (zt_parse_duration(optarg, &o->metrics_retention_ns) ||
		    o->metrics_retention_ns < ZT_METRICS_MIN_RETENTION_NS ||
		    o->metrics_retention_ns > ZT_METRICS_MAX_RETENTION_NS) {
			snprintf(err, errlen,
				 "bad --metrics-retention '%s': expected a duration from 1s to 300s "
				 "such as 60s",
				 optarg);
			return -EINVAL;
		}
		return 0;
	case OPT_SYSCALLS:
		o->syscalls = true;
		o->syscall_list = optarg;
		return 0;
	case OPT_SYSCALL_SPANS:
		o->syscall_spans = true;
		return 0;
	case OPT_ERROR_IF:
		return zt_error_rule_parse(optarg, &o->error_rule, err, errlen);
	case OPT_MAX_PROBES: {
		long v;

		errno = 0;
		v = strtol(optarg, &end, 10);
		if (end == optarg || *end || errno || v <= 0 || v > ZT_MAX_PROBES) {
			snprintf(err, errlen, "bad --max-probes '%s': expected 1..%d", optarg,
				 ZT_MAX_PROBES);
			return -EINVAL;
		}
		o->max_probes = (unsigned)v;
		return 0;
	}
	case OPT_TOP: {
		long v;

		errno = 0;
		v = strtol(optarg, &end, 10);
		if (end == optarg || *end || errno || v < 0) {
			snprintf(err, errlen, "bad --top '%s': expected a number of traces", optarg);
			return -EINVAL;
		}
		o->top = (size_t)v;
		return 0;
	}
	case OPT_CONFIG:
		o->config = optarg;
		return 0;
	case OPT_RET32:
		o->ret32 = true;
		return 0;
	case OPT_KPROBE_MECH:
		if (strcmp(optarg, "auto") == 0) {
			o->kprobe_mechanism = ZT_KMECH_AUTO;
		} else if (strcmp(optarg, "fentry") == 0) {
			o->kprobe_mechanism = ZT_KMECH_FENTRY;
		} else if (strcmp(optarg, "kprobe") == 0) {
			o->kprobe_mechanism = ZT_KMECH_KPROBE;
		} else {
			snprintf(err, errlen, "bad --kprobe-mechanism '%s': use auto, fentry or kprobe",
				 optarg);
			return -EINVAL;
		}
		return 0;
	case 'k':
		o->kernel = true;
		return 0;
	case OPT_LIST_USDT:
		o->usdt = true;
		return 0;
	case OPT_CHECK_CONFIG:
		o->check_config = true;
		return 0;
	case OPT_AGGREGATE:
		o->aggregate = true;
		return 0;
	case OPT_CAPTURE:
		return add_capture(o, optarg, err, errlen);
	case OPT_PROBE_BUDGET:
		return zt_parse_probe_budget(optarg, &o->probe_budget_ns, err, errlen);
	case OPT_MAX_MEMORY:
		if (zt_parse_size(optarg, &o->max_memory) || o->max_memory < ZT_AGENT_MIN_MEMORY) {
			snprintf(err, errlen,
				 "bad --max-memory '%s': expected a size of at least %lluKiB, e.g. "
				 "64MiB",
				 optarg, (unsigned long long)(ZT_AGENT_MIN_MEMORY >> 10));
			return -EINVAL;
		}
		return 0;
	}
	snprintf(err, errlen, "unknown option: see ztrace help");
	return -EINVAL;
}

/* What the positional arguments of each command mean. */
static int take_positionals(struct zt_options *o, int n, char **args, char *err, size_t errlen)
{
	switch (o->cmd) {
	case ZT_CMD_TRACE:
	case ZT_CMD_RECORD:
		o->specs = args;
		o->nspecs = (size_t)n;
		return 0;
	case ZT_CMD_REPORT:
	case ZT_CMD_EXPORT:
		if (n != 1) {
			snprintf(err, errlen, "%s takes exactly one FILE (a ztrace record file)",
				 o->cmd == ZT_CMD_REPORT ? "report" : "export");
			return -EINVAL;
		}
		o->file = args[0];
		return 0;
	case ZT_CMD_PROBES:
		if (o->kernel) {
			if (n > 1)
				goto too_many;
			o->glob = n ? args[0] : NULL;
		} else if (o->npids) {
			if (n > 1)
				goto too_many;
			o->glob = n ? args[0] : NULL;
		} else {
			if (n < 1 || n > 2) {
				snprintf(err, errlen, "probes needs -p PID or a FILE: ztrace probes "
						      "(-p PID | FILE) [GLOB]");
				return -EINVAL;
			}
			o->file = args[0];
			o->glob = n == 2 ? args[1] : NULL;
		}
		return 0;
	default:
		if (n)
			goto too_many;
		return 0;
	}
too_many:
	snprintf(err, errlen, "unexpected argument '%s': see ztrace help", args[n - 1]);
	return -EINVAL;
}

static int cli_parse(int argc, char **argv, struct zt_options *o, char *err, size_t errlen)
{
	char *positional[argc > 0 ? argc : 1];
	int npos = 0, c;

	memset(o, 0, sizeof(*o));
	o->max_probes = ZT_DEFAULT_MAX_PROBES;
	o->otlp_gzip = -1;
	o->top = ZT_REPORT_DEFAULT_TOP;
	if (argc < 2) {
		o->cmd = ZT_CMD_HELP;
		return 0;
	}
	o->cmd = ZT_CMD_HELP;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			o->cmd = commands[i].cmd;
	if (o->cmd == ZT_CMD_HELP && strcmp(argv[1], "help") && strcmp(argv[1], "-h") &&
	    strcmp(argv[1], "--help")) {
		snprintf(err, errlen, "unknown command '%s': see ztrace help", argv[1]);
		return -EINVAL;
	}
	argc--;
	argv++;
	{
		/* getopt keeps its place inside a cluster of short options across calls; only
		 * optind = 0 resets that, and it takes effect at the next getopt call */
		char *none[] = { "ztrace", NULL };

		optind = 0;
		getopt_long(1, none, "", long_options, NULL);
		optind = 1;
	}
	opterr = 0;
	/* Options may come after specs; everything after "--" is the command to launch. */
	while (optind < argc) {
		const char *arg = argv[optind];

		if (strcmp(arg, "--") == 0) {
			o->command = &argv[optind + 1];
			break;
		}
		if (arg[0] != '-' || arg[1] == '\0') {
			positional[npos++] = argv[optind++];
			continue;
		}
		c = getopt_long(argc, argv, "+:p:d:o:qvhk", long_options, NULL);
		if (c == -1)
			break;
		if (c == '?' || c == ':') {
			if (optopt && optopt < 256)
				snprintf(err, errlen, "option -%c %s: see ztrace help", optopt,
					 c == ':' ? "needs a value" : "is unknown");
			else
				snprintf(err, errlen, "unknown or incomplete option '%s': see ztrace help",
					 argv[optind - 1]);
			return -EINVAL;
		}
		if (parse_option(c, o, err, errlen))
			return -EINVAL;
	}
	if (o->command && !o->command[0]) {
		snprintf(err, errlen, "nothing after '--': give the COMMAND to launch");
		return -EINVAL;
	}
	if (take_positionals(o, npos, positional, err, errlen))
		return -EINVAL;
	if ((o->cmd == ZT_CMD_TRACE || o->cmd == ZT_CMD_RECORD) && o->npids && o->command) {
		snprintf(err, errlen, "give either -p PID or -- COMMAND, not both");
		return -EINVAL;
	}
	if (o->cmd == ZT_CMD_RECORD && !o->output) {
		snprintf(err, errlen, "record needs -o FILE");
		return -EINVAL;
	}
	if (o->cmd == ZT_CMD_EXPORT && !o->export_format) {
		snprintf(err, errlen, "export needs --format jsonl|otlp-json|perfetto");
		return -EINVAL;
	}
	if (o->cmd == ZT_CMD_AGENT && !o->config) {
		snprintf(err, errlen, "agent needs --config FILE");
		return -EINVAL;
	}
	/* specs pointed into this frame: copy the pointers somewhere that outlives it */
	if (!o->nspecs) {
		o->specs = NULL;
	} else {
		char **copy = calloc(o->nspecs, sizeof(*copy));

		if (!copy) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		memcpy(copy, positional, o->nspecs * sizeof(*copy));
		o->specs = copy;
	}
	return 0;
}

static void free_captures(struct zt_options *o)
{
	for (size_t i = 0; i < o->ncaptures; i++)
		zt_capture_spec_free(&o->captures[i]);
	free(o->captures);
	o->captures = NULL;
	o->ncaptures = 0;
}

void zt_options_free(struct zt_options *o)
{
	free(o->specs);
	o->specs = NULL;
	o->nspecs = 0;
	free_captures(o);
}

int zt_cli_parse(int argc, char **argv, struct zt_options *o, char *err, size_t errlen)
{
	int ret = cli_parse(argc, argv, o, err, errlen);

	if (ret) {
		zt_msg_clean(err); /* messages quote arguments, which may hold anything */
		/* specs may still point into cli_parse's frame: only the captures are ours */
		free_captures(o);
	}
	return ret;
}
