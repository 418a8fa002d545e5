// SPDX-License-Identifier: MIT
/* Per-function and per-syscall summary tables with capture accounting. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* strerrorname_np(); the Makefile defines it too */
#endif
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "latency.h"
#include "summary.h"

/* Slots of the row index when the first row is added (a power of two). */
#define SUMMARY_INITIAL_SLOTS 64
/* Distinct errno names shown in a syscall's ERRORS cell; the rest is "...". */
#define SUMMARY_TOP_ERRNOS 2
/* Largest errno a syscall returns as -errno (the kernel's MAX_ERRNO). */
#define SUMMARY_MAX_ERRNO 4095
/* Longest cell other than the name, e.g. "N (ENOTRECOVERABLE xN, EPROTONOSUPPORT xN, ...)". */
#define SUMMARY_CELL_LEN 128
/* Columns of the widest table (the function table). */
#define SUMMARY_MAX_COLS 10

struct errno_count {
	int err;
	uint64_t count;
};

struct summary_row {
	enum zt_span_kind kind;
	char *name;
	char *binary; /* NULL for syscalls and for spans without one */
	uint64_t hash;
	uint64_t calls;
	uint64_t errors;
	uint64_t incomplete;
	struct zt_latency lat;	    /* complete calls only */
	struct errno_count *errnos; /* syscalls: errors by errno, unordered */
	size_t nerrnos;
};

struct capture {
	char *probe;
	uint64_t delivered;
	uint64_t lost;
};

struct zt_summary {
	struct summary_row **rows;
	size_t nrows, rows_cap;
	/* Open-addressing index into rows: slot holds row index + 1, 0 when free. */
	size_t *slots;
	size_t nslots;
	struct capture *captures;
	size_t ncaptures, captures_cap;
};

struct zt_summary *zt_summary_new(void)
{
	return calloc(1, sizeof(struct zt_summary));
}

static void row_free(struct summary_row *r)
{
	if (!r)
		return;
	free(r->name);
	free(r->binary);
	free(r->errnos);
	zt_latency_free(&r->lat);
	free(r);
}

void zt_summary_free(struct zt_summary *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->nrows; i++)
		row_free(s->rows[i]);
	for (i = 0; i < s->ncaptures; i++)
		free(s->captures[i].probe);
	free(s->rows);
	free(s->slots);
	free(s->captures);
	free(s);
}

/* Grow *arr (of *cap elements of size elem) so it holds at least need; 0 or -ENOMEM. */
static int grow(void **arr, size_t *cap, size_t need, size_t elem)
{
	size_t ncap = *cap ? *cap : 8;
	void *p;

	if (need <= *cap)
		return 0;
	while (ncap < need)
		ncap *= 2;
	p = reallocarray(*arr, ncap, elem);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

/* FNV-1a, continued from h over s and its terminating NUL (so "ab","c" != "a","bc"). */
static uint64_t hash_str(uint64_t h, const char *s)
{
	do {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	} while (*s++);
	return h;
}

static uint64_t key_hash(enum zt_span_kind kind, const char *name, const char *binary)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ (uint64_t)kind;

	h = hash_str(h, name);
	return binary ? hash_str(h, binary) : h;
}

static bool str_eq_null(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return !strcmp(a, b);
}

/* Rebuild the index with nslots slots (a power of two above nrows). 0 or -ENOMEM. */
static int rehash(struct zt_summary *s, size_t nslots)
{
	size_t *slots = calloc(nslots, sizeof(*slots));
	size_t i, j;

	if (!slots)
		return -ENOMEM;
	for (i = 0; i < s->nrows; i++) {
		j = s->rows[i]->hash & (nslots - 1);
		while (slots[j])
			j = (j + 1) & (nslots - 1);
		slots[j] = i + 1;
	}
	free(s->slots);
	s->slots = slots;
	s->nslots = nslots;
	return 0;
}

