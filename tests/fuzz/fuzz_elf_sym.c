// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the ELF symbol reader (elf_sym.h) on any file. Every input is opened twice:
 * once as libelf normally maps it (mmap), once with mmap refused so that libelf falls back to
 * reading the file into a malloc'd buffer, whose bounds AddressSanitizer guards; a read past
 * the end of the file by elf_sym.c then shows as a heap-buffer-overflow instead of going
 * unnoticed in the tail of a mapped page. Then every query of elf_sym.h is run on what opened.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "elf_sym.h"
#include "fuzz_util.h"

/* Functions symbolized back per input: enough to reach every code path, bounded in time. */
#define MAX_LOOKUPS 64

/* While set, file mappings fail (see mmap() below). */
static bool refuse_file_mmap;

/* AddressSanitizer's own mmap, which ours stands in front of. */
void *__interceptor_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);

/*
 * libelf maps the file with mmap() and reads it with pread() when that fails (ENODEV is what a
 * file system without mmap support returns). The sanitizer runtime's interceptor is a weak
 * symbol, so this definition wins for libelf's calls and hands everything else on.
 */
void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	if (refuse_file_mmap && fd >= 0 && !(flags & MAP_ANONYMOUS)) {
		errno = ENODEV;
		return MAP_FAILED;
	}
	return __interceptor_mmap(addr, len, prot, flags, fd, off);
}

/* Read a string handed out by elf_sym.c to its end, so a missing NUL shows up. */
static void touch(const char *s)
{
	if (s)
		(void)strlen(s);
}

static void query(struct zt_elf *e)
{
	char build_id[ZT_ELF_BUILD_ID_HEX_SIZE];
	struct zt_elf_func *funcs = NULL, f;
	char **needed = NULL;
	size_t n = 0, i;
	uint64_t vaddr;
	int ret;

	touch(zt_elf_machine_name(e));
	(void)zt_elf_has_symtab(e);
	(void)zt_elf_is_pie(e);
	ret = zt_elf_match_funcs(e, "*", &funcs, &n);
	ZT_FUZZ_CHECK(ret == 0 || ret == -ENOMEM || ret == -EINVAL);
	if (ret == 0) {
		ZT_FUZZ_CHECK(n == 0 || funcs);
		for (i = 0; i < n; i++) {
			touch(funcs[i].name);
			if (i > 0)
				ZT_FUZZ_CHECK(strcmp(funcs[i - 1].name, funcs[i].name) <= 0);
		}
		for (i = 0; i < n && i < MAX_LOOKUPS; i++) {
			ret = zt_elf_func_at(e, funcs[i].addr, &f);
			ZT_FUZZ_CHECK(ret == 0 || ret == -ENOENT || ret == -ENOMEM ||
				      ret == -EINVAL);
			if (ret == 0) {
				touch(f.name);
				free(f.name);
			}
			(void)zt_elf_offset_to_vaddr(e, funcs[i].offset, &vaddr);
		}
		if (n) {
			ret = zt_elf_find_func(e, funcs[0].name, &f);
			ZT_FUZZ_CHECK(ret == 0 || ret == -ENOTUNIQ || ret == -ENOMEM ||
				      ret == -EINVAL);
			if (ret == 0)
				free(f.name);
		}
		zt_elf_funcs_free(funcs, n);
	}
	if (zt_elf_func_at(e, 0, &f) == 0)
		free(f.name);
	(void)zt_elf_offset_to_vaddr(e, 0, &vaddr);
	ret = zt_elf_build_id(e, build_id);
	if (ret == 0) {
		ZT_FUZZ_CHECK(strlen(build_id) > 0 && strlen(build_id) < sizeof(build_id));
		ZT_FUZZ_CHECK(strspn(build_id, "0123456789abcdef") == strlen(build_id));
	}
	ret = zt_elf_needed(e, &needed, &n);
	ZT_FUZZ_CHECK(ret == 0 || ret == -ENOMEM || ret == -EINVAL);
	if (ret == 0) {
		for (i = 0; i < n; i++)
			touch(needed[i]);
		zt_elf_needed_free(needed, n);
	}
	touch(zt_elf_rpath(e));
	touch(zt_elf_runpath(e));
	touch(zt_elf_soname(e));
	touch(zt_elf_interp(e));
}

/* Open PATH (with or without mmap) and query what opened. */
static void open_and_query(const char *path, bool no_mmap)
{
	struct zt_elf *e = NULL;
	int ret;

	refuse_file_mmap = no_mmap;
	ret = zt_elf_open(path, &e);
	refuse_file_mmap = false;
	if (ret == 0) {
		ZT_FUZZ_CHECK(e != NULL);
		query(e);
	} else if (ret == -EXDEV) {
		/* another machine: only its name may be asked for */
		ZT_FUZZ_CHECK(e != NULL);
		touch(zt_elf_machine_name(e));
	} else {
		ZT_FUZZ_CHECK(e == NULL);
		ZT_FUZZ_CHECK(ret == -ENOEXEC || ret == -EINVAL || ret == -ENOMEM);
	}
	zt_elf_close(e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct zt_fuzz_file file;
	const char *path = zt_fuzz_file_set(&file, data, size);

	open_and_query(path, false);
	open_and_query(path, true);
	return 0;
}
