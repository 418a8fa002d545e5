// SPDX-License-Identifier: MIT
/* `ztrace report` and `ztrace export`: a record file read back into tables, trees and formats. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cli.h"
#include "cmd_report.h"
#include "export_json.h"
#include "export_perfetto.h"
#include "log.h"
#include "otlp_encode.h"
#include "store.h"
#include "summary.h"
#include "trace_tree.h"

/* The metric whose last snapshot gives the capture accounting (DESIGN.md "Metrics"). */
#define EVENTS_METRIC "ztrace_events_total"

/* A record file being read, and the spans kept from it. */
struct loaded {
	const char *path;
	struct zt_store_reader *r;
	struct zt_span *spans; /* strings owned by r */
	size_t n;
	size_t cap;
	struct zt_summary *summary; /* when set, spans and capture counts are fed to it */
};

/* Capture counts of one probe in one metric snapshot. */
struct capture {
	char *probe;
	uint64_t delivered;
	uint64_t lost;
};

/* Open l->path. Returns 0 or an exit code, with the message printed. */
static int load_open(struct loaded *l)
{
	char err[256];
	int ret = zt_store_open(l->path, &l->r, err, sizeof(err));

	if (!ret)
		return 0;
	zt_err("%s: %s", l->path, err);
	return ret == -ENOMEM ? ZT_EXIT_FAILURE : ZT_EXIT_USAGE;
}

/*
 * Copy the value of label key out of exposition-format labels (`a="x",b="y\"z"`), undoing the
 * escapes. Returns 0, or -ENOENT when the label is absent or does not fit.
 */
static int label_value(const char *labels, const char *key, char *out, size_t outlen)
{
	size_t keylen = strlen(key);
	const char *p = labels;

	while (p && *p) {
		bool match = !strncmp(p, key, keylen) && p[keylen] == '=' && p[keylen + 1] == '"';
		size_t len = 0;

		p = strchr(p, '"');
		if (!p)
			break;
		for (p++; *p && *p != '"'; p++) {
			char c = *p;

			if (c == '\\' && p[1])
				c = *++p == 'n' ? '\n' : *p;
			if (match && len + 1 < outlen)
				out[len++] = c;
			else if (match)
				return -ENOENT;
		}
		if (match) {
			out[len] = '\0';
			return 0;
		}
		p = *p ? p + 1 : p;
		if (*p == ',')
			p++;
	}
	return -ENOENT;
}

/* Hand the ztrace_events_total samples of snapshot m to the summary. Returns 0 or -ENOMEM. */
static int load_capture(struct loaded *l, const struct zt_store_metrics *m)
{
	struct capture *caps = calloc(m->count ? m->count : 1, sizeof(*caps));
	size_t ncaps = 0;
	char probe[4096], outcome[32];
	int ret = 0;

	if (!caps)
		return -ENOMEM;
	for (size_t i = 0; i < m->count && !ret; i++) {
		const struct zt_store_metric *s = &m->samples[i];
		size_t j;

		if (strcmp(s->name, EVENTS_METRIC) ||
		    label_value(s->labels, "probe", probe, sizeof(probe)) ||
		    label_value(s->labels, "outcome", outcome, sizeof(outcome)))
			continue;
		for (j = 0; j < ncaps && strcmp(caps[j].probe, probe); j++)
			;
		if (j == ncaps) {
			caps[j].probe = strdup(probe);
			if (!caps[j].probe) {
				ret = -ENOMEM;
				break;
			}
			ncaps++;
		}
		if (!strcmp(outcome, "delivered"))
			caps[j].delivered = s->value;
		else if (!strcmp(outcome, "lost"))
			caps[j].lost = s->value;
	}
	/* Counters are cumulative: each snapshot replaces what the previous one said. */
	for (size_t j = 0; j < ncaps && !ret; j++)
		ret = zt_summary_set_capture(l->summary, caps[j].probe, caps[j].delivered,
					     caps[j].lost);
	for (size_t j = 0; j < ncaps; j++)
		free(caps[j].probe);
	free(caps);
	return ret;
}

static int keep_span(struct loaded *l, const struct zt_span *s)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 1024;
		struct zt_span *spans = realloc(l->spans, cap * sizeof(*spans));

		if (!spans)
			return -ENOMEM;
		l->spans = spans;
		l->cap = cap;
	}
	l->spans[l->n++] = *s;
	return 0;
}

/*
 * Say how reading ended: nothing for a clean end, a warning for a file cut short, an error for
 * damage. Returns the exit code.
 */
