// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "loader.h"
#include "log.h"
#include "uprobe_multi.h"
#include "syscall.skel.h"
#include "uprobe.skel.h"

struct zt_loader {
	struct uprobe_bpf *skel;
	struct syscall_bpf *sys; /* NULL without --syscalls */
	struct bpf_link *sys_links[2];
	struct bpf_link **links;
	uint32_t *link_group; /* [cap]: the group each link was attached in */
	size_t nlinks, cap;
	size_t nuprobes;
	uint32_t group; /* of the attachments made now (zt_loader_set_group) */
	struct bpf_link *exit_link;
	struct bpf_link *exec_link;    /* ends open calls at exec; agent discovery */
	int *fds;		       /* uprobe_multi link fds */
	uint32_t *fd_group, *fd_count; /* [fds_cap]: group, and functions the link probes */
	size_t nfds, fds_cap;
	bool multi; /* attach through uprobe_multi links */
	struct zt_loader_config cfg;
	uint8_t *captures; /* [ZT_MAX_PROBES]: probe ids with a --capture spec, NULL if none */
	int ncpus;
	/* read-only views of the ring buffer's consumer and producer positions */
	const volatile unsigned long *rb_consumer, *rb_producer;
};

int zt_loader_share_maps(struct zt_loader *l, struct bpf_object *obj)
{
	struct bpf_map *map;

	bpf_object__for_each_map(map, l->skel->obj)
	{
		struct bpf_map *twin;
		int ret;

		if (bpf_map__is_internal(map)) /* .rodata and friends belong to each object */
			continue;
		twin = bpf_object__find_map_by_name(obj, bpf_map__name(map));
		if (!twin)
			continue;
		ret = bpf_map__reuse_fd(twin, bpf_map__fd(map));
		if (ret)
			return ret;
	}
	return 0;
}

const struct zt_loader_config *zt_loader_get_config(const struct zt_loader *l)
{
	return &l->cfg;
}

/*
 * Load the syscall programs on the maps of the already loaded uprobe object, so syscalls are
 * charged to the same per-thread stacks and reported through the same ring buffer.
 */
static int load_syscalls(struct zt_loader *l, const struct zt_loader_config *cfg, char *err,
			 size_t errlen)
{
	int ret;

	l->sys = syscall_bpf__open();
	if (!l->sys) {
		snprintf(err, errlen, "cannot open the syscall BPF programs: %s", strerror(errno));
		return -errno;
	}
	ret = zt_loader_share_maps(l, l->sys->obj);
	if (ret) {
		snprintf(err, errlen, "cannot share BPF maps: %s", strerror(-ret));
		return ret;
	}
	ZT_SET_COMMON_RODATA(l->sys, cfg);
	l->sys->rodata->filter_syscalls = cfg->syscall_selected != NULL;
	l->sys->rodata->syscall_spans = cfg->syscall_spans;
	l->sys->rodata->min_duration_ns = cfg->syscall_min_ns;
	ret = syscall_bpf__load(l->sys);
	if (ret) {
		snprintf(
		    err, errlen,
		    "the kernel refused ztrace's syscall BPF programs (%s); run with -vv for the "
		    "verifier log",
		    strerror(-ret));
		return ret;
	}
	if (cfg->syscall_selected) {
		for (__u32 nr = 0; nr < ZT_MAX_SYSCALLS; nr++) {
			__u8 on = cfg->syscall_selected[nr];

			if (on && bpf_map_update_elem(bpf_map__fd(l->sys->maps.syscall_sel), &nr,
						      &on, BPF_ANY)) {
				snprintf(err, errlen, "cannot select syscalls: %s",
					 strerror(errno));
				return -errno;
			}
		}
	}
	l->sys_links[0] =
	    bpf_program__attach_raw_tracepoint(l->sys->progs.zt_sys_enter, "sys_enter");
	l->sys_links[1] = bpf_program__attach_raw_tracepoint(l->sys->progs.zt_sys_exit, "sys_exit");
	if (!l->sys_links[0] || !l->sys_links[1]) {
		snprintf(err, errlen, "cannot attach to the raw_syscalls tracepoints: %s",
			 strerror(errno));
		return -errno;
	}
	return 0;
}

