// SPDX-License-Identifier: MIT
/* Slowest traces as indented trees: what `ztrace report --top N` prints after the tables. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "latency.h"
#include "span_args.h"
#include "trace_tree.h"

/* A trace: a run of spans sharing a trace id in the sorted order. */
struct trace {
	size_t first; /* index into the sorted spans */
	size_t count;
	uint64_t start;
	uint64_t duration;
	const struct zt_span *root; /* NULL when the root span was not recorded */
};

/* An id -> position pair for finding a span's parent inside its trace. */
struct id_pos {
	uint64_t id;
	size_t pos;
};

static uint64_t span_duration(const struct zt_span *s)
{
	return s->end_ns > s->start_ns ? s->end_ns - s->start_ns : 0;
}

/* Trace id, then start, then enclosing spans first: the order trees are built in. */
static int span_cmp(const void *a, const void *b)
{
	const struct zt_span *x = *(const struct zt_span *const *)a;
	const struct zt_span *y = *(const struct zt_span *const *)b;
	int c = memcmp(x->trace_id, y->trace_id, sizeof(x->trace_id));

	if (c)
		return c;
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

/* Slowest first; ties by earlier start, then by position (so by trace id). */
static int trace_cmp(const void *a, const void *b)
{
	const struct trace *x = a, *y = b;

	if (x->duration != y->duration)
		return x->duration > y->duration ? -1 : 1;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->first < y->first ? -1 : x->first > y->first;
}

static int id_pos_cmp(const void *a, const void *b)
{
	const struct id_pos *x = a, *y = b;

	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* One tree line: start offset, duration, indented name, then kind, status and syscalls. */
static void print_line(FILE *out, const struct zt_span *s, uint64_t trace_start, size_t depth)
{
	char off[ZT_DURATION_STR_LEN], dur[ZT_DURATION_STR_LEN], sys[ZT_DURATION_STR_LEN];

	zt_format_duration(s->start_ns - trace_start, off, sizeof(off));
	zt_format_duration(span_duration(s), dur, sizeof(dur));
	fprintf(out, "  %8s  %8s  %*s%s", off, dur, (int)(2 * depth), "", s->name ? s->name : "?");
	zt_span_args_print(out, &s->args);
	if (s->kind != ZT_KIND_FUNCTION)
		fprintf(out, " (%s)", zt_span_kind_name(s->kind));
	if (s->status == ZT_STATUS_ERROR)
		fprintf(out, "  error ret=%" PRId64, s->ret);
	else if (s->status != ZT_STATUS_OK)
		fprintf(out, "  %s", zt_span_status_name(s->status));
	if (s->syscall_count) {
		zt_format_duration(s->syscall_ns, sys, sizeof(sys));
		fprintf(out, "  [%" PRIu32 " syscalls, %s]", s->syscall_count, sys);
	}
	fputc('\n', out);
}

/*
 * Print the tree of trace t (spans sorted[t->first ..]) depth first, children in start order.
 * Returns 0 or -ENOMEM.
 */
static int print_trace(FILE *out, const struct zt_span **sorted, const struct trace *t)
{
	const struct zt_span **sp = sorted + t->first;
	const struct zt_span *head = t->root ? t->root : sp[0];
	size_t n = t->count, printed = 0, top = 0;
	/* per span: first child, next sibling, last child, depth; plus the walk's stack */
	size_t *links = malloc(5 * n * sizeof(*links));
	size_t *first_child = links, *next = links + n, *last_child = links + 2 * n;
	size_t *depths = links + 3 * n, *stack = links + 4 * n;
	struct id_pos *ids = malloc(n * sizeof(*ids));
	char tid[33], dur[ZT_DURATION_STR_LEN], comm[ZT_COMM_LEN + 1];
	const size_t none = (size_t)-1;
	size_t root_last = none, roots = none;

	if (!ids || !links) {
		free(ids);
		free(links);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		ids[i] = (struct id_pos){.id = sp[i]->span_id, .pos = i};
		first_child[i] = last_child[i] = next[i] = none;
	}
	qsort(ids, n, sizeof(*ids), id_pos_cmp);
	/* Link each span under its parent; spans come in start order, so lists stay sorted. A
	 * span whose parent is not in the trace (lost with a cut block) hangs at the top. */
	for (size_t i = 0; i < n; i++) {
		uint64_t parent = sp[i]->parent_span_id;
		struct id_pos *p = NULL;
		size_t lo = 0, hi = n;

		while (parent && lo < hi) { /* lower bound of parent in ids */
			size_t mid = lo + (hi - lo) / 2;

			if (ids[mid].id < parent)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (parent && lo < n && ids[lo].id == parent && ids[lo].pos != i)
			p = &ids[lo];
		if (!p) {
			if (root_last == none)
				roots = i;
			else
				next[root_last] = i;
			root_last = i;
		} else if (last_child[p->pos] == none) {
			first_child[p->pos] = last_child[p->pos] = i;
		} else {
			next[last_child[p->pos]] = i;
			last_child[p->pos] = i;
		}
	}

	zt_trace_id_hex(head->trace_id, tid);
	zt_format_duration(t->duration, dur, sizeof(dur));
	snprintf(comm, sizeof(comm), "%.*s", ZT_COMM_LEN, head->comm);
	fprintf(out, "trace %s  %s  %s  pid %" PRIu32 " tid %" PRIu32 " (%s)%s\n", tid, dur,
		head->name ? head->name : "?", head->pid, head->tid, comm,
		t->root ? "" : "  [root span not recorded]");
	fprintf(out, "  %8s  %8s  %s\n", "START", "DURATION", "CALL");

	/* Depth-first walk with an explicit stack, as a damaged file may chain spans deeply: it
	 * holds at most one pending sibling per level, so n entries are enough. */
	if (roots != none) {
		stack[top++] = roots;
		depths[roots] = 0;
	}
	while (top) {
		size_t i = stack[--top];

		if (printed == ZT_TRACE_TREE_MAX_LINES)
			break;
		print_line(out, sp[i], t->start, depths[i]);
		printed++;
		if (next[i] != none) {
			depths[next[i]] = depths[i];
			stack[top++] = next[i];
		}
		if (first_child[i] != none) {
			depths[first_child[i]] = depths[i] + 1;
			stack[top++] = first_child[i];
		}
	}
	if (printed < n)
		fprintf(out, "  ... %zu more spans in this trace\n", n - printed);
	free(ids);
	free(links);
	return 0;
}

int zt_trace_tree_print(FILE *out, const struct zt_span *spans, size_t n, size_t top)
{
	const struct zt_span **sorted = NULL;
	struct trace *traces = NULL;
	size_t ntraces = 0;
	int ret = 0;

	if (!n) {
		fputs("No traces recorded.\n", out);
		return 0;
	}
	sorted = malloc(n * sizeof(*sorted));
	traces = malloc(n * sizeof(*traces));
	if (!sorted || !traces) {
		ret = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		sorted[i] = &spans[i];
	qsort(sorted, n, sizeof(*sorted), span_cmp);

	for (size_t i = 0; i < n; i++) {
		const struct zt_span *s = sorted[i];
		struct trace *t = ntraces ? &traces[ntraces - 1] : NULL;
		uint64_t end = s->end_ns > s->start_ns ? s->end_ns : s->start_ns;

		if (!t || memcmp(sorted[t->first]->trace_id, s->trace_id, sizeof(s->trace_id))) {
			t = &traces[ntraces++];
			/* duration holds the last end until the trace is complete */
			*t = (struct trace){.first = i, .start = s->start_ns, .duration = end};
		}
		t->count++;
		if (end > t->duration)
			t->duration = end;
		/* The first root in start order; a trace has one unless ids collided. */
		if (!s->parent_span_id && !t->root)
			t->root = s;
	}
	for (size_t i = 0; i < ntraces; i++) {
		struct trace *t = &traces[i];

		t->duration = t->root ? span_duration(t->root) : t->duration - t->start;
	}
	qsort(traces, ntraces, sizeof(*traces), trace_cmp);

	if (top > ntraces)
		top = ntraces;
	fprintf(out, "Slowest %zu of %zu traces, by root span duration:\n", top, ntraces);
	for (size_t i = 0; i < top; i++) {
		fputc('\n', out);
		ret = print_trace(out, sorted, &traces[i]);
		if (ret)
			goto out;
	}
	if (ferror(out))
		ret = -EIO;
out:
	free(sorted);
	free(traces);
	return ret;
}
