// SPDX-License-Identifier: MIT
/*
 * ELF symbols on real binaries built by tests/unit/fixtures.mk from fixtures/symbols.c. The
 * expected addresses and offsets come from another route: binutils' readelf, run on the same
 * files.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/runproc.h"
#include "elf_sym.h"
#include "unit/fixtures/fixture_path.h"

#define READELF_TIMEOUT_MS 10000

/* Run `readelf OPTION -W PATH` and return its stdout (malloc'd). */
static char *readelf(const char *option, const char *path)
{
	char *argv[] = {"readelf", (char *)option, "-W", (char *)path, NULL};
	struct zt_proc p;
	char *text;

	cr_assert_eq(zt_run(&p, argv, NULL, READELF_TIMEOUT_MS), 0, "readelf %s %s: %s", option,
		     path, zt_proc_text(&p, ZT_STDERR));
	text = strdup(zt_proc_text(&p, ZT_STDOUT));
	zt_proc_free(&p);
	cr_assert_not_null(text);
	return text;
}

/* sh_addr and sh_offset of section number NDX, from `readelf -S`. */
static void readelf_section(const char *path, unsigned int ndx, uint64_t *addr, uint64_t *off)
{
	char *text = readelf("-S", path), *line, *save = NULL, name[256], type[64];
	unsigned int nr;
	bool found = false;

	for (line = strtok_r(text, "\n", &save); line && !found;
	     line = strtok_r(NULL, "\n", &save)) {
		/* "  [12] .text   PROGBITS   0000000000001040 001040 00014b 00  AX  0   0 16" */
		if (sscanf(line, " [%u] %255s %63s %" SCNx64 " %" SCNx64, &nr, name, type, addr,
			   off) == 5 &&
		    nr == ndx)
			found = true;
	}
	free(text);
	cr_assert(found, "section %u not in readelf -S %s", ndx, path);
}

/*
 * The value and file offset of symbol SYM (spelled as readelf prints it, e.g. "f@@V2"), from
 * `readelf -s` and `readelf -S`: offset = value - section address + section offset.
 */
static void readelf_symbol(const char *path, const char *sym, uint64_t *value, uint64_t *offset)
{
	char *text = readelf("-s", path), *line, *save = NULL, type[32], bind[32], vis[32], ndx[32],
	     name[512];
	uint64_t v = 0, size, sh_addr, sh_off;
	unsigned int num;
	bool found = false;

	for (line = strtok_r(text, "\n", &save); line && !found;
	     line = strtok_r(NULL, "\n", &save)) {
		/* "    31: 000000000000112f     4 FUNC    GLOBAL DEFAULT   12 zt_fix_add" */
		if (sscanf(line, " %u: %" SCNx64 " %" SCNu64 " %31s %31s %31s %31s %511s", &num, &v,
			   &size, type, bind, vis, ndx, name) == 8 &&
		    !strcmp(name, sym))
			found = true;
	}
	free(text);
	cr_assert(found, "%s not in readelf -s %s", sym, path);
	readelf_section(path, (unsigned int)strtoul(ndx, NULL, 10), &sh_addr, &sh_off);
	*value = v;
	*offset = v - sh_addr + sh_off;
}

static struct zt_elf *open_fixture(const char *name)
{
	char path[PATH_MAX];
	struct zt_elf *e = NULL;

	zt_fixture(path, name);
	cr_assert_eq(zt_elf_open(path, &e), 0, "zt_elf_open(%s)", path);
	cr_assert_not_null(e);
	return e;
}

/*
 * Match GLOB in fixture FILE and check the names are exactly EXPECTED (in order) and each entry
 * has the address and offset readelf gives for the symbol spelled as in READELF_NAMES.
 */