/* libbpf 1.1 cannot tell how full a ring buffer is; its first two pages say, so map them. */
static void map_ringbuf_positions(struct zt_loader *l)
{
	int fd = bpf_map__fd(l->skel->maps.events);
	long page = sysconf(_SC_PAGESIZE);
	void *c = mmap(NULL, (size_t)page, PROT_READ, MAP_SHARED, fd, 0);
	void *p = mmap(NULL, (size_t)page, PROT_READ, MAP_SHARED, fd, page);

	l->rb_consumer = c == MAP_FAILED ? NULL : c;
	l->rb_producer = p == MAP_FAILED ? NULL : p;
}

int zt_loader_set_aggregate(struct zt_loader *l, bool on)
{
	struct zt_control c = { .aggregate = on, .span_min_ns = l->cfg.span_min_ns };
	__u32 zero = 0;

	if (bpf_map_update_elem(bpf_map__fd(l->skel->maps.control), &zero, &c, BPF_ANY))
		return -errno;
	l->cfg.aggregate = on;
	return 0;
}

uint64_t zt_loader_ringbuf_used(struct zt_loader *l)
{
	if (!l->rb_consumer || !l->rb_producer)
		return 0;
	return *l->rb_producer - *l->rb_consumer;
}

struct zt_loader *zt_loader_open(const struct zt_loader_config *cfg, char *err, size_t errlen)
{
	struct zt_loader *l = calloc(1, sizeof(*l));
	int ret;

	if (!l) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	l->ncpus = libbpf_num_possible_cpus();
	l->cfg = *cfg;
	l->cfg.syscall_selected = NULL; /* not kept: only used while loading */
	l->skel = uprobe_bpf__open();
	if (!l->skel) {
		snprintf(err, errlen, "cannot open the BPF programs: %s", strerror(errno));
		goto fail;
	}
	ZT_SET_COMMON_RODATA(l->skel, cfg);
	l->skel->rodata->report_execs = cfg->report_execs;
	/* without --capture no slot is ever used: do not preallocate them */
	if (!cfg->capture_args)
		bpf_map__set_max_entries(l->skel->maps.arg_slots, 1);
	l->multi = zt_uprobe_multi_supported() && !getenv("ZTRACE_NO_UPROBE_MULTI");
	if (l->multi) {
		bpf_program__set_expected_attach_type(l->skel->progs.zt_uprobe_multi_entry,
						      ZT_BPF_TRACE_UPROBE_MULTI);
		bpf_program__set_expected_attach_type(l->skel->progs.zt_uprobe_multi_return,
						      ZT_BPF_TRACE_UPROBE_MULTI);
	} else {
		bpf_program__set_autoload(l->skel->progs.zt_uprobe_multi_entry, false);
		bpf_program__set_autoload(l->skel->progs.zt_uprobe_multi_return, false);
	}
	ret = uprobe_bpf__load(l->skel);
	if (ret) {
		snprintf(
		    err, errlen,
		    "the kernel refused ztrace's BPF programs (%s): it needs BTF, the BPF ring "
		    "buffer and uprobes (Linux 5.15 or later); run with -vv for the verifier log",
		    strerror(-ret));
		goto fail;
	}
	if (cfg->syscalls && load_syscalls(l, cfg, err, errlen))
		goto fail;
	map_ringbuf_positions(l);
	if (zt_loader_set_aggregate(l, cfg->aggregate)) {
		snprintf(err, errlen, "cannot configure the BPF programs: %s", strerror(errno));
		goto fail;
	}
	/* A thread that exits with calls open: flush them as incomplete spans. */
	l->exit_link =
	    bpf_program__attach_raw_tracepoint(l->skel->progs.zt_thread_exit, "sched_process_exit");
	if (!l->exit_link) {
		snprintf(err, errlen, "cannot attach to the sched_process_exit tracepoint: %s",
			 strerror(errno));
		goto fail;
	}
	/* An exec ends the calls open in the old image, and the agent discovers processes. */
	l->exec_link =
	    bpf_program__attach_raw_tracepoint(l->skel->progs.zt_exec, "sched_process_exec");
	if (!l->exec_link) {
		snprintf(err, errlen, "cannot attach to the sched_process_exec tracepoint: %s",
			 strerror(errno));
		goto fail;
	}
	return l;
fail:
	zt_loader_close(l);
	return NULL;
}