/* The row of key (kind, name, binary), created if absent; NULL on ENOMEM. */
static struct summary_row *row_get(struct zt_summary *s, enum zt_span_kind kind, const char *name,
				   const char *binary)
{
	uint64_t h = key_hash(kind, name, binary);
	struct summary_row *r;
	size_t j;
	int ret;

	if (s->nslots) {
		for (j = h & (s->nslots - 1); s->slots[j]; j = (j + 1) & (s->nslots - 1)) {
			r = s->rows[s->slots[j] - 1];
			if (r->hash == h && r->kind == kind && !strcmp(r->name, name) &&
			    str_eq_null(r->binary, binary))
				return r;
		}
	}
	/* Keep the index at most half full so probe sequences stay short. */
	if ((s->nrows + 1) * 2 > s->nslots) {
		ret = rehash(s, s->nslots ? s->nslots * 2 : SUMMARY_INITIAL_SLOTS);
		if (ret)
			return NULL;
	}
	if (grow((void **)&s->rows, &s->rows_cap, s->nrows + 1, sizeof(*s->rows)))
		return NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->kind = kind;
	r->hash = h;
	zt_latency_init(&r->lat);
	r->name = strdup(name);
	r->binary = binary ? strdup(binary) : NULL;
	if (!r->name || (binary && !r->binary)) {
		row_free(r);
		return NULL;
	}
	s->rows[s->nrows++] = r;
	for (j = h & (s->nslots - 1); s->slots[j]; j = (j + 1) & (s->nslots - 1))
		;
	s->slots[j] = s->nrows;
	return r;
}

static int count_errno(struct summary_row *r, int err)
{
	size_t i, cap = r->nerrnos;

	for (i = 0; i < r->nerrnos; i++) {
		if (r->errnos[i].err == err) {
			r->errnos[i].count++;
			return 0;
		}
	}
	/* cap == nerrnos: grow one at a time; a syscall fails with few distinct errnos. */
	if (grow((void **)&r->errnos, &cap, r->nerrnos + 1, sizeof(*r->errnos)))
		return -ENOMEM;
	r->errnos[r->nerrnos].err = err;
	r->errnos[r->nerrnos].count = 1;
	r->nerrnos++;
	return 0;
}

int zt_summary_add(struct zt_summary *s, const struct zt_span *span)
{
	bool syscall;
	struct summary_row *r;
	const char *name;
	int ret = 0;

	if (!s || !span)
		return -EINVAL;
	syscall = span->kind == ZT_KIND_SYSCALL;
	name = span->name ? span->name : "?";
	/* A syscall is the same syscall whichever binary made it. */
	r = row_get(s, span->kind, name, syscall ? NULL : span->binary);
	if (!r)
		return -ENOMEM;

	if (span->status == ZT_STATUS_INCOMPLETE) {
		r->calls++;
		r->incomplete++;
		return 0;
	}
	ret = zt_latency_add(&r->lat,
			     span->end_ns > span->start_ns ? span->end_ns - span->start_ns : 0);
	if (ret)
		return ret;
	r->calls++;
	if (span->status != ZT_STATUS_ERROR)
		return 0;
	r->errors++;
	if (syscall && span->ret < 0 && span->ret >= -SUMMARY_MAX_ERRNO)
		ret = count_errno(r, (int)-span->ret);
	return ret;
}

int zt_summary_add_agg(struct zt_summary *s, enum zt_span_kind kind, const char *name,
		       const char *binary, const struct zt_agg_val *v)
{
	struct summary_row *r = row_get(s, kind, name, kind == ZT_KIND_SYSCALL ? NULL : binary);

	if (!r)
		return -ENOMEM;
	if (zt_latency_add_log2(&r->lat, v->buckets, ZT_HIST_BUCKETS, v->sum_ns, v->max_ns))
		return -ENOMEM;
	r->calls += v->count + v->sampled_out; /* timed or not */
	r->errors += v->errors;
	return 0;
}

