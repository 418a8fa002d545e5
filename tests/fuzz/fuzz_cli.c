// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: zt_cli_parse() on a command line. The input is split at newlines into
 * arguments after argv[0] = "ztrace" (a NUL inside a line ends that argument early, as it would
 * in a real argv). Each input is parsed twice and both parses must agree: the parser keeps no
 * state from one call to the next (getopt's globals included).
 */
#include <errno.h>
#include <float.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cli.h"
#include "fuzz_util.h"

/* Arguments taken from one input; the rest of the input is ignored. */
#define MAX_ARGS  64
#define ERR_BYTES 1024

/* Whether P points at one of the ARGC strings of ARGV. */
static bool is_arg(char *const *argv, int argc, const char *p)
{
	for (int i = 0; i < argc; i++)
		if (argv[i] == p)
			return true;
	return false;
}

/* Check a successful parse against the argv it came from. */
static void check_options(const struct zt_options *o, char **argv, int argc)
{
	ZT_FUZZ_CHECK(o->npids <= ZT_MAX_TARGETS);
	for (size_t i = 0; i < o->npids; i++)
		ZT_FUZZ_CHECK(o->pids[i] > 0);
	for (size_t i = 0; i < o->nspecs; i++)
		ZT_FUZZ_CHECK(is_arg(argv, argc, o->specs[i]));
	if (o->command) {
		/* points into argv, non-empty, and ends at argv's NULL */
		ZT_FUZZ_CHECK(o->command > argv && o->command < argv + argc);
		ZT_FUZZ_CHECK(o->command[0] != NULL);
	}
	ZT_FUZZ_CHECK(o->max_probes >= 1 && o->max_probes <= ZT_MAX_PROBES);
	/* -d: a finite, positive number of seconds, or 0 for none */
	ZT_FUZZ_CHECK(o->duration_s >= 0 && o->duration_s <= DBL_MAX);
	if (o->cmd == ZT_CMD_RECORD)
		ZT_FUZZ_CHECK(o->output != NULL);
	if (o->cmd == ZT_CMD_EXPORT)
		ZT_FUZZ_CHECK(o->file != NULL && o->export_format != NULL);
	if (o->cmd == ZT_CMD_AGENT)
		ZT_FUZZ_CHECK(o->config != NULL);
}

/* The fields two parses of one argv must agree on. */
static void check_same(const struct zt_options *a, const struct zt_options *b)
{
	ZT_FUZZ_CHECK(a->cmd == b->cmd);
	ZT_FUZZ_CHECK(a->npids == b->npids);
	ZT_FUZZ_CHECK(memcmp(a->pids, b->pids, sizeof(a->pids)) == 0);
	ZT_FUZZ_CHECK(a->nspecs == b->nspecs);
	for (size_t i = 0; i < a->nspecs; i++)
		ZT_FUZZ_CHECK(a->specs[i] == b->specs[i]);
	ZT_FUZZ_CHECK(a->command == b->command);
	ZT_FUZZ_CHECK(a->duration_s == b->duration_s);
	ZT_FUZZ_CHECK(a->format == b->format && a->max_probes == b->max_probes);
	ZT_FUZZ_CHECK(a->error_rule.op == b->error_rule.op);
	ZT_FUZZ_CHECK(a->error_rule.value == b->error_rule.value);
	ZT_FUZZ_CHECK(a->min_duration_ns == b->min_duration_ns);
	ZT_FUZZ_CHECK(a->syscalls == b->syscalls && a->syscall_list == b->syscall_list);
	ZT_FUZZ_CHECK(a->syscall_spans == b->syscall_spans && a->quiet == b->quiet);
	ZT_FUZZ_CHECK(a->verbose == b->verbose && a->otlp_gzip == b->otlp_gzip);
	ZT_FUZZ_CHECK(a->otlp_url == b->otlp_url && a->otlp_protocol == b->otlp_protocol);
	ZT_FUZZ_CHECK(a->metrics_addr == b->metrics_addr && a->output == b->output);
	ZT_FUZZ_CHECK(a->file == b->file && a->export_format == b->export_format);
	ZT_FUZZ_CHECK(a->top == b->top && a->glob == b->glob && a->config == b->config);
	ZT_FUZZ_CHECK(a->ncaptures == b->ncaptures);
	for (size_t i = 0; i < a->ncaptures; i++)
		ZT_FUZZ_CHECK(!strcmp(a->captures[i].glob, b->captures[i].glob) &&
			      !memcmp(&a->captures[i].args, &b->captures[i].args,
				      sizeof(a->captures[i].args)));
}

/* What zt_cli_parse allocated on success (specs, --capture specs). */
static void release(struct zt_options *o)
{
	zt_options_free(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = zt_fuzz_strdup(data, size), *argv[MAX_ARGS + 2];
	char err[ERR_BYTES] = "", err2[ERR_BYTES] = "";
	struct zt_options a, b;
	int argc = 0, ra, rb;
	char *p = buf;

	argv[argc++] = "ztrace";
	while (argc <= MAX_ARGS && p < buf + size) {
		char *nl = memchr(p, '\n', (size_t)(buf + size - p));

		argv[argc++] = p;
		if (!nl)
			break;
		*nl = '\0';
		p = nl + 1;
	}
	argv[argc] = NULL;

	ra = zt_cli_parse(argc, argv, &a, err, sizeof(err));
	ZT_FUZZ_CHECK(ra == 0 || ra == -EINVAL || ra == -ENOMEM);
	if (ra == 0)
		check_options(&a, argv, argc);
	else
		ZT_FUZZ_CHECK(err[0] != '\0' && strchr(err, '\n') == NULL);

	rb = zt_cli_parse(argc, argv, &b, err2, sizeof(err2));
	ZT_FUZZ_CHECK(rb == ra);
	if (ra == 0)
		check_same(&a, &b);
	else
		ZT_FUZZ_CHECK(strcmp(err, err2) == 0);
	if (ra == 0)
		release(&a);
	if (rb == 0)
		release(&b);
	free(buf);
	return 0;
}
