// SPDX-License-Identifier: MIT
/* Uprobe attachments: argument capture, uprobe pairs and multi links, their groups. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "loader_internal.h"
#include "uprobe_multi.h"
#include "uprobe.skel.h"

/* Grow *v (elements of size) to cap elements. Returns 0 or -ENOMEM. */
static int grow(void *v, size_t size, size_t cap)
{
	void *n = realloc(*(void **)v, cap * size);

	if (!n)
		return -ENOMEM;
	*(void **)v = n;
	return 0;
}

static int push_link(struct zt_loader *l, struct bpf_link *link)
{
	if (l->nlinks == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;

		if (grow(&l->links, sizeof(*l->links), cap) ||
		    grow(&l->link_group, sizeof(*l->link_group), cap))
			return -ENOMEM;
		l->cap = cap;
	}
	l->link_group[l->nlinks] = l->group;
	l->links[l->nlinks++] = link;
	return 0;
}

/* The kernel's ENOTSUPP (include/linux/errno.h): not in the uapi headers. */
#define ZT_ENOTSUPP 524

int zt_loader_set_args(struct zt_loader *l, uint32_t probe_id, const struct zt_arg_spec *spec)
{
	if (probe_id >= ZT_MAX_PROBES || !l->cfg.capture_args)
		return -EINVAL;
	if (!l->captures) {
		l->captures = calloc(ZT_MAX_PROBES, 1);
		if (!l->captures)
			return -ENOMEM;
	}
	if (bpf_map_update_elem(bpf_map__fd(l->skel->maps.arg_specs), &probe_id, spec, BPF_ANY))
		return -errno;
	l->captures[probe_id] = 1;
	return 0;
}

void zt_loader_clear_args(struct zt_loader *l, uint32_t probe_id)
{
	if (l->captures && probe_id < ZT_MAX_PROBES)
		l->captures[probe_id] = 0;
}

/* The BPF cookie of probe_id: the id, and whether the probe captures arguments. */
static uint64_t probe_cookie(const struct zt_loader *l, uint32_t probe_id)
{
	bool capture = l->captures && probe_id < ZT_MAX_PROBES && l->captures[probe_id];

	return probe_id | (capture ? ZT_COOKIE_ARGS : 0);
}

/* One uprobe+uretprobe pair through perf-event links. Returns 0 or -errno. */
static int attach_pair_perf(struct zt_loader *l, const char *path, uint64_t offset, int pid,
			    uint64_t cookie)
{
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .bpf_cookie = cookie);
	struct bpf_link *entry, *ret_link;
	int ret;

	/* The return probe goes first: an entry without its return would leave a frame open. */
	opts.retprobe = true;
	ret_link = bpf_program__attach_uprobe_opts(l->skel->progs.zt_uprobe_return, pid, path,
						   offset, &opts);
	if (!ret_link)
		return -errno;
	opts.retprobe = false;
	entry = bpf_program__attach_uprobe_opts(l->skel->progs.zt_uprobe_entry, pid, path, offset,
						&opts);
	if (!entry) {
		ret = -errno;
		bpf_link__destroy(ret_link);
		return ret;
	}
	if (push_link(l, ret_link) || push_link(l, entry)) {
		bpf_link__destroy(entry);
		bpf_link__destroy(ret_link);
		return -ENOMEM;
	}
	return 0;
}

static int push_fd(struct zt_loader *l, int fd, uint32_t nfuncs)
{
	if (l->nfds == l->fds_cap) {
		size_t cap = l->fds_cap ? l->fds_cap * 2 : 16;

		if (grow(&l->fds, sizeof(*l->fds), cap) ||
		    grow(&l->fd_group, sizeof(*l->fd_group), cap) ||
		    grow(&l->fd_count, sizeof(*l->fd_count), cap))
			return -ENOMEM;
		l->fds_cap = cap;
	}
	l->fd_group[l->nfds] = l->group;
	l->fd_count[l->nfds] = nfuncs;
	l->fds[l->nfds++] = fd;
	return 0;
}

/* Both directions for offsets[0..n) in two uprobe_multi links. Returns 0 or -errno. */
static int attach_range_multi(struct zt_loader *l, const char *path, int pid,
			      const uint64_t *offsets, const uint64_t *cookies, size_t n)
{
	int ret_fd, entry_fd, ret;

	ret_fd = zt_uprobe_multi_attach(bpf_program__fd(l->skel->progs.zt_uprobe_multi_return),
					path, offsets, cookies, (uint32_t)n, true, pid);
	if (ret_fd < 0)
		return ret_fd;
	entry_fd = zt_uprobe_multi_attach(bpf_program__fd(l->skel->progs.zt_uprobe_multi_entry),
					  path, offsets, cookies, (uint32_t)n, false, pid);
	if (entry_fd < 0) {
		close(ret_fd);
		return entry_fd;
	}
	/* the return link carries the count: a pair is one function */
	ret = push_fd(l, ret_fd, (uint32_t)n);
	if (!ret)
		ret = push_fd(l, entry_fd, 0);
	if (ret) {
		close(entry_fd);
		close(ret_fd);
	}
	return ret;
}

/*
 * Attach [lo, hi) with multi links; when the kernel refuses the range, halve it until the
 * functions it refuses are alone, and mark those. Returns how many were attached.
 */
