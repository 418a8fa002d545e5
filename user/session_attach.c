// SPDX-License-Identifier: MIT
/* Resolving probe specs against the session's targets and attaching them. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ksyms.h"
#include "log.h"
#include "session.h"

/* Say which functions the kernel would not probe: a few by name, the rest counted. */
static void warn_refused(struct zt_session *t, const uint32_t *ids, const int *refused, size_t n)
{
	size_t shown = 0, total = 0;

	for (size_t i = 0; i < n; i++) {
		const struct zt_probe *p = zt_probes_get(&t->probes, ids[i]);

		if (!refused[i])
			continue;
		total++;
		if (shown++ < ZT_REFUSED_SHOWN)
			zt_warn("cannot trace %s in %s: %s; skipped", p->name, p->binary,
				refused[i] == -524 ? "uprobes cannot take its first instruction"
						   : strerror(-refused[i]));
	}
	if (total > shown)
		zt_warn("... and %zu more functions the kernel would not probe", total - shown);
}

int zt_session_attach_marked(struct zt_session *t, const uint8_t *want, int pid)
{
	size_t n = t->probes.n;
	uint64_t *offsets = calloc(n ? n : 1, sizeof(*offsets));
	uint32_t *ids = calloc(n ? n : 1, sizeof(*ids));
	int *refused = calloc(n ? n : 1, sizeof(*refused));
	uint8_t *done = calloc(n ? n : 1, 1);
	int ret = 0;

	if (!offsets || !ids || !refused || !done) {
		ret = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const char *path = t->probes.v[i].open_path;
		size_t m = 0;

		if (!want[i] || done[i])
			continue;
		for (size_t k = i; k < n; k++) {
			if (!want[k] || done[k] || strcmp(t->probes.v[k].open_path, path))
				continue;
			done[k] = 1;
			offsets[m] = t->probes.v[k].offset;
			ids[m++] = (uint32_t)k;
		}
		ret = zt_loader_attach_uprobes(t->loader, path, pid, offsets, ids, m, refused,
					       t->err, sizeof(t->err));
		if (ret < 0)
			goto out;
		warn_refused(t, ids, refused, m);
		ret = 0;
	}
out:
	free(offsets);
	free(ids);
	free(refused);
	free(done);
	return ret;
}

/* Resolve every spec for every target and attach: uprobe pairs per (function, process). */
/*
 * Resolve the u: specs for every target into t->want[target][probe id]: ELF files are read
 * before any BPF is loaded, so a bad spec is refused at once.
 */
static int resolve_probes(struct zt_session *t)
{
	size_t ntargets = t->ntargets ? t->ntargets : 1;
	int ret = 0;

	t->want = calloc(ntargets, sizeof(*t->want));
	if (!t->want)
		return -ENOMEM;
	for (size_t i = 0; i < ntargets; i++) {
		struct zt_target *tg = t->ntargets ? &t->targets[i] : NULL;
		struct zt_resolve_ctx ctx = {
		    .pid = tg ? tg->pid : 0,
		    .exe = tg ? tg->exe : NULL,
		    .not_started = tg && tg->launched,
		    .max_probes = t->opts->max_probes,
		};

		t->want[i] = calloc(ZT_MAX_PROBES, 1);
		if (!t->want[i])
			return -ENOMEM;
		for (size_t s = 0; s < t->nspecs; s++) {
			uint32_t *ids = NULL;
			size_t nids = 0;

			if (t->specs[s].kind != ZT_SPEC_UPROBE)
				continue;
			ret = zt_probes_resolve(&t->probes, &t->specs[s], &ctx, &ids, &nids, t->err,
						sizeof(t->err));
			if (ret)
				return ret;
			for (size_t k = 0; k < nids; k++)
				t->want[i][ids[k]] = 1;
			free(ids);
		}
	}
	return 0;
}

/* Attach what resolve_probes() found: uprobe pairs per (function, process). */
static int attach_probes(struct zt_session *t)
{
	size_t ntargets = t->ntargets ? t->ntargets : 1;

	for (size_t i = 0; i < ntargets; i++) {
		int ret = zt_session_attach_marked(t, t->want[i],
						   t->ntargets ? t->targets[i].pid : -1);

		if (ret)
			return ret;
	}
	zt_info("attached through %s", zt_loader_uses_uprobe_multi(t->loader)
					   ? "uprobe_multi links"
					   : "one perf-event link per function");
	return 0;
}

