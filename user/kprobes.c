// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "kprobe.skel.h"
#include "kprobes.h"
#include "ksyms.h"
#include "log.h"

struct zt_kprobes {
	struct kprobe_bpf *skel;
	enum zt_kmech mech;
	struct btf *vmlinux_btf; /* fentry: function BTF ids */
	char *template_func;	 /* the function the loaded fentry programs target */
	struct bpf_link **links;
	size_t nlinks, cap;
	int *fds; /* cloned fentry/fexit programs and their links */
	size_t nfds, fds_cap;
};

const char *zt_kmech_name(enum zt_kmech m)
{
	switch (m) {
	case ZT_KMECH_FENTRY:
		return "fentry/fexit";
	case ZT_KMECH_KPROBE:
		return "kprobe/kretprobe";
	default:
		return "auto";
	}
}

enum zt_kmech zt_kprobes_mechanism(const struct zt_kprobes *k)
{
	return k->mech;
}

static int push_ptr(void **v, size_t *n, size_t *cap, size_t elem, const void *item)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 32;
		void *nv = realloc(*v, c * elem);

		if (!nv)
			return -ENOMEM;
		*v = nv;
		*cap = c;
	}
	memcpy((char *)*v + *n * elem, item, elem);
	(*n)++;
	return 0;
}

/* Open and load the object for mechanism m. Returns 0 or -errno (the object is then freed). */
static int load_for(struct zt_kprobes *k, struct zt_loader *l, enum zt_kmech m,
		    const char *first_func)
{
	const struct zt_loader_config *cfg = zt_loader_get_config(l);
	bool fentry = m == ZT_KMECH_FENTRY;
	int ret;

	k->skel = kprobe_bpf__open();
	if (!k->skel)
		return -errno;
	ret = zt_loader_share_maps(l, k->skel->obj);
	if (ret)
		goto fail;
	ZT_SET_COMMON_RODATA(k->skel, cfg);
	bpf_program__set_autoload(k->skel->progs.zt_fentry, fentry);
	bpf_program__set_autoload(k->skel->progs.zt_fexit, fentry);
	bpf_program__set_autoload(k->skel->progs.zt_kprobe_entry, !fentry);
	bpf_program__set_autoload(k->skel->progs.zt_kprobe_return, !fentry);
	if (fentry) {
		ret = bpf_program__set_attach_target(k->skel->progs.zt_fentry, 0, first_func);
		if (!ret)
			ret =
			    bpf_program__set_attach_target(k->skel->progs.zt_fexit, 0, first_func);
		if (ret)
			goto fail;
	}
	ret = kprobe_bpf__load(k->skel);
	if (ret)
		goto fail;
	k->mech = m;
	return 0;
fail:
	kprobe_bpf__destroy(k->skel);
	k->skel = NULL;
	return ret;
}

struct zt_kprobes *zt_kprobes_open(struct zt_loader *l, enum zt_kmech want, const char *first_func,
				   bool *unavailable, char *err, size_t errlen)
{
	struct zt_kprobes *k = calloc(1, sizeof(*k));
	int fentry_err = 0, ret;
	bool kprobes = zt_kernel_has_kprobes();

	*unavailable = false;
	if (!k) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (want != ZT_KMECH_KPROBE) {
		fentry_err = load_for(k, l, ZT_KMECH_FENTRY, first_func);
		if (!fentry_err) {
			k->template_func = strdup(first_func);
			k->vmlinux_btf = btf__load_vmlinux_btf();
			if (!k->vmlinux_btf) {
				snprintf(err, errlen, "cannot read the kernel's BTF: %s",
					 strerror(errno));
				goto fail;
			}
			return k;
		}
		zt_debug("fentry unavailable: %s", strerror(-fentry_err));
		if (want == ZT_KMECH_FENTRY) {
			snprintf(err, errlen,
				 "the kernel refuses fentry programs (%s): k: probes through fentry "
				 "are unavailable on this host; try --kprobe-mechanism kprobe",
				 fentry_err == -EPERM ? "EPERM" : strerror(-fentry_err));
			*unavailable = true;
			goto fail;
		}
	}
	if (!kprobes) {
		if (want == ZT_KMECH_KPROBE)
			snprintf(
			    err, errlen,
			    "kernel has no kprobes (CONFIG_KPROBES): k: probes through kprobes "
			    "are unavailable on this host");
		else
			snprintf(err, errlen,
				 "kernel has no kprobes (CONFIG_KPROBES) and refuses fentry (%s): "
				 "k: probes are unavailable on this host",
				 fentry_err == -EPERM ? "EPERM" : strerror(-fentry_err));
		*unavailable = true;
		goto fail;
	}
	ret = load_for(k, l, ZT_KMECH_KPROBE, first_func);
	if (ret) {
		snprintf(err, errlen, "the kernel refused ztrace's kprobe programs: %s",
			 strerror(-ret));
		goto fail;
	}
	return k;
fail:
	zt_kprobes_close(k);
	return NULL;
}

