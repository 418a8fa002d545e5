// SPDX-License-Identifier: MIT
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "elf_sym.h"
#include "exec_image.h"
#include "libresolve.h"
#include "probes.h"
#include "procmaps.h"
#include "ztrace/record.h"

const struct zt_probe *zt_probes_get(const struct zt_probe_table *tab, uint32_t id)
{
	return id < tab->n ? &tab->v[id] : NULL;
}

void zt_probes_free(struct zt_probe_table *tab)
{
	for (size_t i = 0; i < tab->n; i++) {
		free(tab->v[i].name);
		free(tab->v[i].binary);
		free(tab->v[i].open_path);
		free(tab->v[i].text);
	}
	free(tab->v);
	memset(tab, 0, sizeof(*tab));
}

/* The id of the probe at offset of the file (dev, ino) seen at binary, or -1. */
static long find_probe(const struct zt_probe_table *tab, const char *binary, const struct stat *st,
		       uint64_t offset)
{
	for (size_t i = 0; i < tab->n; i++)
		if (tab->v[i].binary && tab->v[i].offset == offset &&
		    tab->v[i].dev == (uint64_t)st->st_dev &&
		    tab->v[i].ino == (uint64_t)st->st_ino && strcmp(tab->v[i].binary, binary) == 0)
			return (long)i;
	return -1;
}

/* A new zeroed entry at the end of tab, or NULL (-E2BIG past ZT_MAX_PROBES, -ENOMEM) in *ret. */
static struct zt_probe *new_entry(struct zt_probe_table *tab, int *ret)
{
	/* the top ids count syscall and process-exit records (record.h) */
	if (tab->n >= ZT_EXEC_STATS_ID) {
		*ret = -E2BIG;
		return NULL;
	}
	if (tab->n == tab->cap) {
		size_t cap = tab->cap ? tab->cap * 2 : 64;
		struct zt_probe *v = realloc(tab->v, cap * sizeof(*v));

		if (!v) {
			*ret = -ENOMEM;
			return NULL;
		}
		tab->v = v;
		tab->cap = cap;
	}
	memset(&tab->v[tab->n], 0, sizeof(tab->v[0]));
	tab->v[tab->n].id = (uint32_t)tab->n;
	return &tab->v[tab->n];
}

long zt_probes_add(struct zt_probe_table *tab, enum zt_span_kind kind, const char *name,
		   const char *text, const char *binary)
{
	struct zt_probe *p;
	int ret = 0;

	for (size_t i = 0; i < tab->n; i++)
		if (tab->v[i].kind == kind && strcmp(tab->v[i].text, text) == 0)
			return (long)i;
	p = new_entry(tab, &ret);
	if (!p)
		return ret;
	p->kind = kind;
	p->name = strdup(name);
	p->text = strdup(text);
	p->binary = binary ? strdup(binary) : NULL;
	if (!p->name || !p->text || (binary && !p->binary)) {
		free(p->name);
		free(p->text);
		free(p->binary);
		return -ENOMEM;
	}
	tab->n++;
	return (long)p->id;
}

static int add_probe(struct zt_probe_table *tab, const char *binary, const char *open_path,
		     const struct stat *st, const struct zt_elf_func *f)
{
	struct zt_probe *p;
	int ret = 0;

	p = new_entry(tab, &ret);
	if (!p)
		return ret;
	p->kind = ZT_KIND_FUNCTION;
	p->offset = f->offset;
	p->dev = (uint64_t)st->st_dev;
	p->ino = (uint64_t)st->st_ino;
	p->name = strdup(f->name);
	p->binary = strdup(binary);
	p->open_path = strdup(open_path);
	if (!p->name || !p->binary || !p->open_path ||
	    asprintf(&p->text, "u:%s:%s", binary, f->name) < 0) {
		free(p->name);
		free(p->binary);
		free(p->open_path);
		return -ENOMEM;
	}
	tab->n++;
	return 0;
}