static void check_match(const char *file, const char *glob, const char *const *expected,
			const char *const *readelf_names, size_t n_expected)
{
	char path[PATH_MAX];
	struct zt_elf_func *f;
	struct zt_elf *e;
	uint64_t value, offset;
	size_t n, i;

	zt_fixture(path, file);
	e = open_fixture(file);
	cr_assert_eq(zt_elf_match_funcs(e, glob, &f, &n), 0);
	cr_assert_eq(n, n_expected, "%s: %zu matches of %s", file, n, glob);
	for (i = 0; i < n; i++) {
		cr_assert_str_eq(f[i].name, expected[i], "%s: match %zu", file, i);
		readelf_symbol(path, readelf_names[i], &value, &offset);
		cr_assert_eq(f[i].addr, value, "%s: %s addr %#" PRIx64 " != %#" PRIx64, file,
			     f[i].name, f[i].addr, value);
		cr_assert_eq(f[i].offset, offset, "%s: %s offset %#" PRIx64 " != %#" PRIx64, file,
			     f[i].name, f[i].offset, offset);
	}
	zt_elf_funcs_free(f, n);
	zt_elf_close(e);
}

Test(elf_sym, pie_functions)
{
	static const char *const names[] = {"zt_fix_add", "zt_fix_ifunc", "zt_fix_ifunc_impl",
					    "zt_fix_local", "zt_fix_mul"};

	/* zt_fix_add_alias shares zt_fix_add's address, zt_fix_resolve zt_fix_ifunc's. */
	check_match("sym_pie", "zt_fix_*", names, names, 5);
}

Test(elf_sym, non_pie_offsets_differ_from_addresses)
{
	static const char *const names[] = {"zt_fix_add", "zt_fix_ifunc", "zt_fix_ifunc_impl",
					    "zt_fix_local", "zt_fix_mul"};
	struct zt_elf_func *f;
	struct zt_elf *e;
	size_t n;

	check_match("sym_nopie", "zt_fix_*", names, names, 5);
	e = open_fixture("sym_nopie");
	cr_assert_eq(zt_elf_is_pie(e), false);
	cr_assert_eq(zt_elf_match_funcs(e, "zt_fix_add", &f, &n), 0);
	cr_assert_eq(n, 1);
	/* Linked at 0x400000: the virtual address is not the file offset. */
	cr_assert_eq(f[0].addr - f[0].offset, 0x400000);
	zt_elf_funcs_free(f, n);
	zt_elf_close(e);
}

Test(elf_sym, shared_library_with_versions)
{
	static const char *const names[] = {"zt_fix_add",	 "zt_fix_entry", "zt_fix_ifunc",
					    "zt_fix_ifunc_impl", "zt_fix_local", "zt_fix_mul",
					    "zt_fix_ver"};
	/* zt_fix_ver@ZTFIX_1 is the hidden compatibility version: dropped. */
	static const char *const spelled[] = {"zt_fix_add",	    "zt_fix_entry", "zt_fix_ifunc",
					      "zt_fix_ifunc_impl",  "zt_fix_local", "zt_fix_mul",
					      "zt_fix_ver@@ZTFIX_2"};

	check_match("libsym.so", "zt_fix_*", names, spelled, 7);
}

Test(elf_sym, stripped_library_uses_dynsym)
{
	static const char *const names[] = {"zt_fix_add", "zt_fix_entry", "zt_fix_ifunc",
					    "zt_fix_mul", "zt_fix_ver"};
	/* .dynsym as readelf prints it: every name carries its version. */
	static const char *const spelled[] = {"zt_fix_add@@ZTFIX_1", "zt_fix_entry@@ZTFIX_1",
					      "zt_fix_ifunc@@ZTFIX_1", "zt_fix_mul@@ZTFIX_1",
					      "zt_fix_ver@@ZTFIX_2"};
	struct zt_elf *e = open_fixture("libsym.so.stripped");

	cr_assert_eq(zt_elf_has_symtab(e), false);
	zt_elf_close(e);
	/* Versions come from .gnu.version here, not from the names. */
	check_match("libsym.so.stripped", "zt_fix_*", names, spelled, 5);
}

Test(elf_sym, stripped_executable)
{
	struct zt_elf_func *f = (void *)1;
	struct zt_elf *e = open_fixture("sym_pie.stripped");
	size_t n = 99;

	cr_assert_eq(zt_elf_has_symtab(e), false);
	cr_assert_eq(zt_elf_is_pie(e), true);
	/* Its .dynsym exports none of them: no match, and not an error. */
	cr_assert_eq(zt_elf_match_funcs(e, "zt_fix_*", &f, &n), 0);
	cr_assert_eq(n, 0);
	cr_assert_null(f);
	zt_elf_close(e);

	e = open_fixture("sym_pie");
	cr_assert_eq(zt_elf_has_symtab(e), true);
	zt_elf_close(e);
}