/* The address of kernel function name, from /proc/kallsyms. Returns 0 or -ENOENT. */
static int kallsyms_addr(const char *name, uint64_t *addr)
{
	FILE *f = fopen("/proc/kallsyms", "r");
	char line[512], sym[256], type[4];
	unsigned long long a;
	int ret = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx %3s %255s", &a, type, sym) == 3 && strcmp(sym, name) == 0 &&
		    (type[0] == 't' || type[0] == 'T')) {
			*addr = a;
			ret = 0;
			break;
		}
	}
	fclose(f);
	return ret;
}

/* A copy of the loaded program prog, verified against func, attached. Returns 0 or -errno. */
static int clone_trace_prog(struct zt_kprobes *k, struct bpf_program *prog, int btf_id,
			    enum bpf_attach_type type)
{
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = type,
		    .attach_btf_id = (__u32)btf_id);
	int fd, link;

	fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, NULL, "GPL", bpf_program__insns(prog),
			   bpf_program__insn_cnt(prog), &opts);
	if (fd < 0)
		return -errno;
	link = bpf_link_create(fd, 0, type, NULL);
	if (link < 0) {
		int ret = -errno;

		close(fd);
		return ret;
	}
	if (push_ptr((void **)&k->fds, &k->nfds, &k->fds_cap, sizeof(int), &fd) ||
	    push_ptr((void **)&k->fds, &k->nfds, &k->fds_cap, sizeof(int), &link)) {
		close(link);
		close(fd);
		return -ENOMEM;
	}
	return 0;
}

static int attach_fentry(struct zt_kprobes *k, const char *func, uint32_t probe_id)
{
	uint64_t addr;
	int ret, btf_id;

	ret = kallsyms_addr(func, &addr);
	if (ret)
		return ret;
	if (bpf_map_update_elem(bpf_map__fd(k->skel->maps.kfunc_ids), &addr, &probe_id, BPF_ANY))
		return -errno;
	if (strcmp(func, k->template_func) == 0) {
		/* the loaded programs themselves target this one */
		struct bpf_link *exit = bpf_program__attach_trace(k->skel->progs.zt_fexit);
		struct bpf_link *entry =
		    exit ? bpf_program__attach_trace(k->skel->progs.zt_fentry) : NULL;

		if (!entry) {
			ret = -errno;
			bpf_link__destroy(exit);
			return ret;
		}
		push_ptr((void **)&k->links, &k->nlinks, &k->cap, sizeof(exit), &exit);
		push_ptr((void **)&k->links, &k->nlinks, &k->cap, sizeof(entry), &entry);
		return 0;
	}
	btf_id = btf__find_by_name_kind(k->vmlinux_btf, func, BTF_KIND_FUNC);
	if (btf_id < 0)
		return -ENOENT; /* a module's function, or not in BTF */
	ret = clone_trace_prog(k, k->skel->progs.zt_fexit, btf_id, BPF_TRACE_FEXIT);
	if (!ret)
		ret = clone_trace_prog(k, k->skel->progs.zt_fentry, btf_id, BPF_TRACE_FENTRY);
	return ret;
}

static int attach_kprobe(struct zt_kprobes *k, const char *func, uint32_t probe_id)
{
	LIBBPF_OPTS(bpf_kprobe_opts, opts, .bpf_cookie = probe_id);
	struct bpf_link *exit, *entry;
	int ret;

	opts.retprobe = true;
	exit = bpf_program__attach_kprobe_opts(k->skel->progs.zt_kprobe_return, func, &opts);
	if (!exit)
		return -errno;
	opts.retprobe = false;
	entry = bpf_program__attach_kprobe_opts(k->skel->progs.zt_kprobe_entry, func, &opts);
	if (!entry) {
		ret = -errno;
		bpf_link__destroy(exit);
		return ret;
	}
	if (push_ptr((void **)&k->links, &k->nlinks, &k->cap, sizeof(exit), &exit) ||
	    push_ptr((void **)&k->links, &k->nlinks, &k->cap, sizeof(entry), &entry)) {
		bpf_link__destroy(entry);
		bpf_link__destroy(exit);
		return -ENOMEM;
	}
	return 0;
}

int zt_kprobes_attach(struct zt_kprobes *k, const char *func, uint32_t probe_id, char *err,
		      size_t errlen)
{
	int ret = k->mech == ZT_KMECH_FENTRY ? attach_fentry(k, func, probe_id)
					     : attach_kprobe(k, func, probe_id);

	if (ret)
		snprintf(err, errlen, "cannot attach %s to kernel function %s: %s",
			 zt_kmech_name(k->mech), func, strerror(-ret));
	return ret;
}

void zt_kprobes_detach(struct zt_kprobes *k)
{
	if (!k)
		return;
	for (size_t i = 0; i < k->nlinks; i++)
		bpf_link__destroy(k->links[i]);
	k->nlinks = 0;
	for (size_t i = 0; i < k->nfds; i++)
		close(k->fds[i]);
	k->nfds = 0;
}

void zt_kprobes_close(struct zt_kprobes *k)
{
	if (!k)
		return;
	zt_kprobes_detach(k);
	free(k->links);
	free(k->fds);
	btf__free(k->vmlinux_btf);
	free(k->template_func);
	kprobe_bpf__destroy(k->skel);
	free(k);
}
