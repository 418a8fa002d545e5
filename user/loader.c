// SPDX-License-Identifier: MIT
#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "loader.h"
#include "log.h"
#include "uprobe.skel.h"

struct zt_loader {
	struct uprobe_bpf *skel;
	struct bpf_link **links;
	size_t nlinks, cap;
	size_t nuprobes;
	struct bpf_link *exit_link;
	int ncpus;
};

struct zt_loader *zt_loader_open(const struct zt_loader_config *cfg, char *err, size_t errlen)
{
	struct zt_loader *l = calloc(1, sizeof(*l));
	int ret;

	if (!l) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	l->ncpus = libbpf_num_possible_cpus();
	l->skel = uprobe_bpf__open();
	if (!l->skel) {
		snprintf(err, errlen, "cannot open the BPF programs: %s", strerror(errno));
		goto fail;
	}
	l->skel->rodata->filter_tgids = cfg->filter_tgids;
	l->skel->rodata->err_op = cfg->error_rule.op;
	l->skel->rodata->err_val = cfg->error_rule.value;
	ret = uprobe_bpf__load(l->skel);
	if (ret) {
		snprintf(err, errlen,
			 "the kernel refused ztrace's BPF programs (%s): it needs BTF, the BPF ring "
			 "buffer and uprobes (Linux 5.15 or later); run with -vv for the verifier log",
			 strerror(-ret));
		goto fail;
	}
	/* A thread that exits with calls open: flush them as incomplete spans. */
	l->exit_link = bpf_program__attach_raw_tracepoint(l->skel->progs.zt_thread_exit,
							  "sched_process_exit");
	if (!l->exit_link) {
		snprintf(err, errlen, "cannot attach to the sched_process_exit tracepoint: %s",
			 strerror(errno));
		goto fail;
	}
	return l;
fail:
	zt_loader_close(l);
	return NULL;
}

int zt_loader_add_target(struct zt_loader *l, int pid)
{
	__u32 key = (__u32)pid;
	__u8 one = 1;

	if (bpf_map_update_elem(bpf_map__fd(l->skel->maps.targets), &key, &one, BPF_ANY))
		return -errno;
	return 0;
}

int zt_loader_remove_target(struct zt_loader *l, int pid)
{
	__u32 key = (__u32)pid;

	if (bpf_map_delete_elem(bpf_map__fd(l->skel->maps.targets), &key))
		return -errno;
	return 0;
}

static int push_link(struct zt_loader *l, struct bpf_link *link)
{
	if (l->nlinks == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct bpf_link **v = realloc(l->links, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->links = v;
		l->cap = cap;
	}
	l->links[l->nlinks++] = link;
	return 0;
}

int zt_loader_attach_uprobe(struct zt_loader *l, const char *path, uint64_t offset, int pid,
			    uint32_t probe_id, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .bpf_cookie = probe_id);
	struct bpf_link *entry, *ret_link;
	int ret;

	/* The return probe goes first: an entry without its return would leave a frame open. */
	opts.retprobe = true;
	ret_link = bpf_program__attach_uprobe_opts(l->skel->progs.zt_uprobe_return, pid, path,
						   offset, &opts);
	if (!ret_link) {
		ret = -errno;
		goto fail;
	}
	opts.retprobe = false;
	entry = bpf_program__attach_uprobe_opts(l->skel->progs.zt_uprobe_entry, pid, path, offset,
						&opts);
	if (!entry) {
		ret = -errno;
		bpf_link__destroy(ret_link);
		goto fail;
	}
	if (push_link(l, ret_link) || push_link(l, entry)) {
		bpf_link__destroy(entry);
		bpf_link__destroy(ret_link);
		ret = -ENOMEM;
		goto fail;
	}
	l->nuprobes++;
	return 0;
fail:
	snprintf(err, errlen, "cannot attach a uprobe to %s at offset 0x%llx%s: %s", path,
		 (unsigned long long)offset, pid > 0 ? " in that process" : "", strerror(-ret));
	return ret;
}

size_t zt_loader_uprobe_count(const struct zt_loader *l)
{
	return l->nuprobes;
}

void zt_loader_detach(struct zt_loader *l)
{
	for (size_t i = 0; i < l->nlinks; i++)
		bpf_link__destroy(l->links[i]);
	l->nlinks = 0;
	l->nuprobes = 0;
	bpf_link__destroy(l->exit_link);
	l->exit_link = NULL;
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
	}
	return 0;
}

int zt_loader_aggs_fd(struct zt_loader *l)
{
	return bpf_map__fd(l->skel->maps.aggs);
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
	free(l->links);
	uprobe_bpf__destroy(l->skel);
	free(l);
}

/* Capabilities that replace root for BPF tracing (Linux 5.8+); numbers from linux/capability.h,
 * which older headers lack. */
#define ZT_CAP_PERFMON 38
#define ZT_CAP_BPF 39

static bool has_cap(const struct __user_cap_data_struct data[2], int cap)
{
	return data[cap / 32].effective & (1u << (cap % 32));
}

int zt_check_privileges(char *err, size_t errlen)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = { 0 };
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
	snprintf(err, errlen,
		 "must run as root (missing %s%s%s%s%s): try sudo ztrace ...",
		 n ? missing[0] : "CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN", n > 1 ? ", " : "",
		 n > 1 ? missing[1] : "", n > 2 ? ", " : "", n > 2 ? missing[2] : "");
	return -EPERM;
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
