// SPDX-License-Identifier: MIT
/*
 * Library resolution before a program starts. The reference is the real loader: the same
 * fixture executables run with LD_TRACE_LOADED_OBJECTS=1 (what ldd prints), and `ldconfig -p`
 * for the cache.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/runproc.h"
#include "libresolve.h"
#include "unit/fixtures/fixture_path.h"

#define TOOL_TIMEOUT_MS 10000

/* The real path of fixture NAME. */
static void fixture_real(char *out, const char *name)
{
	char path[PATH_MAX];

	zt_fixture(path, name);
	cr_assert_not_null(realpath(path, out), "realpath %s", path);
}

/*
 * Where ld.so loads SONAME for EXE with LD_LIBRARY_PATH set to LLP (NULL: unset), as the real
 * path: EXE run with LD_TRACE_LOADED_OBJECTS=1 prints "SONAME => PATH (0x...)" lines. (Not the
 * ldd script: it runs ld.so on EXE, and then $ORIGIN is EXE's directory even for a symlink.)
 */
static void ldd_real(const char *exe, const char *soname, const char *llp, char *out)
{
	char *argv[] = {(char *)exe, NULL}, pat[256], path[PATH_MAX];
	const char *text, *p;
	struct zt_proc proc;

	if (llp)
		cr_assert_eq(setenv("LD_LIBRARY_PATH", llp, 1), 0);
	else
		unsetenv("LD_LIBRARY_PATH");
	cr_assert_eq(setenv("LD_TRACE_LOADED_OBJECTS", "1", 1), 0);
	cr_assert_eq(zt_run(&proc, argv, NULL, TOOL_TIMEOUT_MS), 0, "%s: %s", exe,
		     zt_proc_text(&proc, ZT_STDERR));
	unsetenv("LD_TRACE_LOADED_OBJECTS");
	unsetenv("LD_LIBRARY_PATH");
	text = zt_proc_text(&proc, ZT_STDOUT);
	snprintf(pat, sizeof(pat), "\t%s => ", soname);
	p = strstr(text, pat);
	cr_assert_not_null(p, "%s not in the loaded objects of %s:\n%s", soname, exe, text);
	cr_assert_eq(sscanf(p + strlen(pat), "%4095s", path), 1);
	zt_proc_free(&proc);
	cr_assert_not_null(realpath(path, out), "%s => %s", soname, path);
}

/* Resolve LIBNAME for fixture EXE and check it is where ld.so puts SONAME. */
static void check_like_ldd(const char *exe_name, const char *libname, const char *llp,
			   const char *soname, char *got)
{
	char exe[PATH_MAX], want[PATH_MAX];

	zt_fixture(exe, exe_name);
	ldd_real(exe, soname, llp, want);
	cr_assert_eq(zt_libresolve(exe, libname, llp, got, PATH_MAX), 0, "%s in %s", libname,
		     exe_name);
	cr_assert_str_eq(got, want, "%s in %s (LD_LIBRARY_PATH=%s)", libname, exe_name,
			 llp ? llp : "");
}

Test(libresolve, runpath_origin)
{
	char got[PATH_MAX], lib[PATH_MAX];

	fixture_real(lib, "lib/libztdep.so.1");
	check_like_ldd("resolve_runpath", "libztdep", NULL, "libztdep.so.1", got);
	cr_assert_str_eq(got, lib);
	check_like_ldd("resolve_runpath", "libztdep.so.1", NULL, "libztdep.so.1", got);
	cr_assert_str_eq(got, lib);
	check_like_ldd("resolve_runpath", "libztdep.so", NULL, "libztdep.so.1", got);
	cr_assert_str_eq(got, lib);
	check_like_ldd("resolve_brace", "libztdep", NULL, "libztdep.so.1", got);
	cr_assert_str_eq(got, lib);
	check_like_ldd("resolve_rpath", "libztdep", NULL, "libztdep.so.1", got);
	cr_assert_str_eq(got, lib);
}

Test(libresolve, ld_library_path_order)
{
	char got[PATH_MAX], lib[PATH_MAX], alt[PATH_MAX], llp[2 * PATH_MAX + 1], arm[PATH_MAX];

	fixture_real(lib, "lib/libztdep.so.1");
	fixture_real(alt, "alt/libztdep.so.1");
	zt_fixture(arm, "arm");
	/* LD_LIBRARY_PATH comes before DT_RUNPATH ... */
	zt_fixture(llp, "alt");
	check_like_ldd("resolve_runpath", "libztdep", llp, "libztdep.so.1", got);
	cr_assert_str_eq(got, alt);
	/* ... but after DT_RPATH. */
	check_like_ldd("resolve_rpath", "libztdep", llp, "libztdep.so.1", got);
	cr_assert_str_eq(got, lib);
	/* A library for another machine is skipped and the search goes on. */
	snprintf(llp, sizeof(llp), "%s:", arm);
	zt_fixture(llp + strlen(llp), "alt");
	check_like_ldd("resolve_runpath", "libztdep", llp, "libztdep.so.1", got);
	cr_assert_str_eq(got, alt);
	check_like_ldd("resolve_runpath", "libztdep", arm, "libztdep.so.1", got);
	cr_assert_str_eq(got, lib);
}

