/* SPDX-License-Identifier: MIT */
/*
 * Probe specs as written on the command line and in the config (DESIGN.md, "Probe specs"):
 *
 *   GLOB                      functions in the target's main executable
 *   u:FILE:GLOB               functions in FILE (a path or a library name such as libc)
 *   k:GLOB                    kernel functions
 *   usdt:FILE:PROVIDER:NAME   a USDT probe; NAME may be START..END (a span between two probes)
 *   t:CATEGORY:NAME           a kernel tracepoint
 *
 * Parsing is purely syntactic: nothing is resolved against files, /proc or the kernel here.
 */
#ifndef ZTRACE_PROBE_SPEC_H
#define ZTRACE_PROBE_SPEC_H

#include <stdbool.h>
#include <stddef.h>

enum zt_spec_kind {
	ZT_SPEC_UPROBE,
	ZT_SPEC_KPROBE,
	ZT_SPEC_USDT,
	ZT_SPEC_TRACEPOINT,
};

/* A parsed spec. Every string is owned by the struct and released by zt_probe_spec_free(). */
struct zt_probe_spec {
	enum zt_spec_kind kind;
	char *text;	/* the spec as written */
	char *file;	/* u: and usdt: FILE; NULL for a bare GLOB (= target's main executable) */
	char *glob;	/* u: and k: function glob */
	char *provider; /* usdt PROVIDER */
	char *name;	/* usdt NAME (START of START..END), tracepoint NAME */
	char *name_end; /* usdt END of START..END, else NULL */
	char *category; /* tracepoint CATEGORY */
};

/*
 * Parse text into *out. Returns 0, -EINVAL for a malformed spec (err then holds one line that
 * says what is wrong and what to write instead) or -ENOMEM. On error *out holds nothing to
 * free; on success the caller owns it and releases it with zt_probe_spec_free(). err may be
 * NULL or errlen 0 when the caller does not want the message; it is truncated to errlen.
 */
int zt_probe_spec_parse(const char *text, struct zt_probe_spec *out, char *err, size_t errlen);

/* Release the strings of s (not s itself) and zero it; safe on a zeroed or freed struct. */
void zt_probe_spec_free(struct zt_probe_spec *s);

/*
 * Check that glob is a usable fnmatch(3) pattern: non-empty, no control characters, every '['
 * closed by a ']', no trailing '\'. Returns true if so; otherwise false with a one-line
 * message in err (may be NULL).
 */
bool zt_glob_is_valid(const char *glob, char *err, size_t errlen);

/* The spec kind's prefix as written ("u", "k", "usdt", "t"). */
const char *zt_spec_kind_prefix(enum zt_spec_kind kind);

#endif