/* Add the k: specs' functions to the probe table, each spec checked against --max-probes;
 * *n counts the k: specs. */
static int resolve_kernel_specs(struct zt_session *t, size_t *n)
{
	*n = 0;
	for (size_t s = 0; s < t->nspecs; s++) {
		const struct zt_probe_spec *sp = &t->specs[s];
		char **m = NULL;
		size_t nm = 0;
		int ret;

		if (sp->kind != ZT_SPEC_KPROBE)
			continue;
		ret = zt_ksyms_match(sp->glob, &m, &nm);
		if (ret) {
			snprintf(t->err, sizeof(t->err), "cannot list kernel functions: %s",
				 strerror(-ret));
			return ret;
		}
		if (nm == 0) {
			snprintf(
			    t->err, sizeof(t->err),
			    "probe spec '%s' matches no kernel function (searched "
			    "available_filter_functions): list them with ztrace probes -k GLOB",
			    sp->text);
			return -ENOENT;
		}
		if (nm > t->opts->max_probes) {
			snprintf(
			    t->err, sizeof(t->err),
			    "probe spec '%s' matches %zu kernel functions, more than --max-probes "
			    "%u: narrow the glob or raise --max-probes",
			    sp->text, nm, t->opts->max_probes);
			zt_ksyms_free(m, nm);
			return -E2BIG;
		}
		for (size_t i = 0; i < nm; i++) {
			char text[300];
			long id;

			snprintf(text, sizeof(text), "k:%s", m[i]);
			id = zt_probes_add(&t->probes, ZT_KIND_KERNEL, m[i], text, NULL);

			if (id < 0) {
				snprintf(t->err, sizeof(t->err), "probe spec '%s': too many probes",
					 sp->text);
				zt_ksyms_free(m, nm);
				return (int)id;
			}
		}
		zt_ksyms_free(m, nm);
		(*n)++;
	}
	return 0;
}

/* Attach every k: function; *code is set to the exit code an error deserves. */
static int attach_kernel_probes(struct zt_session *t, int *code)
{
	size_t nspecs = 0, attached = 0, failed = 0;
	const char *first = NULL;
	bool unavailable;

	for (size_t s = 0; s < t->nspecs; s++)
		nspecs += t->specs[s].kind == ZT_SPEC_KPROBE;
	if (!nspecs)
		return 0;
	for (size_t i = 0; i < t->probes.n && !first; i++)
		if (t->probes.v[i].kind == ZT_KIND_KERNEL)
			first = t->probes.v[i].name;
	t->kprobes = zt_kprobes_open(t->loader, (enum zt_kmech)t->opts->kprobe_mechanism, first,
				     &unavailable, t->err, sizeof(t->err));
	if (!t->kprobes) {
		*code = unavailable ? ZT_EXIT_USAGE : ZT_EXIT_FAILURE;
		return -EOPNOTSUPP;
	}
	zt_info("kernel functions through %s", zt_kmech_name(zt_kprobes_mechanism(t->kprobes)));
	for (size_t i = 0; i < t->probes.n; i++) {
		const struct zt_probe *p = &t->probes.v[i];
		char err[256];

		if (p->kind != ZT_KIND_KERNEL)
			continue;
		if (zt_kprobes_attach(t->kprobes, p->name, p->id, err, sizeof(err))) {
			if (failed++ < ZT_REFUSED_SHOWN)
				zt_warn("%s; skipped", err);
			continue;
		}
		attached++;
	}
	if (failed > ZT_REFUSED_SHOWN)
		zt_warn("... and %zu more kernel functions could not be attached",
			failed - ZT_REFUSED_SHOWN);
	if (!attached) {
		snprintf(t->err, sizeof(t->err), "no kernel function could be attached");
		*code = ZT_EXIT_FAILURE;
		return -ENOENT;
	}
	t->kernel_attached = attached;
	return 0;
}

static int attach_tracepoint(struct zt_session *t, const struct zt_probe_spec *sp)
{
	char name[256];
	long id;

	snprintf(name, sizeof(name), "%s:%s", sp->category, sp->name);
	id = zt_probes_add(&t->probes, ZT_KIND_TRACEPOINT, name, sp->text, NULL);
	if (id < 0) {
		snprintf(t->err, sizeof(t->err), "probe spec '%s': too many probes", sp->text);
		return (int)id;
	}
	return zt_points_attach_tracepoint(t->points, sp->category, sp->name, (uint32_t)id, t->err,
					   sizeof(t->err));
}

