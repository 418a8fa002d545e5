/* SPDX-License-Identifier: MIT */
/*
 * /proc/PID/maps: which files a process has mapped where, and matching a library name
 * ("libc", "libssl.so.3") against a mapped path.
 */
#ifndef ZTRACE_PROCMAPS_H
#define ZTRACE_PROCMAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct zt_map {
	uint64_t start, end, offset, inode;
	uint32_t dev_major, dev_minor;
	bool r, w, x, shared;
	bool deleted; /* the path ended in " (deleted)", which is stripped */
	/*
	 * Owned. NULL for an anonymous mapping; "[heap]", "[stack]", "[vdso]", "[anon:NAME]", ...
	 * are kept as the kernel writes them. A file path is absolute (starts with '/').
	 */
	char *path;
};

struct zt_maps {
	struct zt_map *v;
	size_t n;
};

/*
 * Parse the text of a /proc/PID/maps file (pure). Paths may contain spaces; a trailing
 * " (deleted)" is stripped and sets `deleted`. Returns 0 and *out (free with
 * zt_procmaps_free()), -EINVAL for a malformed line or mappings out of address order, -ENOMEM.
 */
int zt_procmaps_parse(const char *text, struct zt_maps *out);

/*
 * Read and parse /proc/PID/maps. Returns 0 and *out, -ENOENT when the process is gone,
 * -EINVAL for PID <= 0, -EFBIG past ZT_PROCMAPS_MAX_BYTES, or another -errno from open/read.
 */
int zt_procmaps_read(int pid, struct zt_maps *out);

/* Free what zt_procmaps_parse()/zt_procmaps_read() filled in and zero M. */
void zt_procmaps_free(struct zt_maps *m);

/* True when MAP is backed by a file (its path is absolute), not anonymous or "[...]". */
bool zt_map_is_file(const struct zt_map *map);

/*
 * Whether library name LIBNAME names the file PATH:
 * - with a '/', LIBNAME must equal PATH;
 * - "libssl.so.3" (a name with a version after ".so") matches exactly that file name;
 * - "libpricing.so" matches libpricing.so and libpricing.so.VERSION (digits and dots);
 * - "libc" matches libc.so, libc.so.VERSION and libc-VERSION.so[.VERSION] (libc-2.36.so),
 *   and not libcrypt.so.1 or libcurl.so.4.
 * Only the file name of PATH (after its last '/') is compared in the last three cases.
 */
bool zt_libname_matches(const char *libname, const char *path);

/*
 * The first file-backed mapping whose path zt_libname_matches(LIBNAME), or NULL. The mapping
 * may be `deleted` (the library was replaced on disk since it was mapped): check that before
 * attaching to the path.
 */
const struct zt_map *zt_procmaps_find_lib_map(const struct zt_maps *m, const char *libname);

/* The path of zt_procmaps_find_lib_map(), or NULL. Owned by M. */
const char *zt_procmaps_find_lib(const struct zt_maps *m, const char *libname);

/* The mapping with start <= ADDR < end, or NULL. Binary search: M is in address order. */
const struct zt_map *zt_procmaps_find_addr(const struct zt_maps *m, uint64_t addr);

#endif
