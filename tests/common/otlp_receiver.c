// SPDX-License-Identifier: MIT
/* Test helper: the OTLP receiver peer; see otlp_receiver.h. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <unistd.h>

#include "common/otlp_receiver.h"
#include "common/testenv.h"

/* Deadlines, in milliseconds. */
#define RECEIVER_MS 10000 /* node starts and writes its port file */
#define SPANS_MS    10000 /* node spans.js prints the received spans */
#define POLL_MS	    20

static char peer_dir[PATH_MAX];

void zt_receiver_setup(void)
{
	char modules[PATH_MAX + 64];

	cr_assert_not_null(realpath("tests/peers/otlp-receiver", peer_dir),
			   "tests/peers/otlp-receiver: %s (run from the repo root)",
			   strerror(errno));
	snprintf(modules, sizeof(modules), "%s/node_modules/@opentelemetry/otlp-transformer",
		 peer_dir);
	cr_assert_eq(access(modules, F_OK), 0,
		     "the OTLP receiver is not installed: run tests/peers/otlp-receiver/setup.sh");
}

void zt_receiver_dir(struct zt_receiver *r)
{
	snprintf(r->dir, sizeof(r->dir), "/tmp/zt-otlp-XXXXXX");
	cr_assert_not_null(mkdtemp(r->dir));
	snprintf(r->out, sizeof(r->out), "%s/spans.jsonl", r->dir);
	snprintf(r->port_file, sizeof(r->port_file), "%s/port", r->dir);
}

/* Start receiver.js on port (0: any) with extra options; waits for its port file. */
void zt_receiver_start(struct zt_receiver *r, int port, const char *const *extra)
{
	struct zt_argv a = {0};
	char script[PATH_MAX + 16], port_arg[16];
	long long end = zt_now_ms() + RECEIVER_MS;
	FILE *f;
	int ret;

	snprintf(script, sizeof(script), "%s/receiver.js", peer_dir);
	snprintf(port_arg, sizeof(port_arg), "%d", port);
	zt_argv_add(&a, "node");
	zt_argv_add(&a, script);
	zt_argv_add(&a, port_arg);
	zt_argv_add(&a, "--out");
	zt_argv_add(&a, r->out);
	zt_argv_add(&a, "--port-file");
	zt_argv_add(&a, r->port_file);
	for (; extra && *extra; extra++)
		zt_argv_add(&a, *extra);
	ret = zt_proc_spawn(&r->p, a.v, NULL);
	cr_assert_eq(ret, 0, "spawn node: %s", strerror(-ret));
	while (!(f = fopen(r->port_file, "r"))) {
		cr_assert_lt(zt_now_ms(), end, "the receiver wrote no port file; stderr:\n%s",
			     zt_proc_text(&r->p, ZT_STDERR));
		zt_proc_pump(&r->p, POLL_MS);
	}
	cr_assert_eq(fscanf(f, "%d", &r->port), 1);
	fclose(f);
	unlink(r->port_file);
}

void zt_receiver_stop(struct zt_receiver *r)
{
	zt_proc_signal(&r->p, SIGTERM);
	zt_proc_wait(&r->p, RECEIVER_MS);
	zt_proc_free(&r->p);
}

void zt_receiver_cleanup(struct zt_receiver *r)
{
	unlink(r->out);
	rmdir(r->dir);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *text = NULL;
	size_t len = 0;

	if (!f)
		return strdup("");
	cr_assert_geq(getdelim(&text, &len, '\0', f), 0);
	fclose(f);
	return text;
}

void zt_read_received(struct zt_receiver *r, struct zt_received *rcv)
{
	char script[PATH_MAX + 16];
	char *argv[] = {"node", script, r->out, NULL};
	struct zt_proc p;
	char *line, *save;
	size_t cap = 0;
	int ret;

	snprintf(script, sizeof(script), "%s/spans.js", peer_dir);
	ret = zt_run(&p, argv, NULL, SPANS_MS);
	cr_assert_eq(ret, 0, "spans.js exited %d: %s", ret, zt_proc_text(&p, ZT_STDERR));
	memset(rcv, 0, sizeof(*rcv));
	rcv->text = strdup(zt_proc_text(&p, ZT_STDOUT));
	rcv->raw = slurp(r->out);
	zt_proc_free(&p);
	for (line = strtok_r(rcv->text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		size_t c = 0;

		if (rcv->n == cap) {
			cap = cap ? 2 * cap : 128;
			rcv->cols = realloc(rcv->cols, cap * sizeof(*rcv->cols));
			cr_assert_not_null(rcv->cols);
		}
		for (char *p2 = line;; p2++) {
			char *tab = strchr(p2, '\t');

			cr_assert_lt(c, TSV_COLS, "too many columns in '%s'", line);
			rcv->cols[rcv->n][c++] = p2;
			if (!tab)
				break;
			*tab = '\0';
			p2 = tab;
		}
		cr_assert_eq(c, TSV_COLS, "spans.js line with %zu columns", c);
		rcv->n++;
	}
}

void zt_received_free(struct zt_received *rcv)
{
	free(rcv->text);
	free(rcv->cols);
	free(rcv->raw);
}

/* True when the semicolon-separated k=v list has exactly k=v. */
bool zt_kv_has(const char *list, const char *k, const char *v)
{
	char want[PATH_MAX + 64];
	size_t len;
	const char *p = list;

	snprintf(want, sizeof(want), "%s=%s", k, v);
	len = strlen(want);
	while ((p = strstr(p, want))) {
		if ((p == list || p[-1] == ';') && (p[len] == ';' || p[len] == '\0'))
			return true;
		p += len;
	}
	return false;
}