Test(elf_sym, aliases_keep_the_global_plain_name)
{
	struct zt_elf *e = open_fixture("libsym.so");
	struct zt_elf_func *f;
	size_t n;

	/* zt_fix_mul (global) and __zt_fix_mul (weak) are one function. */
	cr_assert_eq(zt_elf_match_funcs(e, "*zt_fix_mul", &f, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(f[0].name, "zt_fix_mul");
	zt_elf_funcs_free(f, n);
	/* Asked for by itself, an alias is found under its own name. */
	cr_assert_eq(zt_elf_match_funcs(e, "zt_fix_add_alias", &f, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(f[0].name, "zt_fix_add_alias");
	zt_elf_funcs_free(f, n);
	cr_assert_eq(zt_elf_match_funcs(e, "no_such_function*", &f, &n), 0);
	cr_assert_eq(n, 0);
	zt_elf_close(e);
}

Test(elf_sym, find_func_exact)
{
	char path[PATH_MAX];
	struct zt_elf *e = open_fixture("libsym.so");
	struct zt_elf_func f;
	uint64_t value, offset;

	zt_fixture(path, "libsym.so");
	cr_assert_eq(zt_elf_find_func(e, "zt_fix_ver", &f), 0);
	readelf_symbol(path, "zt_fix_ver@@ZTFIX_2", &value, &offset);
	cr_assert_str_eq(f.name, "zt_fix_ver");
	cr_assert_eq(f.addr, value);
	cr_assert_eq(f.offset, offset);
	free(f.name);
	/* A glob character is a plain character here. */
	cr_assert_eq(zt_elf_find_func(e, "zt_fix_*", &f), -ENOENT);
	cr_assert_eq(zt_elf_find_func(e, "ztfix_impl_ver1", &f), 0);
	readelf_symbol(path, "ztfix_impl_ver1", &value, &offset);
	cr_assert_eq(f.addr, value);
	free(f.name);
	zt_elf_close(e);
}

Test(elf_sym, func_at_symbolizes)
{
	char path[PATH_MAX];
	struct zt_elf *e = open_fixture("libsym.so");
	struct zt_elf_func f;
	uint64_t value, offset, vaddr;

	zt_fixture(path, "libsym.so");
	readelf_symbol(path, "zt_fix_entry", &value, &offset);
	cr_assert_eq(zt_elf_func_at(e, value, &f), 0);
	cr_assert_str_eq(f.name, "zt_fix_entry");
	cr_assert_eq(f.addr, value);
	cr_assert_gt(f.size, 1);
	free(f.name);
	cr_assert_eq(zt_elf_func_at(e, value + f.size - 1, &f), 0);
	cr_assert_str_eq(f.name, "zt_fix_entry");
	free(f.name);
	/* The hidden version is real code: symbolized under its name too. */
	readelf_symbol(path, "zt_fix_ver@ZTFIX_1", &value, &offset);
	cr_assert_eq(zt_elf_func_at(e, value, &f), 0);
	cr_assert(!strcmp(f.name, "zt_fix_ver") || !strcmp(f.name, "ztfix_impl_ver1"), "%s",
		  f.name);
	free(f.name);
	cr_assert_eq(zt_elf_func_at(e, 0, &f), -ENOENT);
	cr_assert_eq(zt_elf_func_at(e, UINT64_MAX, &f), -ENOENT);
	/* file offset -> virtual address, for addresses read from /proc/PID/maps */
	cr_assert_eq(zt_elf_offset_to_vaddr(e, offset, &vaddr), 0);
	cr_assert_eq(vaddr, value);
	cr_assert_eq(zt_elf_offset_to_vaddr(e, UINT64_MAX, &vaddr), -ENOENT);
	zt_elf_close(e);
}

Test(elf_sym, func_at_non_pie)
{
	char path[PATH_MAX];
	struct zt_elf *e = open_fixture("sym_nopie");
	struct zt_elf_func f;
	uint64_t value, offset, vaddr;

	zt_fixture(path, "sym_nopie");
	readelf_symbol(path, "zt_fix_mul", &value, &offset);
	cr_assert_eq(zt_elf_offset_to_vaddr(e, offset + 1, &vaddr), 0);
	cr_assert_eq(vaddr, value + 1);
	cr_assert_eq(zt_elf_func_at(e, vaddr, &f), 0);
	cr_assert_str_eq(f.name, "zt_fix_mul");
	cr_assert_eq(f.offset, offset);
	free(f.name);
	zt_elf_close(e);
}

/* The "Build ID:" line of `readelf -n`. */
static void readelf_build_id(const char *path, char *out, size_t len)
{
	char *text = readelf("-n", path), *p = strstr(text, "Build ID: ");

	cr_assert_not_null(p, "no build-id in readelf -n %s", path);
	p += strlen("Build ID: ");
	cr_assert_eq(sscanf(p, "%127[0-9a-f]", out), 1);
	cr_assert_lt(strlen(out), len);
	free(text);
}

Test(elf_sym, build_id)
{
	static const char *const files[] = {"sym_pie", "sym_nopie", "libsym.so",
					    "libsym.so.stripped"};
	char path[PATH_MAX], id[ZT_ELF_BUILD_ID_HEX_SIZE], expected[128];
	struct zt_elf *e;
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		zt_fixture(path, files[i]);
		readelf_build_id(path, expected, sizeof(expected));
		e = open_fixture(files[i]);
		cr_assert_eq(zt_elf_build_id(e, id), 0);
		cr_assert_eq(strlen(id), 40);
		cr_assert_str_eq(id, expected, "%s", files[i]);
		zt_elf_close(e);
	}
}

Test(elf_sym, file_kinds_and_dynamic_section)
{
	struct zt_elf *e = open_fixture("libsym.so");
	char **needed;
	size_t n;

	cr_assert_eq(zt_elf_is_pie(e), true);
	cr_assert_str_eq(zt_elf_machine_name(e), "x86_64");
	cr_assert_str_eq(zt_elf_soname(e), "libsym.so.1");
	cr_assert_null(zt_elf_interp(e));
	cr_assert_null(zt_elf_rpath(e));
	cr_assert_null(zt_elf_runpath(e));
	/* It calls nothing outside itself: linked --as-needed, it needs nothing. */
	cr_assert_eq(zt_elf_needed(e, &needed, &n), 0);
	cr_assert_eq(n, 0);
	cr_assert_null(needed);
	zt_elf_close(e);

	e = open_fixture("sym_pie");
	cr_assert_eq(zt_elf_is_pie(e), true);
	cr_assert_str_eq(zt_elf_interp(e), "/lib64/ld-linux-x86-64.so.2");
	cr_assert_null(zt_elf_soname(e));
	cr_assert_eq(zt_elf_needed(e, &needed, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(needed[0], "libc.so.6");
	zt_elf_needed_free(needed, n);
	zt_elf_close(e);
}

Test(elf_sym, open_errors)
{
	char path[PATH_MAX];
	struct zt_elf *e = (void *)1;

	zt_fixture(path, "not_elf.txt");
	cr_assert_eq(zt_elf_open(path, &e), -ENOEXEC);
	cr_assert_null(e);
	/* A relocatable object cannot be probed. */
	zt_fixture(path, "symbols.o");
	cr_assert_eq(zt_elf_open(path, &e), -ENOEXEC);
	cr_assert_null(e);
	zt_fixture(path, "no_such_file");
	cr_assert_eq(zt_elf_open(path, &e), -ENOENT);
	cr_assert_null(e);
	zt_fixture(path, "");
	cr_assert_eq(zt_elf_open(path, &e), -EISDIR);
	cr_assert_null(e);
	/* Section headers past the end of the file. */
	zt_fixture(path, "libsym.so.truncated");
	cr_assert_eq(zt_elf_open(path, &e), -EINVAL);
	cr_assert_null(e);
	cr_assert_str_eq(zt_elf_machine_name(NULL), "unknown");
}

Test(elf_sym, other_machine_is_named)
{
	char path[PATH_MAX];
	struct zt_elf *e = NULL;

	zt_fixture(path, "libsym_aarch64.so");
	cr_assert_eq(zt_elf_open(path, &e), -EXDEV);
	cr_assert_not_null(e);
	cr_assert_str_eq(zt_elf_machine_name(e), "aarch64");
	zt_elf_close(e);
}
