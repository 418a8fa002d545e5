/* SPDX-License-Identifier: MIT */
/*
 * The probe table: every function ztrace attaches to, with the id the kernel reports it by,
 * and the resolution of probe specs (u:FILE:GLOB, bare GLOB) against a target into entries.
 */
#ifndef ZTRACE_PROBES_H
#define ZTRACE_PROBES_H

#include <stddef.h>
#include <stdint.h>
#include "probe_spec.h"
#include "span.h"

struct zt_probe {
	uint32_t id;	/* index in the table; the BPF cookie */
	enum zt_span_kind kind;
	char *name;	/* function name */
	char *binary;	/* absolute path of the file, as the target sees it */
	char *open_path; /* the same file as ztrace can open it (through /proc/PID/root) */
	char *text;	/* "u:BINARY:NAME" */
	uint64_t offset; /* file offset of the function's first instruction */
	/* the file itself: two files at one path (the same path in two containers) keep apart */
	uint64_t dev, ino;
	uint64_t delivered; /* records received */
};

struct zt_probe_table {
	struct zt_probe *v;
	size_t n, cap;
};

/* Where specs are resolved: one process (running or held before exec), or none (system-wide). */
struct zt_resolve_ctx {
	int pid;	     /* > 0: resolve in this process; 0: system-wide (u:PATH:GLOB only) */
	const char *exe;     /* the target's main executable (bare GLOB, library lookup) */
	bool not_started;    /* held before exec: only the loader is mapped, resolve like ld.so */
	unsigned max_probes; /* --max-probes */
};

/*
 * Resolve spec in ctx and add one entry per matching function not already in the table.
 * *ids (the caller frees it) gets the ids of all *nids matching functions, new or not. Returns 0, or -errno with a one-line message in err: spec
 * matching nothing (naming what was searched), more than max_probes matches, non-ELF or
 * foreign-architecture file, library not mapped in the target.
 */
int zt_probes_resolve(struct zt_probe_table *tab, const struct zt_probe_spec *spec,
		      const struct zt_resolve_ctx *ctx, uint32_t **ids, size_t *nids, char *err,
		      size_t errlen);

/*
 * The file spec names (spec->file, or the target's executable), as the target sees it (binary)
 * and as ztrace can open it (open_path, through /proc/PID/root). Returns 0 or -errno with err.
 */
int zt_probes_locate(const struct zt_probe_spec *spec, const struct zt_resolve_ctx *ctx,
		     char *binary, size_t binlen, char *open_path, size_t openlen, char *err,
		     size_t errlen);

/*
 * Add a probe that is not a file offset: a kernel function (ZT_KIND_KERNEL, text "k:NAME"), a
 * tracepoint or a USDT probe, unless one of that kind and text is there. binary may be NULL.
 * Returns its id, or -ENOMEM / -E2BIG.
 */
long zt_probes_add(struct zt_probe_table *tab, enum zt_span_kind kind, const char *name,
		   const char *text, const char *binary);

/* The entry of id, or NULL. */
const struct zt_probe *zt_probes_get(const struct zt_probe_table *tab, uint32_t id);

void zt_probes_free(struct zt_probe_table *tab);

#endif
