// SPDX-License-Identifier: MIT
/* Per-function and per-syscall summary rows and capture accounting; see summary_print.c. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "summary_internal.h"

/* Slots of the row index when the first row is added (a power of two). */
#define SUMMARY_INITIAL_SLOTS 64
/* Largest errno a syscall returns as -errno (the kernel's MAX_ERRNO). */
#define SUMMARY_MAX_ERRNO 4095

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