static int load_finish(struct loaded *l, uint64_t spans)
{
	const char *reason;
	uint64_t offset;

	switch (zt_store_stopped_at(l->r, &offset, &reason)) {
	case ZT_STORE_TRUNCATED:
		zt_warn("%s: %s; read %" PRIu64 " spans from %" PRIu64 " whole blocks", l->path,
			reason, spans, zt_store_blocks_read(l->r));
		return ZT_EXIT_OK;
	case ZT_STORE_CORRUPT:
		zt_err("%s: %s; read %" PRIu64 " spans from the %" PRIu64 " whole blocks before it",
		       l->path, reason, spans, zt_store_blocks_read(l->r));
		return ZT_EXIT_USAGE;
	default:
		return ZT_EXIT_OK;
	}
}

/* Read every item of the open file into l. Returns 0 or -errno (printed). */
static int load_all(struct loaded *l)
{
	struct zt_store_item item;
	int ret;

	while ((ret = zt_store_next(l->r, &item)) > 0) {
		if (item.type == ZT_STORE_ITEM_SPAN) {
			ret = l->summary ? zt_summary_add(l->summary, &item.span) : 0;
			if (!ret)
				ret = keep_span(l, &item.span);
		} else if (item.type == ZT_STORE_ITEM_METRICS && l->summary) {
			ret = load_capture(l, &item.metrics);
		}
		if (ret < 0)
			break;
	}
	if (ret < 0)
		zt_err("%s: %s", l->path, strerror(-ret));
	return ret;
}

static void load_free(struct loaded *l)
{
	free(l->spans);
	zt_summary_free(l->summary);
	zt_store_reader_close(l->r);
}

