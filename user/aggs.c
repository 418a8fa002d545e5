// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "aggs.h"

/* Grow *v (of elem bytes each) so that one more fits. */
static int grow(void **v, size_t *cap, size_t n, size_t elem)
{
	void *nv;

	if (n < *cap)
		return 0;
	*cap = *cap ? *cap * 2 : 64;
	nv = realloc(*v, *cap * elem);
	if (!nv)
		return -ENOMEM;
	*v = nv;
	return 0;
}

int zt_aggs_read(int fd, struct zt_agg_entry **out, size_t *n)
{
	int ncpus = libbpf_num_possible_cpus();
	struct zt_agg_val *percpu = calloc((size_t)ncpus, sizeof(*percpu));
	struct zt_agg_key key, *prev = NULL;
	struct zt_agg_entry *v = NULL;
	size_t cap = 0;
	int ret = 0;

	*n = 0;
	if (!percpu)
		return -ENOMEM;
	while (bpf_map_get_next_key(fd, prev, &key) == 0) {
		struct zt_agg_entry *e;

		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, percpu))
			continue; /* removed since get_next_key */
		ret = grow((void **)&v, &cap, *n, sizeof(*v));
		if (ret)
			goto out;
		e = &v[(*n)++];
		memset(e, 0, sizeof(*e));
		e->key = key;
		for (int c = 0; c < ncpus; c++) {
			e->val.count += percpu[c].count;
			e->val.errors += percpu[c].errors;
			e->val.sum_ns += percpu[c].sum_ns;
			e->val.sampled_out += percpu[c].sampled_out;
			if (percpu[c].max_ns > e->val.max_ns)
				e->val.max_ns = percpu[c].max_ns;
			for (int b = 0; b < ZT_HIST_BUCKETS; b++)
				e->val.buckets[b] += percpu[c].buckets[b];
		}
	}
out:
	free(percpu);
	if (ret) {
		free(v);
		v = NULL;
		*n = 0;
	}
	*out = v;
	return ret;
}

int zt_errnos_read(int fd, struct zt_errno_entry **out, size_t *n)
{
	int ncpus = libbpf_num_possible_cpus();
	uint64_t *percpu = calloc((size_t)ncpus, sizeof(*percpu));
	struct zt_errno_key key, *prev = NULL;
	struct zt_errno_entry *v = NULL;
	size_t cap = 0;
	int ret = 0;

	*n = 0;
	if (!percpu)
		return -ENOMEM;
	while (bpf_map_get_next_key(fd, prev, &key) == 0) {
		struct zt_errno_entry *e;

		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, percpu))
			continue;
		ret = grow((void **)&v, &cap, *n, sizeof(*v));
		if (ret)
			break;
		e = &v[(*n)++];
		e->key = key;
		e->count = 0;
		for (int c = 0; c < ncpus; c++)
			e->count += percpu[c];
	}
	free(percpu);
	if (ret) {
		free(v);
		v = NULL;
		*n = 0;
	}
	*out = v;
	return ret;
}