/* A USDT spec in one process (pid, or -1 for every process running the file). */
static int attach_usdt(struct zt_session *t, const struct zt_probe_spec *sp,
		       const struct zt_resolve_ctx *ctx, int pid)
{
	char binary[PATH_MAX], open_path[PATH_MAX + 32], name[300], text[PATH_MAX + 320];
	long id;
	int ret;

	ret = zt_probes_locate(sp, ctx, binary, sizeof(binary), open_path, sizeof(open_path), t->err,
			       sizeof(t->err));
	if (ret)
		return ret;
	if (sp->name_end)
		snprintf(name, sizeof(name), "%s:%s..%s", sp->provider, sp->name, sp->name_end);
	else
		snprintf(name, sizeof(name), "%s:%s", sp->provider, sp->name);
	snprintf(text, sizeof(text), "usdt:%s:%s", binary, name);
	id = zt_probes_add(&t->probes, ZT_KIND_USDT, name, text, binary);
	if (id < 0) {
		snprintf(t->err, sizeof(t->err), "probe spec '%s': too many probes", sp->text);
		return (int)id;
	}
	if (sp->name_end) {
		ret = zt_points_mark_pair(t->points, (uint32_t)id);
		if (!ret)
			ret = zt_points_attach_usdt(t->points, pid, open_path, sp->provider,
						    sp->name_end, (uint32_t)id, true, t->err,
						    sizeof(t->err));
		if (ret)
			return ret;
	}
	return zt_points_attach_usdt(t->points, pid, open_path, sp->provider, sp->name,
				     (uint32_t)id, false, t->err, sizeof(t->err));
}

/* Every t: and usdt: spec, for every target. */
static int attach_point_probes(struct zt_session *t, int *code)
{
	size_t ntargets = t->ntargets ? t->ntargets : 1;
	bool any = false;
	int ret = 0;

	for (size_t s = 0; s < t->nspecs; s++)
		any |= t->specs[s].kind == ZT_SPEC_TRACEPOINT || t->specs[s].kind == ZT_SPEC_USDT;
	if (!any)
		return 0;
	t->points = zt_points_open(t->loader, t->err, sizeof(t->err));
	if (!t->points) {
		*code = ZT_EXIT_FAILURE;
		return -EINVAL;
	}
	for (size_t s = 0; s < t->nspecs && !ret; s++) {
		const struct zt_probe_spec *sp = &t->specs[s];

		if (sp->kind == ZT_SPEC_TRACEPOINT) {
			ret = attach_tracepoint(t, sp);
			if (!ret)
				t->points_attached++;
			continue;
		}
		if (sp->kind != ZT_SPEC_USDT)
			continue;
		for (size_t i = 0; i < ntargets && !ret; i++) {
			struct zt_target *tg = t->ntargets ? &t->targets[i] : NULL;
			struct zt_resolve_ctx ctx = {
				.pid = tg ? tg->pid : 0,
				.exe = tg ? tg->exe : NULL,
				.not_started = tg && tg->launched,
				.max_probes = t->opts->max_probes,
			};

			ret = attach_usdt(t, sp, &ctx, tg ? tg->pid : -1);
			if (!ret)
				t->points_attached++;
		}
	}
	if (ret)
		*code = ret == -ENOENT || ret == -EINVAL ? ZT_EXIT_USAGE : ZT_EXIT_FAILURE;
	return ret;
}

int zt_session_resolve(struct zt_session *t, int *code)
{
	size_t nk;
	int ret = resolve_probes(t);

	if (!ret)
		ret = resolve_kernel_specs(t, &nk);
	if (!ret)
		ret = zt_session_check_captures(t);
	/* bad specs are the user's to fix */
	if (ret)
		*code = ret == -ENOMEM ? ZT_EXIT_FAILURE : ZT_EXIT_USAGE;
	return ret;
}

int zt_session_attach(struct zt_session *t, int *code)
{
	int ret = zt_session_apply_captures(t);

	if (!ret)
		ret = attach_probes(t);

	if (ret) {
		*code = ZT_EXIT_FAILURE; /* a refused attach is ours */
		return ret;
	}
	ret = attach_kernel_probes(t, code);
	if (ret)
		return ret;
	return attach_point_probes(t, code);
}
