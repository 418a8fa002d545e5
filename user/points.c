// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "points.h"
#include "tracepoint.skel.h"
#include "usdt.skel.h"

struct zt_points {
	struct tracepoint_bpf *tp;
	struct usdt_bpf *usdt;
	struct bpf_link **links;
	size_t nlinks, cap;
};

static int push_link(struct zt_points *p, struct bpf_link *link)
{
	if (p->nlinks == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16;
		struct bpf_link **v = realloc(p->links, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		p->links = v;
		p->cap = cap;
	}
	p->links[p->nlinks++] = link;
	return 0;
}

struct zt_points *zt_points_open(struct zt_loader *l, char *err, size_t errlen)
{
	const struct zt_loader_config *cfg = zt_loader_get_config(l);
	struct zt_points *p = calloc(1, sizeof(*p));
	int ret;

	if (!p)
		goto nomem;
	p->tp = tracepoint_bpf__open();
	p->usdt = usdt_bpf__open();
	if (!p->tp || !p->usdt)
		goto fail_errno;
	ret = zt_loader_share_maps(l, p->tp->obj);
	if (!ret)
		ret = zt_loader_share_maps(l, p->usdt->obj);
	if (ret) {
		errno = -ret;
		goto fail_errno;
	}
	ZT_SET_COMMON_RODATA(p->tp, cfg);
	ZT_SET_COMMON_RODATA(p->usdt, cfg);
	ret = tracepoint_bpf__load(p->tp);
	if (!ret)
		ret = usdt_bpf__load(p->usdt);
	if (ret) {
		snprintf(err, errlen, "the kernel refused ztrace's tracepoint/USDT programs: %s",
			 strerror(-ret));
		zt_points_close(p);
		return NULL;
	}
	return p;
fail_errno:
	snprintf(err, errlen, "cannot load the tracepoint/USDT programs: %s", strerror(errno));
	zt_points_close(p);
	return NULL;
nomem:
	snprintf(err, errlen, "out of memory");
	return NULL;
}

int zt_points_attach_tracepoint(struct zt_points *p, const char *category, const char *name,
				uint32_t id, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_tracepoint_opts, opts, .bpf_cookie = id);
	char path[512];
	struct bpf_link *link;
	int ret;

	zt_tracefs_ensure();
	snprintf(path, sizeof(path), "/sys/kernel/tracing/events/%s/%s", category, name);
	if (access(path, F_OK)) {
		snprintf(err, errlen,
			 "no kernel tracepoint %s:%s: see /sys/kernel/tracing/available_events",
			 category, name);
		return -ENOENT;
	}
	link = bpf_program__attach_tracepoint_opts(p->tp->progs.zt_tracepoint, category, name,
						   &opts);
	if (!link) {
		ret = -errno;
		snprintf(err, errlen, "cannot attach to tracepoint %s:%s: %s", category, name,
			 strerror(errno));
		return ret;
	}
	ret = push_link(p, link);
	if (ret)
		bpf_link__destroy(link);
	return ret;
}

int zt_points_attach_usdt(struct zt_points *p, int pid, const char *path, const char *provider,
			  const char *name, uint32_t id, bool end, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_usdt_opts, opts, .usdt_cookie = id | (end ? ZT_USDT_END_BIT : 0));
	struct bpf_link *link;
	int ret;

	link = bpf_program__attach_usdt(p->usdt->progs.zt_usdt, pid, path, provider, name, &opts);
	if (!link) {
		ret = -errno;
		snprintf(err, errlen, "cannot attach to USDT %s:%s in %s: %s", provider, name, path,
			 ret == -ENOENT ? "no such probe (list them with ztrace probes --usdt FILE)"
					: strerror(-ret));
		return ret;
	}
	ret = push_link(p, link);
	if (ret)
		bpf_link__destroy(link);
	return ret;
}

/* Mark probe id as the START of a pair: its hits open a span instead of being points. */
int zt_points_mark_pair(struct zt_points *p, uint32_t id)
{
	__u8 one = 1;

	return bpf_map_update_elem(bpf_map__fd(p->usdt->maps.usdt_pairs), &id, &one, BPF_ANY)
		       ? -errno
		       : 0;
}

void zt_points_detach(struct zt_points *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nlinks; i++)
		bpf_link__destroy(p->links[i]);
	p->nlinks = 0;
}

void zt_points_close(struct zt_points *p)
{
	if (!p)
		return;
	zt_points_detach(p);
	free(p->links);
	tracepoint_bpf__destroy(p->tp);
	usdt_bpf__destroy(p->usdt);
	free(p);
}
