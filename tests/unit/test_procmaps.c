// SPDX-License-Identifier: MIT
/* /proc/PID/maps parsing, library name matching and address lookup. */
#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "procmaps.h"
#include "unit/fixtures/fixture_path.h"

/* Read fixture NAME into a malloc'd string. */
static char *slurp_fixture(const char *name)
{
	char path[PATH_MAX];
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	zt_fixture(path, name);
	f = fopen(path, "r");
	cr_assert_not_null(f, "cannot open %s", path);
	cr_assert_eq(getdelim(&buf, &len, '\0', f) > 0, true);
	fclose(f);
	return buf;
}

static void parse_fixture(const char *name, struct zt_maps *m)
{
	char *text = slurp_fixture(name);

	cr_assert_eq(zt_procmaps_parse(text, m), 0);
	free(text);
}

static void assert_map(const struct zt_map *m, uint64_t start, uint64_t end, const char *perms,
		       uint64_t offset, uint32_t major, uint32_t minor, uint64_t inode,
		       const char *path, bool deleted)
{
	cr_assert_eq(m->start, start, "start %#lx", (unsigned long)m->start);
	cr_assert_eq(m->end, end, "end %#lx", (unsigned long)m->end);
	cr_assert_eq(m->r, perms[0] == 'r');
	cr_assert_eq(m->w, perms[1] == 'w');
	cr_assert_eq(m->x, perms[2] == 'x');
	cr_assert_eq(m->shared, perms[3] == 's');
	cr_assert_eq(m->offset, offset);
	cr_assert_eq(m->dev_major, major);
	cr_assert_eq(m->dev_minor, minor);
	cr_assert_eq(m->inode, inode);
	if (path)
		cr_assert_str_eq(m->path, path);
	else
		cr_assert_null(m->path, "path %s", m->path);
	cr_assert_eq(m->deleted, deleted);
}

Test(procmaps, parses_every_kind_of_line)
{
	struct zt_maps m;

	parse_fixture("maps_mixed.txt", &m);
	cr_assert_eq(m.n, 20);
	assert_map(&m.v[0], 0x555555554000, 0x555555556000, "r--p", 0, 0xfe, 0, 1048577,
		   "/opt/my app/bin/pricing server", false);
	assert_map(&m.v[1], 0x555555556000, 0x55555555a000, "r-xp", 0x2000, 0xfe, 0, 1048577,
		   "/opt/my app/bin/pricing server", false);
	assert_map(&m.v[3], 0x55555575c000, 0x55555577d000, "rw-p", 0, 0, 0, 0, "[heap]", false);
	assert_map(&m.v[4], 0x7f0000000000, 0x7f0000021000, "rw-p", 0, 0, 0, 0, NULL, false);
	assert_map(&m.v[5], 0x7f0000100000, 0x7f0000101000, "r-xs", 0, 0, 1, 4242,
		   "/memfd:jit code", true);
	assert_map(&m.v[9], 0x7f0000400000, 0x7f0000401000, "r--p", 0, 0xfe, 0, 2000003,
		   "/usr/lib/x86_64-linux-gnu/libpricing.so.1", true);
	assert_map(&m.v[12], 0x7f0000526000, 0x7f000067c000, "r-xp", 0x26000, 0xfe, 0, 332835,
		   "/usr/lib/x86_64-linux-gnu/libc.so.6", false);
	assert_map(&m.v[13], 0x7f0000700000, 0x7f0000701000, "rw-p", 0, 0, 0, 0,
		   "[anon:jemalloc arena]", false);
	assert_map(&m.v[14], 0x7f0000800000, 0x7f0000801000, "r--s", 0, 0xfe, 0, 3000004,
		   "/var/cache/shared data.bin", false);
	assert_map(&m.v[16], 0x7ffff7fc5000, 0x7ffff7fc7000, "r-xp", 0, 0, 0, 0, "[vdso]", false);
	assert_map(&m.v[19], 0xffffffffff600000, 0xffffffffff601000, "--xp", 0, 0, 0, 0,
		   "[vsyscall]", false);
	cr_assert_eq(zt_map_is_file(&m.v[0]), true);
	cr_assert_eq(zt_map_is_file(&m.v[3]), false);
	cr_assert_eq(zt_map_is_file(&m.v[4]), false);
	cr_assert_eq(zt_map_is_file(&m.v[5]), true);
	zt_procmaps_free(&m);
	cr_assert_null(m.v);
	cr_assert_eq(m.n, 0);
}