/* The file a spec names, as the target sees it (binary) and as ztrace can open it. */
static int locate_file(const struct zt_probe_spec *spec, const struct zt_resolve_ctx *ctx,
		       char *binary, size_t binlen, char *err, size_t errlen)
{
	const char *file = spec->file;
	int ret;

	if (!file) {
		if (!ctx->exe) {
			snprintf(
			    err, errlen,
			    "probe spec '%s' names functions of the target's executable: give -p "
			    "PID or -- COMMAND, or write u:PATH:%s",
			    spec->text, spec->glob);
			return -EINVAL;
		}
		snprintf(binary, binlen, "%s", ctx->exe);
		return 0;
	}
	if (strchr(file, '/')) { /* a path; a bare name is a library */
		if (!realpath(file, binary)) {
			ret = -errno;
			snprintf(err, errlen, "probe spec '%s': cannot open %s: %s", spec->text,
				 file, strerror(errno));
			return ret;
		}
		return 0;
	}
	/* A library name: where the target has it mapped, or where its loader will find it. */
	if (ctx->pid > 0 && !ctx->not_started) {
		struct zt_maps maps = {0};
		const char *path;

		ret = zt_procmaps_read(ctx->pid, &maps);
		if (ret) {
			snprintf(err, errlen, "cannot read /proc/%d/maps: %s", ctx->pid,
				 strerror(-ret));
			return ret;
		}
		path = zt_procmaps_find_lib(&maps, file);
		if (path)
			snprintf(binary, binlen, "%s", path);
		zt_procmaps_free(&maps);
		if (path)
			return 0;
		snprintf(err, errlen,
			 "probe spec '%s': library '%s' is not mapped in pid %d; give its path "
			 "(u:/path/to/%s...:GLOB) to trace it once it is loaded",
			 spec->text, file, ctx->pid, file);
		return -ENOENT;
	}
	if (ctx->not_started) {
		char image[PATH_MAX];

		/* a script loads what its interpreter loads */
		ret = zt_exec_image(ctx->exe, getenv("PATH"), image, sizeof(image));
		if (ret) {
			snprintf(err, errlen,
				 "probe spec '%s': cannot tell which program %s runs (its \"#!\" "
				 "interpreter): %s",
				 spec->text, ctx->exe, strerror(-ret));
			return ret == -ENOEXEC || ret == -ELOOP ? -EINVAL : ret;
		}
		ret = zt_libresolve(image, file, getenv("LD_LIBRARY_PATH"), binary, binlen);
		if (ret == 0)
			return 0;
		if (strcmp(image, ctx->exe) != 0)
			snprintf(
			    err, errlen,
			    "probe spec '%s': %s is a script run by %s, which does not load a "
			    "library matching '%s' (searched its DT_NEEDED libraries like ld.so); "
			    "give a path (u:/path/to/lib.so:GLOB)",
			    spec->text, ctx->exe, image, file);
		else
			snprintf(err, errlen,
				 "probe spec '%s': %s does not load a library matching '%s' "
				 "(searched its DT_NEEDED libraries like ld.so); give a path "
				 "(u:/path/to/lib.so:GLOB) for a library it dlopen()s",
				 spec->text, ctx->exe, file);
		return -ENOENT;
	}
	snprintf(err, errlen,
		 "probe spec '%s': a library name needs a target (-p PID or -- COMMAND); "
		 "system-wide, give the library's path",
		 spec->text);
	return -EINVAL;
}

int zt_probes_locate(const struct zt_probe_spec *spec, const struct zt_resolve_ctx *ctx,
		     char *binary, size_t binlen, char *open_path, size_t openlen, char *err,
		     size_t errlen)
{
	int ret = locate_file(spec, ctx, binary, binlen, err, errlen);

	if (ret)
		return ret;
	/* A file inside the target's mount namespace is reached through its root. */
	if (ctx->pid > 0 && !ctx->not_started)
		snprintf(open_path, openlen, "/proc/%d/root%s", ctx->pid, binary);
	else
		snprintf(open_path, openlen, "%s", binary);
	return 0;
}