Test(libresolve, system_libraries)
{
	char got[PATH_MAX], cached[PATH_MAX], real[PATH_MAX];

	/* libc: needed by the executable, found in the ld.so cache. */
	check_like_ldd("resolve_runpath", "libc", NULL, "libc.so.6", got);
	cr_assert_eq(zt_ldcache_lookup("/etc/ld.so.cache", "libc.so.6", cached, sizeof(cached)), 0);
	cr_assert_not_null(realpath(cached, real));
	cr_assert_str_eq(got, real);
	/* libm: needed only by libztdep.so.1, one level down. */
	check_like_ldd("resolve_runpath", "libm", NULL, "libm.so.6", got);
	check_like_ldd("resolve_runpath", "libm.so.6", NULL, "libm.so.6", got);
	/* The loader is named by PT_INTERP and needed by libc under its soname. */
	zt_fixture(cached, "resolve_runpath");
	cr_assert_eq(zt_libresolve(cached, "ld-linux-x86-64.so.2", NULL, got, sizeof(got)), 0);
	cr_assert_not_null(realpath("/lib64/ld-linux-x86-64.so.2", real));
	cr_assert_str_eq(got, real);
}

Test(libresolve, not_needed)
{
	char exe[PATH_MAX], got[PATH_MAX];

	zt_fixture(exe, "resolve_runpath");
	cr_assert_eq(zt_libresolve(exe, "libssl.so.3", NULL, got, sizeof(got)), -ENOENT);
	cr_assert_eq(zt_libresolve(exe, "libcrypt", NULL, got, sizeof(got)), -ENOENT);
	cr_assert_eq(zt_libresolve(exe, "libpricing", NULL, got, sizeof(got)), -ENOENT);
	/* The executable itself is not one of its dependencies. */
	cr_assert_eq(zt_libresolve(exe, "resolve_runpath", NULL, got, sizeof(got)), -ENOENT);
}

Test(libresolve, symlinked_executable_uses_its_real_origin)
{
	char dir[] = "/tmp/zt-libresolve-XXXXXX", link[PATH_MAX], exe[PATH_MAX], got[PATH_MAX],
	     lib[PATH_MAX], want[PATH_MAX];

	cr_assert_not_null(mkdtemp(dir));
	zt_fixture(exe, "resolve_runpath");
	snprintf(link, sizeof(link), "%s/prog", dir);
	cr_assert_eq(symlink(exe, link), 0);
	fixture_real(lib, "lib/libztdep.so.1");
	ldd_real(link, "libztdep.so.1", NULL, want);
	cr_assert_str_eq(want, lib);
	cr_assert_eq(zt_libresolve(link, "libztdep", NULL, got, sizeof(got)), 0);
	cr_assert_str_eq(got, lib);
	unlink(link);
	rmdir(dir);
}

Test(libresolve, errors)
{
	char path[PATH_MAX], got[PATH_MAX], small[8];

	zt_fixture(path, "no_such_program");
	cr_assert_eq(zt_libresolve(path, "libc", NULL, got, sizeof(got)), -ENOENT);
	zt_fixture(path, "not_elf.txt");
	cr_assert_eq(zt_libresolve(path, "libc", NULL, got, sizeof(got)), -ENOEXEC);
	zt_fixture(path, "resolve_runpath");
	cr_assert_eq(zt_libresolve(path, "libc", NULL, small, sizeof(small)), -ENAMETOOLONG);
}

/* The path `ldconfig -p` prints for SONAME (libc6,x86-64). */
static void ldconfig_path(const char *soname, char *out)
{
	char *argv[] = {"ldconfig", "-p", NULL}, pat[256];
	struct zt_proc proc;
	const char *p;

	cr_assert_eq(zt_run(&proc, argv, NULL, TOOL_TIMEOUT_MS), 0);
	snprintf(pat, sizeof(pat), "\t%s (libc6,x86-64) => ", soname);
	p = strstr(zt_proc_text(&proc, ZT_STDOUT), pat);
	cr_assert_not_null(p, "%s not in ldconfig -p", soname);
	cr_assert_eq(sscanf(p + strlen(pat), "%4095s", out), 1);
	zt_proc_free(&proc);
}

