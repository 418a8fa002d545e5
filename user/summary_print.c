// SPDX-License-Identifier: MIT
/* The summary tables printed: sorting, errno names, column layout and capture lines. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* strerrorname_np(); the Makefile defines it too */
#endif
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "summary_internal.h"

/* Distinct errno names shown in a syscall's ERRORS cell; the rest is "...". */
#define SUMMARY_TOP_ERRNOS 2
/* Longest cell other than the name, e.g. "N (ENOTRECOVERABLE xN, EPROTONOSUPPORT xN, ...)". */
#define SUMMARY_CELL_LEN 128
/* Columns of the widest table (the function table). */
#define SUMMARY_MAX_COLS 10

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