int zt_loader_set_target(struct zt_loader *l, int pid, const struct zt_target_policy *target)
{
	__u32 key = (__u32)pid;

	/* one update replaces the whole value: the BPF side never sees half a policy */
	if (bpf_map_update_elem(bpf_map__fd(l->skel->maps.targets), &key, target, BPF_ANY))
		return -errno;
	return 0;
}

void zt_loader_target_policy(const struct zt_error_rule *rule, bool ret32, uint64_t span_min_ns,
			     uint8_t flags, struct zt_target_policy *out)
{
	memset(out, 0, sizeof(*out));
	out->flags = flags;
	out->err_op = (uint8_t)rule->op;
	out->err_val = rule->value;
	out->ret32 = ret32;
	out->span_min_ns = span_min_ns;
}

int zt_loader_add_target(struct zt_loader *l, int pid, uint8_t flags)
{
	struct zt_target_policy t;

	/* the session's global policy; its min duration is the control's (aggregate mode) */
	zt_loader_target_policy(&l->cfg.error_rule, l->cfg.ret32, 0, flags, &t);
	return zt_loader_set_target(l, pid, &t);
}

/* The kernel's name of a file (struct zt_file_key) from stat(2)'s. */
static struct zt_file_key file_key(uint64_t st_dev, uint64_t st_ino)
{
	/* user space sees dev_t through new_encode_dev(); the kernel keeps MKDEV's 20-bit minor */
	struct zt_file_key k = {.dev = ((uint64_t)major(st_dev) << 20) | minor(st_dev),
				.ino = st_ino};

	return k;
}

int zt_loader_select_file(struct zt_loader *l, uint64_t st_dev, uint64_t st_ino,
			  const struct zt_target_policy *policy)
{
	struct zt_file_key key = file_key(st_dev, st_ino);

	if (bpf_map_update_elem(bpf_map__fd(l->skel->maps.exec_files), &key, policy, BPF_ANY))
		return -errno;
	return 0;
}

void zt_loader_clear_files(struct zt_loader *l)
{
	int fd = bpf_map__fd(l->skel->maps.exec_files);
	struct zt_file_key key;

	/* deleting the first key each time: iterating while deleting could skip entries */
	while (bpf_map_get_next_key(fd, NULL, &key) == 0)
		if (bpf_map_delete_elem(fd, &key))
			break;
}

int zt_loader_remove_target(struct zt_loader *l, int pid)
{
	__u32 key = (__u32)pid;

	if (bpf_map_delete_elem(bpf_map__fd(l->skel->maps.targets), &key))
		return -errno;
	return 0;
}

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

void zt_loader_detach(struct zt_loader *l)
{
	zt_loader_detach_uprobes(l);
	bpf_link__destroy(l->exit_link);
	l->exit_link = NULL;
	bpf_link__destroy(l->exec_link);
	l->exec_link = NULL;
	for (int i = 0; i < 2; i++) {
		bpf_link__destroy(l->sys_links[i]);
		l->sys_links[i] = NULL;
	}
}

struct bpf_map *zt_loader_events(struct zt_loader *l)
{
	return l->skel->maps.events;
}

int zt_loader_probe_stats(struct zt_loader *l, uint32_t probe_id, struct zt_probe_stats *out)
{
	struct zt_probe_stats percpu[l->ncpus];

	memset(out, 0, sizeof(*out));
	if (bpf_map_lookup_elem(bpf_map__fd(l->skel->maps.probe_stats), &probe_id, percpu))
		return -errno;
	for (int i = 0; i < l->ncpus; i++) {
		out->lost += percpu[i].lost;
		out->overflow += percpu[i].overflow;
		out->args_lost += percpu[i].args_lost;
		out->calls += percpu[i].calls;
		out->sampled_out += percpu[i].sampled_out;
	}
	return 0;
}

int zt_loader_set_sample_shift(struct zt_loader *l, uint32_t probe_id, uint32_t shift)
{
	if (bpf_map_update_elem(bpf_map__fd(l->skel->maps.probe_sample), &probe_id, &shift,
				BPF_ANY))
		return -errno;
	return 0;
}

void zt_loader_function_progs(struct zt_loader *l, int fds[4])
{
	fds[0] = bpf_program__fd(l->skel->progs.zt_uprobe_entry);
	fds[1] = bpf_program__fd(l->skel->progs.zt_uprobe_return);
	fds[2] = bpf_program__fd(l->skel->progs.zt_uprobe_multi_entry);
	fds[3] = bpf_program__fd(l->skel->progs.zt_uprobe_multi_return);
}