Test(ldcache, system_cache_agrees_with_ldconfig)
{
	static const char *const sonames[] = {"libc.so.6", "libm.so.6", "ld-linux-x86-64.so.2"};
	char got[PATH_MAX], want[PATH_MAX];
	size_t i;

	for (i = 0; i < sizeof(sonames) / sizeof(sonames[0]); i++) {
		ldconfig_path(sonames[i], want);
		cr_assert_eq(zt_ldcache_lookup("/etc/ld.so.cache", sonames[i], got, sizeof(got)),
			     0);
		cr_assert_str_eq(got, want);
	}
	cr_assert_eq(zt_ldcache_lookup("/etc/ld.so.cache", "libztdep.so.1", got, sizeof(got)),
		     -ENOENT);
	cr_assert_eq(zt_ldcache_lookup("/etc/ld.so.cache", "libc.so", got, sizeof(got)), -ENOENT);
	cr_assert_eq(zt_ldcache_lookup("/etc/ld.so.cache", "libc.so.6", got, 4), -ENAMETOOLONG);
}

Test(ldcache, malformed_and_missing)
{
	char path[PATH_MAX], got[PATH_MAX];

	zt_fixture(path, "bad_ldcache.txt");
	cr_assert_eq(zt_ldcache_lookup(path, "libc.so.6", got, sizeof(got)), -EINVAL);
	zt_fixture(path, "not_elf.txt");
	cr_assert_eq(zt_ldcache_lookup(path, "libc.so.6", got, sizeof(got)), -EINVAL);
	zt_fixture(path, "no_such_cache");
	cr_assert_eq(zt_ldcache_lookup(path, "libc.so.6", got, sizeof(got)), -ENOENT);
}

/* Store little-endian integers into a buffer. */
static void put32(unsigned char *b, size_t at, uint32_t v)
{
	memcpy(b + at, &v, sizeof(v));
}

static void put64(unsigned char *b, size_t at, uint64_t v)
{
	memcpy(b + at, &v, sizeof(v));
}

/*
 * Write a cache in the format glibc 2.31 wrote: an old "ld.so-1.7.0" part with one entry, then
 * the new format at the next 8-byte boundary, whose string offsets count from its own header.
 * Its entries: libfoo.so.1 for i386, then with a hwcap, then the plain x86_64 one. With BAD_OFF
 * the plain entry's path offset points past the end.
 */
static void write_cache(const char *path, bool bad_off)
{
	static const char *const strs[] = {"libfoo.so.1", "/lib32/libfoo.so.1",
					   "/hw/x86-64-v3/libfoo.so.1",
					   "/lib/x86_64-linux-gnu/libfoo.so.1"};
	unsigned char b[1024] = {0};
	size_t base = 16 + 12, nb, strings, off[4], at, i;
	FILE *f;

	memcpy(b, "ld.so-1.7.0", 11);
	put32(b, 12, 1);
	base = (base + 7) & ~(size_t)7;
	memcpy(b + base, "glibc-ld.so.cache1.1", 20);
	put32(b + base, 20, 3);
	b[base + 28] = 2; /* little endian */
	strings = 48 + 3 * 24;
	at = strings;
	for (i = 0; i < 4; i++) {
		off[i] = at;
		memcpy(b + base + at, strs[i], strlen(strs[i]) + 1);
		at += strlen(strs[i]) + 1;
	}
	nb = base + at;
	put32(b + base, 24, at - strings);
	/* i386 */
	put32(b + base, 48, 0x0003);
	put32(b + base, 52, off[0]);
	put32(b + base, 56, off[1]);
	/* x86_64 with a hwcap */
	put32(b + base, 72, 0x0303);
	put32(b + base, 76, off[0]);
	put32(b + base, 80, off[2]);
	put64(b + base, 88, 1ull << 62);
	/* x86_64 */
	put32(b + base, 96, 0x0303);
	put32(b + base, 100, off[0]);
	put32(b + base, 104, bad_off ? 4096 : off[3]);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(b, 1, nb, f), nb);
	fclose(f);
}

Test(ldcache, old_and_new_format_with_hwcaps_and_i386)
{
	char path[] = "/tmp/zt-ldcache-XXXXXX", got[PATH_MAX];
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	close(fd);
	write_cache(path, false);
	cr_assert_eq(zt_ldcache_lookup(path, "libfoo.so.1", got, sizeof(got)), 0);
	cr_assert_str_eq(got, "/lib/x86_64-linux-gnu/libfoo.so.1");
	cr_assert_eq(zt_ldcache_lookup(path, "libfoo.so", got, sizeof(got)), -ENOENT);
	write_cache(path, true);
	cr_assert_eq(zt_ldcache_lookup(path, "libfoo.so.1", got, sizeof(got)), -EINVAL);
	unlink(path);
}