/* The line that says where a file comes from. */
static void print_origin(FILE *out, const struct loaded *l)
{
	const struct zt_store_header *h = zt_store_get_header(l->r);
	time_t secs = h->created_ns / 1000000000;
	char when[64] = "?";
	size_t nprocs;
	struct tm tm;

	zt_store_processes(l->r, &nprocs);
	if (gmtime_r(&secs, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
	fprintf(out, "%s: recorded on %s at %s, %zu spans from %zu processes\n\n", l->path,
		h->hostname[0] ? h->hostname : "?", when, l->n, nprocs);
}

int zt_cmd_report(const char *path, size_t top, FILE *out)
{
	struct loaded l = {.path = path};
	int code, ret;

	code = load_open(&l);
	if (code)
		return code;
	l.summary = zt_summary_new();
	if (!l.summary) {
		zt_err("%s", strerror(ENOMEM));
		code = ZT_EXIT_FAILURE;
		goto out;
	}
	if (load_all(&l) < 0) {
		code = ZT_EXIT_FAILURE;
		goto out;
	}
	code = load_finish(&l, l.n);
	print_origin(out, &l);
	ret = zt_summary_print(l.summary, out);
	if (!ret && top) {
		fputc('\n', out);
		ret = zt_trace_tree_print(out, l.spans, l.n, top);
	}
	if (!ret && ferror(out))
		ret = -EIO;
	if (ret) {
		zt_err("report: %s", strerror(-ret));
		code = ZT_EXIT_FAILURE;
	}
out:
	load_free(&l);
	return code;
}

/* The last process recorded with pid, or NULL. */
static const struct zt_store_process *last_process(const struct zt_store_reader *r, uint32_t pid)
{
	size_t n;
	const struct zt_store_process *procs = zt_store_processes(r, &n);

	while (n--)
		if (procs[n].pid == pid)
			return &procs[n];
	return NULL;
}

/* JSON lines, streamed: nothing but the reader's strings is kept. */
static int export_jsonl(struct loaded *l, FILE *out)
{
	const struct zt_store_process *p = NULL;
	size_t nprocs = 0, seen = SIZE_MAX; /* no lookup yet */
	struct zt_span s;
	uint32_t pid = 0;
	uint64_t n = 0;
	int ret;

	while ((ret = zt_store_next_span(l->r, &s)) > 0) {
		struct zt_json_container c = {0};

		/* spans come in runs of one process: look it up again when the run or the
		 * process list (which the reader may have moved) changes */
		zt_store_processes(l->r, &nprocs);
		if (s.pid != pid || nprocs != seen) {
			p = last_process(l->r, s.pid);
			pid = s.pid;
			seen = nprocs;
		}
		/* the record file keeps the container id of a process, not its pod */
		c.id = p ? p->container_id : NULL;
		ret = zt_json_write_span(out, &s, &c);
		if (ret)
			break;
		n++;
	}
	if (ret < 0) {
		zt_err("%s: %s", l->path, strerror(-ret));
		return ZT_EXIT_FAILURE;
	}
	return load_finish(l, n);
}

/* Process order, then time: each process's spans become one contiguous OTLP group. */
static int span_pid_cmp(const void *a, const void *b)
{
	const struct zt_span *x = a, *y = b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	if (x->start_ns != y->start_ns)
		return x->start_ns < y->start_ns ? -1 : 1;
	return x->span_id < y->span_id ? -1 : x->span_id > y->span_id;
}

/*
 * Write spans[0..n) (sorted by pid) as one OTLP/JSON request line: a group per process.
 * Returns 0 or -errno.
 */
static int otlp_json_line(struct loaded *l, const struct zt_span *spans, size_t n, FILE *out)
{
	struct zt_otlp_group *groups = calloc(n, sizeof(*groups));
	struct zt_process_info *infos = calloc(n, sizeof(*infos));
	struct zt_buf buf = {0};
	struct zt_otlp_batch batch = {
	    .host_name = zt_store_get_header(l->r)->hostname,
	    .groups = groups,
	};
	int ret = 0;

	if (!groups || !infos) {
		ret = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n && !ret; i++) {
		const struct zt_store_process *p;
		size_t g;

		if (i && spans[i].pid == spans[i - 1].pid) {
			groups[batch.n_groups - 1].n++;
			continue;
		}
		g = batch.n_groups++;
		groups[g] = (struct zt_otlp_group){.spans = &spans[i], .n = 1};
		p = last_process(l->r, spans[i].pid);
		if (p) {
			ret = zt_store_process_to_info(&infos[g], p);
			groups[g].proc = &infos[g];
		}
	}
	if (!ret)
		ret = zt_otlp_encode_json(&batch, &buf);
	if (!ret) {
		fwrite(buf.data, 1, buf.len, out);
		fputc('\n', out);
		if (ferror(out))
			ret = -EIO;
	}
out:
	for (size_t g = 0; infos && g < batch.n_groups; g++)
		zt_procinfo_free(&infos[g]);
	free(infos);
	free(groups);
	zt_buf_free(&buf);
	return ret;
}

/*
 * OTLP/JSON, one request per ZT_OTLP_DEFAULT_BATCH_SPANS spans (the size the live exporter
 * sends), so a large file does not become one unbounded line.
 */
static int export_otlp_json(struct loaded *l, FILE *out)
{
	int ret = 0;

	qsort(l->spans, l->n, sizeof(*l->spans), span_pid_cmp);
	for (size_t i = 0; i < l->n && !ret; i += ZT_OTLP_DEFAULT_BATCH_SPANS) {
		size_t n =
		    l->n - i < ZT_OTLP_DEFAULT_BATCH_SPANS ? l->n - i : ZT_OTLP_DEFAULT_BATCH_SPANS;

		ret = otlp_json_line(l, l->spans + i, n, out);
	}
	if (ret) {
		zt_err("export: %s", strerror(-ret));
		return ZT_EXIT_FAILURE;
	}
	return 0;
}

int zt_cmd_export(const char *path, const char *format, FILE *out)
{
	struct loaded l = {.path = path};
	const struct zt_store_process *procs;
	size_t nprocs;
	int code, ret = 0;

	if (!format || (strcmp(format, "jsonl") && strcmp(format, "otlp-json") &&
			strcmp(format, "perfetto"))) {
		zt_err("unknown export format '%s'; use jsonl, otlp-json or perfetto",
		       format ? format : "");
		return ZT_EXIT_USAGE;
	}
	code = load_open(&l);
	if (code)
		return code;
	if (!strcmp(format, "jsonl")) {
		code = export_jsonl(&l, out);
		goto out;
	}
	if (load_all(&l) < 0) {
		code = ZT_EXIT_FAILURE;
		goto out;
	}
	if (!strcmp(format, "otlp-json")) {
		code = export_otlp_json(&l, out);
	} else {
		procs = zt_store_processes(l.r, &nprocs);
		ret = zt_perfetto_write(out, l.spans, l.n, procs, nprocs);
		if (ret) {
			zt_err("export: %s", strerror(-ret));
			code = ZT_EXIT_FAILURE;
		}
	}
	/* The output is written either way; a damaged file still says so and fails. */
	if (!code)
		code = load_finish(&l, l.n);
	else
		load_finish(&l, l.n);
out:
	load_free(&l);
	return code;
}