int zt_loader_aggs_fd(struct zt_loader *l)
{
	return bpf_map__fd(l->skel->maps.aggs);
}

int zt_loader_errnos_fd(struct zt_loader *l)
{
	return l->sys ? bpf_map__fd(l->sys->maps.sys_errnos) : -1;
}

int zt_loader_stacks_fd(struct zt_loader *l)
{
	return bpf_map__fd(l->skel->maps.stacks);
}

void zt_loader_close(struct zt_loader *l)
{
	if (!l)
		return;
	zt_loader_detach(l);
	if (l->rb_consumer)
		munmap((void *)l->rb_consumer, (size_t)sysconf(_SC_PAGESIZE));
	if (l->rb_producer)
		munmap((void *)l->rb_producer, (size_t)sysconf(_SC_PAGESIZE));
	free(l->links);
	free(l->link_group);
	free(l->fds);
	free(l->fd_group);
	free(l->fd_count);
	free(l->captures);
	syscall_bpf__destroy(l->sys);
	uprobe_bpf__destroy(l->skel);
	free(l);
}

/* Capabilities that replace root for BPF tracing (Linux 5.8+); numbers from linux/capability.h,
 * which older headers lack. */
#define ZT_CAP_PERFMON 38
#define ZT_CAP_BPF     39

static bool has_cap(const struct __user_cap_data_struct data[2], int cap)
{
	return data[cap / 32].effective & (1u << (cap % 32));
}

int zt_check_privileges(char *err, size_t errlen)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[2] = {0};
	const char *missing[3];
	int n = 0;

	if (geteuid() == 0)
		return 0;
	if (syscall(SYS_capget, &hdr, data) == 0) {
		if (!has_cap(data, ZT_CAP_BPF))
			missing[n++] = "CAP_BPF";
		if (!has_cap(data, ZT_CAP_PERFMON))
			missing[n++] = "CAP_PERFMON";
		if (!has_cap(data, CAP_SYS_ADMIN))
			missing[n++] = "CAP_SYS_ADMIN";
		if (n == 0)
			return 0;
	}
	snprintf(err, errlen, "must run as root (missing %s%s%s%s%s): try sudo ztrace ...",
		 n ? missing[0] : "CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN", n > 1 ? ", " : "",
		 n > 1 ? missing[1] : "", n > 2 ? ", " : "", n > 2 ? missing[2] : "");
	return -EPERM;
}

/* Where the kernel publishes its own BTF; CO-RE relocations need it. */
#define ZT_KERNEL_BTF_PATH "/sys/kernel/btf/vmlinux"

/*
 * ZTRACE_TEST_HIDE_FEATURE=btf|ringbuf makes the check below see that feature missing, so the
 * tests can reach its messages on a kernel that has both; nothing else reads it.
 */
static bool feature_hidden(const char *name)
{
	const char *hide = getenv("ZTRACE_TEST_HIDE_FEATURE");

	return hide && strcmp(hide, name) == 0;
}

int zt_check_kernel_features(char *err, size_t errlen)
{
	int ret;

	if (feature_hidden("btf") || access(ZT_KERNEL_BTF_PATH, R_OK)) {
		snprintf(err, errlen,
			 "this kernel has no BTF (%s: %s): ztrace needs a kernel built with "
			 "CONFIG_DEBUG_INFO_BTF=y",
			 ZT_KERNEL_BTF_PATH,
			 feature_hidden("btf") ? strerror(ENOENT) : strerror(errno));
		return -EOPNOTSUPP;
	}
	ret = feature_hidden("ringbuf") ? 0 : libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL);
	if (ret != 1) {
		snprintf(
		    err, errlen,
		    "this kernel has no BPF ring buffer (BPF_MAP_TYPE_RINGBUF%s%s): ztrace needs "
		    "Linux 5.8 or later",
		    ret < 0 ? ": " : "", ret < 0 ? strerror(-ret) : "");
		return -EOPNOTSUPP;
	}
	return 0;
}

int zt_tracefs_ensure(void)
{
	struct stat st;

	if (stat("/sys/kernel/tracing/events", &st) == 0)
		return 0;
	if (mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL))
		return -errno;
	zt_info("mounted tracefs at /sys/kernel/tracing");
	return 0;
}