int zt_summary_add_syscall_errno(struct zt_summary *s, const char *name, int err, uint64_t count)
{
	struct summary_row *r = row_get(s, ZT_KIND_SYSCALL, name, NULL);
	size_t k;

	if (!r)
		return -ENOMEM;
	for (k = 0; k < r->nerrnos && r->errnos[k].err != err; k++)
		;
	if (k == r->nerrnos) {
		if (count_errno(r, err)) /* appends err with a count of one */
			return -ENOMEM;
		count--;
	}
	r->errnos[k].count += count;
	return 0;
}

int zt_summary_set_capture(struct zt_summary *s, const char *probe, uint64_t delivered,
			   uint64_t lost)
{
	struct capture *c;
	size_t i;

	for (i = 0; i < s->ncaptures; i++) {
		if (!strcmp(s->captures[i].probe, probe)) {
			s->captures[i].delivered = delivered;
			s->captures[i].lost = lost;
			return 0;
		}
	}
	if (grow((void **)&s->captures, &s->captures_cap, s->ncaptures + 1, sizeof(*s->captures)))
		return -ENOMEM;
	c = &s->captures[s->ncaptures];
	c->probe = strdup(probe);
	if (!c->probe)
		return -ENOMEM;
	c->delivered = delivered;
	c->lost = lost;
	s->ncaptures++;
	return 0;
}

/*
 * Name of errno err: glibc's, or for the kernel-internal restart codes that raw_syscalls
 * sys_exit sees before signal delivery rewrites them (include/linux/errno.h), the kernel's.
 */
static void errno_name(int err, char *out, size_t outlen)
{
	static const struct {
		int err;
		const char *name;
	} kernel_only[] = {
	    {512, "ERESTARTSYS"}, {513, "ERESTARTNOINTR"},	  {514, "ERESTARTNOHAND"},
	    {515, "ENOIOCTLCMD"}, {516, "ERESTART_RESTARTBLOCK"},
	};
	const char *name = NULL;
	size_t i;

	for (i = 0; i < sizeof(kernel_only) / sizeof(kernel_only[0]); i++)
		if (kernel_only[i].err == err)
			name = kernel_only[i].name;
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
	if (!name)
		name = strerrorname_np(err);
#endif
	if (name)
		snprintf(out, outlen, "%s", name);
	else
		snprintf(out, outlen, "errno%d", err);
}

static int cmp_errno_count(const void *a, const void *b)
{
	const struct errno_count *x = a, *y = b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return (x->err > y->err) - (x->err < y->err);
}

/* "0", or "N (ENOENT xA, EAGAIN xB, ...)" with the most frequent errnos first. */
static void format_errors(const struct summary_row *r, char *out, size_t outlen)
{
	struct errno_count top[SUMMARY_TOP_ERRNOS + 1] = {0};
	char name[SUMMARY_CELL_LEN];
	size_t i, j, ntop = 0, len;

	len = snprintf(out, outlen, "%llu", (unsigned long long)r->errors);
	if (!r->nerrnos || len >= outlen)
		return;
	/* Insertion into a short sorted array: no need to sort or copy all errnos. */
	for (i = 0; i < r->nerrnos; i++) {
		j = ntop;
		while (j > 0 && cmp_errno_count(&r->errnos[i], &top[j - 1]) < 0) {
			if (j < SUMMARY_TOP_ERRNOS)
				top[j] = top[j - 1];
			j--;
		}
		if (j < SUMMARY_TOP_ERRNOS) {
			top[j] = r->errnos[i];
			if (ntop < SUMMARY_TOP_ERRNOS)
				ntop++;
		}
	}
	for (i = 0; i < ntop && len < outlen; i++) {
		errno_name(top[i].err, name, sizeof(name));
		len += snprintf(out + len, outlen - len, "%s%s x%llu", i ? ", " : " (", name,
				(unsigned long long)top[i].count);
	}
	if (len < outlen)
		snprintf(out + len, outlen - len, "%s)", r->nerrnos > ntop ? ", ..." : "");
}