static size_t attach_bisect(struct zt_loader *l, const char *path, int pid, const uint64_t *offsets,
			    const uint64_t *cookies, size_t lo, size_t hi, int *refused)
{
	int ret = attach_range_multi(l, path, pid, offsets + lo, cookies + lo, hi - lo);
	size_t mid;

	if (ret == 0)
		return hi - lo;
	if (hi - lo == 1 || ret == -ENOMEM || ret == -EPERM) {
		for (size_t i = lo; i < hi; i++)
			refused[i] = ret;
		return 0;
	}
	mid = lo + (hi - lo) / 2;
	return attach_bisect(l, path, pid, offsets, cookies, lo, mid, refused) +
	       attach_bisect(l, path, pid, offsets, cookies, mid, hi, refused);
}

/*
 * uprobes cannot take an instruction with a lock prefix (the kernel answers ENOTSUPP); spot
 * the common case from the file so a multi link is not refused for it. Returns 0 or -errno.
 */
static int first_insn_check(int fd, uint64_t offset)
{
	uint8_t insn[4];

	if (fd < 0 || pread(fd, insn, sizeof(insn), (off_t)offset) != sizeof(insn))
		return 0; /* let the kernel decide */
	for (size_t i = 0; i < sizeof(insn); i++) {
		if (insn[i] == 0xf0)
			return -ZT_ENOTSUPP;
		/* legacy prefixes may stand before lock; anything else ends the prefixes */
		if (insn[i] != 0x66 && insn[i] != 0x67 && insn[i] != 0xf2 && insn[i] != 0xf3 &&
		    insn[i] != 0x2e && insn[i] != 0x3e)
			break;
	}
	return 0;
}

int zt_loader_attach_uprobes(struct zt_loader *l, const char *path, int pid,
			     const uint64_t *offsets, const uint32_t *ids, size_t n, int *refused,
			     char *err, size_t errlen)
{
	uint64_t *offs = calloc(n ? n : 1, sizeof(*offs)), *cookies = calloc(n ? n : 1, 8);
	size_t *where = calloc(n ? n : 1, sizeof(*where));
	int *res = calloc(n ? n : 1, sizeof(*res));
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret = 0, first_err = 0;
	size_t m = 0, attached = 0;

	if (!offs || !cookies || !where || !res) {
		ret = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		refused[i] = first_insn_check(fd, offsets[i]);
		if (refused[i])
			continue;
		offs[m] = offsets[i];
		cookies[m] = probe_cookie(l, ids[i]);
		where[m++] = i;
	}
	if (l->multi) {
		attached = m ? attach_bisect(l, path, pid, offs, cookies, 0, m, res) : 0;
	} else {
		for (size_t k = 0; k < m; k++) {
			res[k] = attach_pair_perf(l, path, offs[k], pid, cookies[k]);
			attached += res[k] == 0;
		}
	}
	for (size_t k = 0; k < m; k++) {
		refused[where[k]] = res[k];
		if (res[k] && !first_err)
			first_err = res[k];
	}
	for (size_t i = 0; i < n && !first_err; i++)
		first_err = refused[i];
	l->nuprobes += attached;
	ret = (int)attached;
	if (!attached && n) {
		ret = first_err ? first_err : -EINVAL;
		snprintf(err, errlen, "cannot attach uprobes to %s%s: %s", path,
			 pid > 0 ? " in that process" : "",
			 ret == -ZT_ENOTSUPP ? "the kernel cannot probe these functions' first "
					       "instructions"
					     : strerror(-ret));
	}
out:
	if (fd >= 0)
		close(fd);
	free(offs);
	free(cookies);
	free(where);
	free(res);
	return ret;
}

bool zt_loader_uses_uprobe_multi(const struct zt_loader *l)
{
	return l->multi;
}

size_t zt_loader_uprobe_count(const struct zt_loader *l)
{
	return l->nuprobes;
}

void zt_loader_set_group(struct zt_loader *l, uint32_t group)
{
	l->group = group;
}

void zt_loader_detach_group(struct zt_loader *l, uint32_t group)
{
	size_t kept = 0;

	/* newest first, as below; the kept ones stay in their order */
	for (size_t i = l->nlinks; i-- > 0;) {
		if (l->link_group[i] != group)
			continue;
		bpf_link__destroy(l->links[i]);
		l->links[i] = NULL;
		l->nuprobes -= i % 2 == 0; /* perf links come in (return, entry) pairs */
	}
	for (size_t i = 0; i < l->nlinks; i++) {
		if (!l->links[i])
			continue;
		l->link_group[kept] = l->link_group[i];
		l->links[kept++] = l->links[i];
	}
	l->nlinks = kept;
	for (size_t i = l->nfds; i-- > 0;) {
		if (l->fd_group[i] != group)
			continue;
		close(l->fds[i]);
		l->fds[i] = -1;
		l->nuprobes -= l->fd_count[i];
	}
	kept = 0;
	for (size_t i = 0; i < l->nfds; i++) {
		if (l->fds[i] < 0)
			continue;
		l->fd_group[kept] = l->fd_group[i];
		l->fd_count[kept] = l->fd_count[i];
		l->fds[kept++] = l->fds[i];
	}
	l->nfds = kept;
}

void zt_loader_detach_uprobes(struct zt_loader *l)
{
	/* Newest first: each entry probe goes before its return probe, so no call is entered
	 * whose return can no longer be seen. */
	for (size_t i = l->nlinks; i-- > 0;)
		bpf_link__destroy(l->links[i]);
	l->nlinks = 0;
	for (size_t i = l->nfds; i-- > 0;)
		close(l->fds[i]);
	l->nfds = 0;
	l->nuprobes = 0;
}
