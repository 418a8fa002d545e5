// SPDX-License-Identifier: MIT
/* Chrome trace-event JSON for ui.perfetto.dev and chrome://tracing. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "export_json.h"
#include "export_perfetto.h"

/* Track order, then time order with an enclosing slice (longer, shallower) before its children. */
static int span_cmp(const void *a, const void *b)
{
	const struct zt_span *x = *(const struct zt_span *const *)a;
	const struct zt_span *y = *(const struct zt_span *const *)b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	if (x->tid != y->tid)
		return x->tid < y->tid ? -1 : 1;
	if (x->start_ns != y->start_ns)
		return x->start_ns < y->start_ns ? -1 : 1;
	if (x->end_ns != y->end_ns)
		return x->end_ns > y->end_ns ? -1 : 1;
	if (x->depth != y->depth)
		return x->depth < y->depth ? -1 : 1;
	if (x->span_id != y->span_id)
		return x->span_id < y->span_id ? -1 : 1;
	return 0;
}

/* Start an event: the first one on its own line, every later one after a comma. */
static void begin_event(FILE *out, bool *first)
{
	fputs(*first ? "\n{" : ",\n{", out);
	*first = false;
}

/* Print ns as microseconds with exactly three decimals, from integers: no rounding. */
static void put_us(FILE *out, uint64_t ns)
{
	fprintf(out, "%" PRIu64 ".%03" PRIu64, ns / 1000, ns % 1000);
}

/* The comm of a span as a terminated string. */
static void span_comm(const struct zt_span *s, char out[ZT_COMM_LEN + 1])
{
	snprintf(out, ZT_COMM_LEN + 1, "%.*s", ZT_COMM_LEN, s->comm);
}

static const struct zt_store_process *find_process(const struct zt_store_process *procs,
						   size_t nprocs, uint32_t pid)
{
	for (size_t i = 0; i < nprocs; i++)
		if (procs[i].pid == pid)
			return &procs[i];
	return NULL;
}

/*
 * The metadata events for the process of the spans in [begin, end): its name (recorded comm,
 * else the comm of its main thread's spans, else of its first span) and its executable.
 */
static void write_process_meta(FILE *out, const struct zt_span **begin, const struct zt_span **end,
			       const struct zt_store_process *procs, size_t nprocs, bool *first)
{
	const struct zt_store_process *p = find_process(procs, nprocs, begin[0]->pid);
	char comm[ZT_COMM_LEN + 1];
	const char *name = comm;

	span_comm(begin[0], comm);
	for (const struct zt_span **s = begin; s < end; s++) {
		if ((*s)->tid == (*s)->pid) {
			span_comm(*s, comm);
			break;
		}
	}
	if (p && p->comm)
		name = p->comm;
	begin_event(out, first);
	fprintf(out,
		"\"ph\":\"M\",\"pid\":%" PRIu32 ",\"tid\":%" PRIu32
		",\"name\":\"process_name\",\"args\":{\"name\":",
		begin[0]->pid, begin[0]->pid);
	zt_json_write_string(out, name);
	fputs("}}", out);
	if (p && p->exe) {
		begin_event(out, first);
		fprintf(out,
			"\"ph\":\"M\",\"pid\":%" PRIu32 ",\"tid\":%" PRIu32
			",\"name\":\"process_labels\",\"args\":{\"labels\":",
			begin[0]->pid, begin[0]->pid);
		zt_json_write_string(out, p->exe);
		fputs("}}", out);
	}
}