int zt_probes_resolve(struct zt_probe_table *tab, const struct zt_probe_spec *spec,
		      const struct zt_resolve_ctx *ctx, uint32_t **ids, size_t *nids, char *err,
		      size_t errlen)
{
	char binary[PATH_MAX], open_path[PATH_MAX + 32];
	struct stat st;
	struct zt_elf_func *funcs = NULL;
	struct zt_elf *elf = NULL;
	size_t n = 0;
	int ret;

	*ids = NULL;
	*nids = 0;
	if (spec->kind != ZT_SPEC_UPROBE) {
		snprintf(err, errlen,
			 "probe spec '%s': only function (u:) probes are resolved here",
			 spec->text);
		return -EINVAL;
	}
	ret = zt_probes_locate(spec, ctx, binary, sizeof(binary), open_path, sizeof(open_path), err,
			       errlen);
	if (ret)
		return ret;

	ret = zt_elf_open(open_path, &elf);
	if (ret == -ENOEXEC) {
		snprintf(err, errlen,
			 "probe spec '%s': %s is not an ELF file: give an executable or "
			 "shared library",
			 spec->text, binary);
		goto out;
	}
	if (ret == -EXDEV) {
		snprintf(err, errlen, "probe spec '%s': %s is an ELF file for %s, not x86_64",
			 spec->text, binary, zt_elf_machine_name(elf));
		goto out;
	}
	if (ret) {
		snprintf(err, errlen, "probe spec '%s': cannot read %s: %s", spec->text, binary,
			 strerror(-ret));
		goto out;
	}
	/* the file just read, by identity: the same path may be another file in another process */
	if (stat(open_path, &st)) {
		ret = -errno;
		snprintf(err, errlen, "probe spec '%s': cannot read %s: %s", spec->text, binary,
			 strerror(-ret));
		goto out;
	}
	ret = zt_elf_match_funcs(elf, spec->glob, &funcs, &n);
	if (ret) {
		snprintf(err, errlen, "probe spec '%s': cannot read the symbols of %s: %s",
			 spec->text, binary, strerror(-ret));
		goto out;
	}
	if (n == 0) {
		ret = -ENOENT;
		if (!zt_elf_has_symtab(elf))
			snprintf(
			    err, errlen,
			    "probe spec '%s' matches no function in %s, which is stripped (no "
			    ".symtab, only exported symbols were searched): trace an unstripped "
			    "build or install its debug symbols",
			    spec->text, binary);
		else
			snprintf(err, errlen,
				 "probe spec '%s' matches no function in %s: list them with ztrace "
				 "probes %s",
				 spec->text, binary, binary);
		goto out;
	}
	if (n > ctx->max_probes) {
		ret = -E2BIG;
		snprintf(err, errlen,
			 "probe spec '%s' matches %zu functions in %s, more than --max-probes %u: "
			 "narrow the glob or raise --max-probes",
			 spec->text, n, binary, ctx->max_probes);
		goto out;
	}
	*ids = calloc(n, sizeof(**ids));
	if (!*ids) {
		ret = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		long id = find_probe(tab, binary, &st, funcs[i].offset);

		if (id < 0) {
			ret = add_probe(tab, binary, open_path, &st, &funcs[i]);
			if (ret) {
				snprintf(err, errlen, "probe spec '%s': %s", spec->text,
					 ret == -E2BIG ? "too many probes in one run"
						       : strerror(-ret));
				free(*ids);
				*ids = NULL;
				goto out;
			}
			id = (long)tab->n - 1;
		} else if (strcmp(tab->v[id].open_path, open_path)) {
			/* the process it was found through may be gone: reach it through this one
			 */
			char *path = strdup(open_path);

			if (path) {
				free(tab->v[id].open_path);
				tab->v[id].open_path = path;
			}
		}
		(*ids)[(*nids)++] = (uint32_t)id;
	}
	ret = 0;
out:
	zt_elf_funcs_free(funcs, n);
	zt_elf_close(elf);
	return ret;
}