Test(procmaps, last_line_without_newline_and_empty_text)
{
	struct zt_maps m;

	parse_fixture("maps_no_newline.txt", &m);
	cr_assert_eq(m.n, 1);
	assert_map(&m.v[0], 0x7f0000000000, 0x7f0000001000, "r-xp", 0, 0xfe, 0, 1,
		   "/usr/lib/libz.so.1", false);
	zt_procmaps_free(&m);

	cr_assert_eq(zt_procmaps_parse("", &m), 0);
	cr_assert_eq(m.n, 0);
	cr_assert_null(m.v);
}

Test(procmaps, malformed_fixtures_are_refused)
{
	struct zt_maps m = {.n = 99};
	char *text;

	text = slurp_fixture("maps_bad_perms.txt");
	cr_assert_eq(zt_procmaps_parse(text, &m), -EINVAL);
	cr_assert_eq(m.n, 0);
	cr_assert_null(m.v);
	free(text);

	/* Out of address order: the binary search of find_addr would be wrong. */
	text = slurp_fixture("maps_unsorted.txt");
	cr_assert_eq(zt_procmaps_parse(text, &m), -EINVAL);
	free(text);
}

Test(procmaps, malformed_lines_are_refused)
{
	static const char *const bad[] = {
	    "zzzz-1000 r--p 00000000 fe:00 1 /a\n",
	    "0x1000-0x2000 r--p 00000000 fe:00 1 /a\n",
	    "2000-1000 r--p 00000000 fe:00 1 /a\n",
	    "1ffffffffffffffff-2 r--p 00000000 fe:00 1 /a\n",
	    "1000-2000 r--p 00000000 fe:00\n",
	    "1000-2000 r--p 00000000 fe-00 1 /a\n",
	    "1000-2000 r--p 00000000 fe:00 1/a\n",
	    "1000-2000 r--x 00000000 fe:00 1 /a\n",
	    "1000-2000 r-\n",
	    "1000-2000 r--p 00000000 fe:00 -1 /a\n",
	    "1000-2000 r--p 00000000 1ffffffff:00 1 /a\n",
	    "1000 r--p 00000000 fe:00 1 /a\n",
	    "\n",
	};
	struct zt_maps m;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(zt_procmaps_parse(bad[i], &m), -EINVAL, "accepted: %s", bad[i]);
}

struct libname_case {
	const char *libname;
	const char *path;
	bool match;
};

static const struct libname_case libname_cases[] = {
    {"libc", "/usr/lib/x86_64-linux-gnu/libc.so.6", true},
    {"libc", "/lib/libc-2.36.so", true},
    {"libc", "/usr/lib/libc.so", true},
    {"libc", "libc.so.6", true},
    {"libc", "/usr/lib/x86_64-linux-gnu/libcrypt.so.1", false},
    {"libc", "/usr/lib/x86_64-linux-gnu/libcurl.so.4", false},
    {"libc", "/usr/lib/x86_64-linux-gnu/libc_malloc_debug.so.0", false},
    {"libc", "/usr/lib/libc-tools.so", false},
    {"libc", "/usr/lib/libc.so.6x", false},
    {"libc", "/opt/libc/libz.so.1", false},
    {"libpricing.so", "/opt/app/libpricing.so", true},
    {"libpricing.so", "/opt/app/libpricing.so.1", true},
    {"libpricing.so", "/opt/app/libpricing.so.1.2.3", true},
    {"libpricing.so", "/opt/app/libpricing.so.bak", false},
    {"libpricing.so", "/opt/app/libpricing-2.so", false},
    {"libpricing", "/opt/app/libpricing.so", true},
    {"libssl.so.3", "/usr/lib/x86_64-linux-gnu/libssl.so.3", true},
    {"libssl.so.3", "/usr/lib/x86_64-linux-gnu/libssl.so.3.0.8", false},
    {"libssl.so.3", "/usr/lib/x86_64-linux-gnu/libssl.so", false},
    {"libssl", "/usr/lib/x86_64-linux-gnu/libssl.so.3", true},
    {"libLLVM", "/usr/lib/libLLVM-15.so.1", true},
    {"/opt/app/libx.so", "/opt/app/libx.so", true},
    {"/opt/app/libx.so", "/opt/other/libx.so", false},
    {"app/libx.so", "/opt/app/libx.so", false},
    {"", "/usr/lib/libc.so.6", false},
};