/* One slice (or an instant event for a tracepoint) with ts/dur relative to origin. */
static void write_event(FILE *out, const struct zt_span *s, uint64_t start, uint64_t end,
			uint64_t origin, bool *first)
{
	char trace_id[33];

	zt_trace_id_hex(s->trace_id, trace_id);
	begin_event(out, first);
	fprintf(out, "\"ph\":\"%s\",\"pid\":%" PRIu32 ",\"tid\":%" PRIu32 ",\"ts\":",
		s->kind == ZT_KIND_TRACEPOINT ? "i" : "X", s->pid, s->tid);
	put_us(out, start - origin);
	if (s->kind == ZT_KIND_TRACEPOINT) {
		fputs(",\"s\":\"t\"", out);
	} else {
		fputs(",\"dur\":", out);
		put_us(out, end - start);
	}
	fputs(",\"name\":", out);
	zt_json_write_string(out, s->name);
	fprintf(out, ",\"cat\":\"%s\",\"args\":{\"ret\":%" PRId64 ",\"status\":\"%s\"",
		zt_span_kind_name(s->kind), s->ret, zt_span_status_name(s->status));
	fprintf(out, ",\"trace_id\":\"%s\",\"span_id\":\"%016" PRIx64 "\",\"parent_span_id\":\"",
		trace_id, s->span_id);
	if (s->parent_span_id)
		fprintf(out, "%016" PRIx64, s->parent_span_id);
	fputs("\",\"probe\":", out);
	zt_json_write_string(out, s->probe);
	if (s->syscall_count)
		fprintf(out, ",\"syscall_count\":%" PRIu32 ",\"syscall_ns\":%" PRIu64,
			s->syscall_count, s->syscall_ns);
	zt_json_write_args(out, &s->args, ",");
	fputs("}}", out);
}

int zt_perfetto_write(FILE *out, const struct zt_span *spans, size_t n,
		      const struct zt_store_process *procs, size_t nprocs)
{
	const struct zt_span **order = NULL;
	uint64_t *open_ends = NULL; /* ends of the slices enclosing the current one */
	uint64_t origin = UINT64_MAX;
	size_t depth = 0;
	bool first = true;
	char comm[ZT_COMM_LEN + 1];
	int ret = 0;

	if (n) {
		order = malloc(n * sizeof(*order));
		open_ends = malloc(n * sizeof(*open_ends));
		if (!order || !open_ends) {
			ret = -ENOMEM;
			goto out;
		}
	}
	for (size_t i = 0; i < n; i++) {
		order[i] = &spans[i];
		if (spans[i].start_ns < origin)
			origin = spans[i].start_ns;
	}
	if (n)
		qsort(order, n, sizeof(*order), span_cmp);
	else
		origin = 0;

	fputs("{\"traceEvents\":[", out);
	for (size_t i = 0; i < n; i++) {
		const struct zt_span *s = order[i];
		uint64_t start = s->start_ns;
		uint64_t end = s->end_ns > start ? s->end_ns : start;

		if (i == 0 || s->pid != order[i - 1]->pid) {
			size_t j = i;

			while (j < n && order[j]->pid == s->pid)
				j++;
			write_process_meta(out, order + i, order + j, procs, nprocs, &first);
		}
		if (i == 0 || s->pid != order[i - 1]->pid || s->tid != order[i - 1]->tid) {
			span_comm(s, comm);
			begin_event(out, &first);
			fprintf(out,
				"\"ph\":\"M\",\"pid\":%" PRIu32 ",\"tid\":%" PRIu32
				",\"name\":\"thread_name\",\"args\":{\"name\":",
				s->pid, s->tid);
			zt_json_write_string(out, comm);
			fputs("}}", out);
			depth = 0;
		}
		if (s->kind == ZT_KIND_TRACEPOINT) {
			write_event(out, s, start, start, origin, &first);
			continue;
		}
		while (depth && open_ends[depth - 1] <= start)
			depth--;
		/* Clock skew or an incomplete caller flushed before its callee can make a slice
		 * overrun its caller; viewers then break the nesting, so clip it. */
		if (depth && end > open_ends[depth - 1])
			end = open_ends[depth - 1];
		open_ends[depth++] = end;
		write_event(out, s, start, end, origin, &first);
	}
	fprintf(
	    out,
	    "\n],\n\"displayTimeUnit\":\"ns\",\n\"otherData\":{\"time_origin_unix_ns\":\"%" PRIu64
	    "\"}}\n",
	    origin);
	if (ferror(out))
		ret = -EIO;
out:
	free(order);
	free(open_ends);
	return ret;
}
