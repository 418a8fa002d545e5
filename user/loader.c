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
#include "loader_internal.h"
#include "log.h"
#include "uprobe_multi.h"
#include "syscall.skel.h"
#include "uprobe.skel.h"

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