/* Rows by total time of complete calls, most first; ties by calls, then name, then binary. */
static int cmp_row_time(const void *a, const void *b)
{
	const struct summary_row *x = *(struct summary_row *const *)a;
	const struct summary_row *y = *(struct summary_row *const *)b;
	int c;

	if (x->lat.sum_ns != y->lat.sum_ns)
		return x->lat.sum_ns > y->lat.sum_ns ? -1 : 1;
	if (x->calls != y->calls)
		return x->calls > y->calls ? -1 : 1;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	c = strcmp(x->name, y->name);
	if (c)
		return c;
	return strcmp(x->binary ? x->binary : "", y->binary ? y->binary : "");
}

/* A row and its place in the sorted table, to sort by name and mark shared names. */
struct row_ref {
	const struct summary_row *row;
	size_t idx;
};

/* Row refs by kind and name, to find names that need their binary to tell them apart. */
static int cmp_ref_name(const void *a, const void *b)
{
	const struct row_ref *x = a, *y = b;

	if (x->row->kind != y->row->kind)
		return x->row->kind < y->row->kind ? -1 : 1;
	return strcmp(x->row->name, y->row->name);
}

/* Prefix that tells a row's kind in the FUNCTION column: the probe spec's own prefix. */
static const char *kind_prefix(enum zt_span_kind kind)
{
	switch (kind) {
	case ZT_KIND_KERNEL:
		return "k:";
	case ZT_KIND_USDT:
		return "usdt:";
	case ZT_KIND_TRACEPOINT:
		return "t:";
	default:
		return "";
	}
}

/* A table being printed: a name column of any width, then fixed-size cells. */
struct table {
	size_t ncols; /* including the name column */
	const char *const *headers;
	const bool *left; /* left-aligned columns */
	size_t nrows;
	char **names;
	char (*cells)[SUMMARY_MAX_COLS][SUMMARY_CELL_LEN]; /* cells[row][col], col 0 unused */
};

static void table_print(const struct table *t, FILE *out)
{
	size_t width[SUMMARY_MAX_COLS] = {0};
	size_t r, c, len;
	const char *cell;

	for (c = 0; c < t->ncols; c++) {
		width[c] = strlen(t->headers[c]);
		for (r = 0; r < t->nrows; r++) {
			len = strlen(c ? t->cells[r][c] : t->names[r]);
			if (len > width[c])
				width[c] = len;
		}
	}
	for (r = 0; r <= t->nrows; r++) {
		for (c = 0; c < t->ncols; c++) {
			/* Row 0 is the header line. */
			cell = !r ? t->headers[c] : c ? t->cells[r - 1][c] : t->names[r - 1];
			if (c)
				fputs("  ", out);
			if (!t->left[c])
				fprintf(out, "%*s", (int)width[c], cell);
			else if (c + 1 < t->ncols)
				fprintf(out, "%-*s", (int)width[c], cell);
			else
				fputs(cell, out); /* no trailing blanks */
		}
		fputc('\n', out);
	}
}

static int table_alloc(struct table *t, size_t nrows)
{
	t->nrows = nrows;
	t->names = calloc(nrows ? nrows : 1, sizeof(*t->names));
	t->cells = calloc(nrows ? nrows : 1, sizeof(*t->cells));
	return t->names && t->cells ? 0 : -ENOMEM;
}

static void table_free(struct table *t)
{
	size_t r;

	for (r = 0; t->names && r < t->nrows; r++)
		free(t->names[r]);
	free(t->names);
	free(t->cells);
}

static void cell_u64(char *cell, uint64_t v)
{
	snprintf(cell, SUMMARY_CELL_LEN, "%llu", (unsigned long long)v);
}

/* A latency cell; "-" when no call completed. */
static void cell_duration(char *cell, const struct zt_latency *l, uint64_t ns)
{
	if (!l->count)
		snprintf(cell, SUMMARY_CELL_LEN, "-");
	else
		zt_format_duration(ns, cell, SUMMARY_CELL_LEN);
}