Test(procmaps, libname_matching_table)
{
	size_t i;

	for (i = 0; i < sizeof(libname_cases) / sizeof(libname_cases[0]); i++) {
		const struct libname_case *c = &libname_cases[i];

		cr_assert_eq(zt_libname_matches(c->libname, c->path), c->match,
			     "zt_libname_matches(\"%s\", \"%s\") should be %s", c->libname, c->path,
			     c->match ? "true" : "false");
	}
}

Test(procmaps, find_lib)
{
	const struct zt_map *map;
	struct zt_maps m;

	parse_fixture("maps_mixed.txt", &m);
	/* libcrypt and libcurl come first and must not be taken for libc. */
	cr_assert_str_eq(zt_procmaps_find_lib(&m, "libc"), "/usr/lib/x86_64-linux-gnu/libc.so.6");
	cr_assert_str_eq(zt_procmaps_find_lib(&m, "libcurl"),
			 "/usr/lib/x86_64-linux-gnu/libcurl.so.4.8.0");
	cr_assert_str_eq(zt_procmaps_find_lib(&m, "ld-linux-x86-64.so.2"),
			 "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2");
	map = zt_procmaps_find_lib_map(&m, "libpricing.so");
	cr_assert_not_null(map);
	cr_assert_eq(map, &m.v[9]);
	cr_assert_eq(map->deleted, true);
	cr_assert_null(zt_procmaps_find_lib(&m, "libssl.so.3"));
	cr_assert_null(zt_procmaps_find_lib(&m, "libcrypt.so.3"));
	/* "[heap]" and friends are not files. */
	cr_assert_null(zt_procmaps_find_lib(&m, "[heap]"));
	zt_procmaps_free(&m);
}

Test(procmaps, find_addr)
{
	struct zt_maps m;

	parse_fixture("maps_mixed.txt", &m);
	cr_assert_eq(zt_procmaps_find_addr(&m, 0x555555554000), &m.v[0]);
	cr_assert_eq(zt_procmaps_find_addr(&m, 0x555555556000), &m.v[1]);
	cr_assert_eq(zt_procmaps_find_addr(&m, 0x55555555bfff), &m.v[2]);
	cr_assert_null(zt_procmaps_find_addr(&m, 0x55555555c000));
	cr_assert_eq(zt_procmaps_find_addr(&m, 0x7f0000530000), &m.v[12]);
	cr_assert_eq(zt_procmaps_find_addr(&m, 0xffffffffff600fff), &m.v[19]);
	cr_assert_null(zt_procmaps_find_addr(&m, 0));
	cr_assert_null(zt_procmaps_find_addr(&m, UINT64_MAX));
	zt_procmaps_free(&m);

	cr_assert_eq(zt_procmaps_parse("", &m), 0);
	cr_assert_null(zt_procmaps_find_addr(&m, 0x1000));
}

__attribute__((noinline)) static int local_code(void)
{
	return 7;
}

Test(procmaps, read_self)
{
	char self[PATH_MAX], libc_real[PATH_MAX];
	const struct zt_map *map;
	struct zt_maps m;
	const char *libc;

	cr_assert_not_null(realpath("/proc/self/exe", self));
	cr_assert_eq(zt_procmaps_read(getpid(), &m), 0);
	cr_assert_gt(m.n, 5);
	map = zt_procmaps_find_addr(&m, (uintptr_t)local_code);
	cr_assert_not_null(map);
	cr_assert_str_eq(map->path, self);
	cr_assert_eq(map->x, true);
	cr_assert_eq(map->w, false);
	/* getpid lives in libc (no sanitizer wraps it): its mapping is the one find_lib names. */
	map = zt_procmaps_find_addr(&m, (uintptr_t)getpid);
	cr_assert_not_null(map);
	libc = zt_procmaps_find_lib(&m, "libc");
	cr_assert_not_null(libc);
	cr_assert_str_eq(map->path, libc);
	cr_assert_not_null(realpath("/lib/x86_64-linux-gnu/libc.so.6", libc_real));
	cr_assert_str_eq(libc, libc_real);
	cr_assert_eq(local_code(), 7);
	zt_procmaps_free(&m);
}

Test(procmaps, read_errors)
{
	struct zt_maps m;
	int status;
	pid_t pid;

	cr_assert_eq(zt_procmaps_read(0, &m), -EINVAL);
	cr_assert_eq(zt_procmaps_read(-1, &m), -EINVAL);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0)
		_exit(0);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	/* Reaped: the pid is gone (pids are not reused this fast on an idle test machine). */
	cr_assert_eq(zt_procmaps_read(pid, &m), -ENOENT);
}
