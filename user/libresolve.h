/* SPDX-License-Identifier: MIT */
/*
 * Resolve a library name the way the dynamic loader will, for a program that has not started
 * yet (when only ld.so is mapped, /proc/PID/maps cannot answer).
 */
#ifndef ZTRACE_LIBRESOLVE_H
#define ZTRACE_LIBRESOLVE_H

#include <stddef.h>

/*
 * Walk the DT_NEEDED tree of EXE_PATH breadth-first, in ld.so's load order, resolving each name
 * as glibc's ld.so does: a name with '/' as a path; else DT_RPATH of the needing object and of
 * the objects that loaded it (only when the needing object has no DT_RUNPATH), then
 * LD_LIBRARY_PATH (the target's value, NULL for unset; ':' or ';' separated), then the needing
 * object's DT_RUNPATH, then /etc/ld.so.cache, then the default directories. $ORIGIN and
 * ${ORIGIN} are expanded (for the executable to the directory of its real path). A candidate
 * that is not an x86_64 ELF object is skipped, as ld.so skips it. A name or file already loaded
 * is not loaded again.
 * Writes into OUT the real path (symlinks resolved: what /proc/PID/maps will show) of the first
 * object loaded for which zt_libname_matches(LIBNAME, path) holds, tested on the path as found
 * (as ldd prints it) and on the real path. Returns 0, -ENOENT when no
 * dependency matches, -ENAMETOOLONG when OUT is too small, -E2BIG past
 * ZT_LIBRESOLVE_MAX_OBJECTS objects, or the error of opening EXE_PATH (see zt_elf_open()).
 * Not modelled: glibc-hwcaps subdirectories, $LIB/$PLATFORM, LD_PRELOAD, secure-execution
 * rules for set-user-ID programs.
 */
int zt_libresolve(const char *exe_path, const char *libname, const char *ld_library_path, char *out,
		  size_t outlen);

/*
 * Look SONAME up in the ld.so cache at CACHE_PATH (the "glibc-ld.so.cache1.1" format, alone or
 * after the old "ld.so-1.7.0" one): the first x86_64 libc6 entry without a hwcap requirement.
 * Returns 0 with the path into OUT, -ENOENT when the cache has no such entry (or no cache file),
 * -EINVAL for a malformed cache, -ENAMETOOLONG when OUT is too small, or -errno.
 */
int zt_ldcache_lookup(const char *cache_path, const char *soname, char *out, size_t outlen);

#endif