/*
 * Set dup[i] for each of rows[0..n) whose kind and name another row shares (same function in
 * two binaries), so the table names the binary. Returns 0 or -ENOMEM.
 */
static int mark_shared_names(struct summary_row *const *rows, size_t n, bool *dup)
{
	struct row_ref *refs = calloc(n ? n : 1, sizeof(*refs));
	size_t i;

	if (!refs)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		refs[i].row = rows[i];
		refs[i].idx = i;
	}
	qsort(refs, n, sizeof(*refs), cmp_ref_name);
	for (i = 0; i + 1 < n; i++) {
		if (!cmp_ref_name(&refs[i], &refs[i + 1])) {
			dup[refs[i].idx] = true;
			dup[refs[i + 1].idx] = true;
		}
	}
	free(refs);
	return 0;
}

/* The function table over rows[0..n), already sorted. Returns 0 or -ENOMEM. */
static int print_functions(struct summary_row *const *rows, size_t n, FILE *out)
{
	static const char *const headers[] = {"FUNCTION", "CALLS", "ERRORS", "INCOMPL", "MIN",
					      "MEAN",	  "P50",   "P90",    "P99",	"MAX"};
	static const bool left[SUMMARY_MAX_COLS] = {true};
	struct table t = {.ncols = 10, .headers = headers, .left = left};
	const struct summary_row *r;
	bool *dup = NULL;
	size_t i;
	int ret;

	ret = table_alloc(&t, n);
	if (ret)
		goto out;
	dup = calloc(n ? n : 1, sizeof(*dup));
	if (!dup) {
		ret = -ENOMEM;
		goto out;
	}
	ret = mark_shared_names(rows, n, dup);
	if (ret)
		goto out;
	for (i = 0; i < n; i++) {
		r = rows[i];
		if (dup[i] && r->binary)
			ret = asprintf(&t.names[i], "%s%s (%s)", kind_prefix(r->kind), r->name,
				       r->binary);
		else
			ret = asprintf(&t.names[i], "%s%s", kind_prefix(r->kind), r->name);
		if (ret < 0) {
			t.names[i] = NULL;
			ret = -ENOMEM;
			goto out;
		}
		cell_u64(t.cells[i][1], r->calls);
		cell_u64(t.cells[i][2], r->errors);
		cell_u64(t.cells[i][3], r->incomplete);
		cell_duration(t.cells[i][4], &r->lat, r->lat.min_ns);
		cell_duration(t.cells[i][5], &r->lat, zt_latency_mean(&r->lat));
		cell_duration(t.cells[i][6], &r->lat, zt_latency_percentile(&r->lat, 50));
		cell_duration(t.cells[i][7], &r->lat, zt_latency_percentile(&r->lat, 90));
		cell_duration(t.cells[i][8], &r->lat, zt_latency_percentile(&r->lat, 99));
		cell_duration(t.cells[i][9], &r->lat, r->lat.max_ns);
	}
	table_print(&t, out);
	ret = 0;
out:
	free(dup);
	table_free(&t);
	return ret;
}

/* The syscall table over rows[0..n), already sorted. Returns 0 or -ENOMEM. */
static int print_syscalls(struct summary_row *const *rows, size_t n, FILE *out)
{
	static const char *const headers[] = {"SYSCALL", "COUNT", "ERRORS", "TOTAL",
					      "MEAN",	 "P50",	  "P99",    "MAX"};
	static const bool left[SUMMARY_MAX_COLS] = {true, false, true};
	struct table t = {.ncols = 8, .headers = headers, .left = left};
	const struct summary_row *r;
	size_t i;
	int ret;

	ret = table_alloc(&t, n);
	if (ret)
		goto out;
	for (i = 0; i < n; i++) {
		r = rows[i];
		t.names[i] = strdup(r->name);
		if (!t.names[i]) {
			ret = -ENOMEM;
			goto out;
		}
		cell_u64(t.cells[i][1], r->calls);
		format_errors(r, t.cells[i][2], SUMMARY_CELL_LEN);
		cell_duration(t.cells[i][3], &r->lat, r->lat.sum_ns);
		cell_duration(t.cells[i][4], &r->lat, zt_latency_mean(&r->lat));
		cell_duration(t.cells[i][5], &r->lat, zt_latency_percentile(&r->lat, 50));
		cell_duration(t.cells[i][6], &r->lat, zt_latency_percentile(&r->lat, 99));
		cell_duration(t.cells[i][7], &r->lat, r->lat.max_ns);
	}
	table_print(&t, out);
out:
	table_free(&t);
	return ret;
}

/* Most losses first, then by probe, so the output does not depend on the order of updates. */
static int cmp_capture(const void *a, const void *b)
{
	const struct capture *x = *(const struct capture *const *)a;
	const struct capture *y = *(const struct capture *const *)b;

	if (x->lost != y->lost)
		return x->lost > y->lost ? -1 : 1;
	return strcmp(x->probe, y->probe);
}

/* "delivered D, lost L, capture rate R%": R rounded down so any loss shows below 100.00%. */
static void print_capture_line(FILE *out, uint64_t delivered, uint64_t lost)
{
	unsigned __int128 total = (unsigned __int128)delivered + lost;
	unsigned long long basis_points;

	fprintf(out, "delivered %llu, lost %llu, capture rate ", (unsigned long long)delivered,
		(unsigned long long)lost);
	if (!total) {
		fputs("n/a\n", out);
		return;
	}
	basis_points = (unsigned long long)((unsigned __int128)delivered * 10000 / total);
	fprintf(out, "%llu.%02llu%%\n", basis_points / 100, basis_points % 100);
}

/* A line per probe that lost events, then the totals. Returns 0 or -ENOMEM. */
static int print_captures(const struct zt_summary *s, FILE *out)
{
	const struct capture **sorted = calloc(s->ncaptures ? s->ncaptures : 1, sizeof(*sorted));
	uint64_t delivered = 0, lost = 0;
	size_t i;

	if (!sorted)
		return -ENOMEM;
	for (i = 0; i < s->ncaptures; i++) {
		sorted[i] = &s->captures[i];
		delivered += s->captures[i].delivered;
		lost += s->captures[i].lost;
	}
	qsort(sorted, s->ncaptures, sizeof(*sorted), cmp_capture);
	for (i = 0; i < s->ncaptures && sorted[i]->lost; i++) {
		fprintf(out, "probe %s: ", sorted[i]->probe);
		print_capture_line(out, sorted[i]->delivered, sorted[i]->lost);
	}
	fputs("events: ", out);
	print_capture_line(out, delivered, lost);
	free(sorted);
	return 0;
}

int zt_summary_print(const struct zt_summary *s, FILE *out)
{
	struct summary_row **funcs, **syscalls;
	size_t i, nfuncs = 0, nsyscalls = 0;
	int ret = 0;

	funcs = calloc(s->nrows ? s->nrows : 1, sizeof(*funcs));
	syscalls = calloc(s->nrows ? s->nrows : 1, sizeof(*syscalls));
	if (!funcs || !syscalls) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < s->nrows; i++) {
		if (s->rows[i]->kind == ZT_KIND_SYSCALL)
			syscalls[nsyscalls++] = s->rows[i];
		else
			funcs[nfuncs++] = s->rows[i];
	}
	qsort(funcs, nfuncs, sizeof(*funcs), cmp_row_time);
	qsort(syscalls, nsyscalls, sizeof(*syscalls), cmp_row_time);

	if (nfuncs) {
		ret = print_functions(funcs, nfuncs, out);
		if (ret)
			goto out;
		fputc('\n', out);
	}
	if (nsyscalls) {
		ret = print_syscalls(syscalls, nsyscalls, out);
		if (ret)
			goto out;
		fputc('\n', out);
	}
	if (!nfuncs && !nsyscalls)
		fputs("no calls recorded\n\n", out);
	ret = print_captures(s, out);
out:
	free(funcs);
	free(syscalls);
	return ret;
}
