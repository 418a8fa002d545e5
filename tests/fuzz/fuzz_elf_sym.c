// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the ELF symbol reader (elf_sym.h) on any file: open it, then run every
 * query of elf_sym.h on what opened.
 *
 * libelf maps the file with mmap(), so elf_sym.c reads the file's bytes in a mapping rather
 * than in a heap buffer with redzones, and AddressSanitizer alone would miss a read past the
 * end of the file: the tail of the last page reads as zeros. So the mapping is guarded: the
 * bytes after the end of the file up to the page boundary are poisoned (a read of them by
 * instrumented code is reported), and an inaccessible page follows (any read faults).
 */
#include <errno.h>
#include <sanitizer/asan_interface.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "elf_sym.h"
#include "fuzz_util.h"

/* Functions symbolized back per input: enough to reach every code path, bounded in time. */
#define MAX_LOOKUPS 64

/* While set, the next file mapping is guarded (see mmap() below). */
static bool guard_file_mmap;

/* The guarded mapping: the file's pages, then one PROT_NONE page. libelf maps a file once. */
static struct {
	uint8_t *base;
	size_t total;
} guarded;

/* AddressSanitizer's own mmap, which ours stands in front of. */
void *__interceptor_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);

/*
 * The sanitizer runtime's mmap interceptor is a weak symbol, so this definition wins for
 * libelf's calls; everything but the guarded file mapping is handed on.
 */
void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), span;
	uint8_t *base;
	void *file;

	if (!guard_file_mmap || fd < 0 || (flags & MAP_ANONYMOUS) || addr || guarded.base || !len)
		return __interceptor_mmap(addr, len, prot, flags, fd, off);
	span = (len + page - 1) & ~(page - 1);
	base = __interceptor_mmap(NULL, span + page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED)
		return MAP_FAILED;
	file = __interceptor_mmap(base, len, prot, flags | MAP_FIXED, fd, off);
	if (file == MAP_FAILED) {
		syscall(SYS_munmap, base, span + page);
		return MAP_FAILED;
	}
	ASAN_POISON_MEMORY_REGION(base + len, span - len);
	guarded.base = base;
	guarded.total = span + page;
	return base;
}

/* Unmap the guarded mapping whole, clearing its poison, when libelf lets go of the file. */
int munmap(void *addr, size_t len)
{
	if (addr && addr == guarded.base) {
		ASAN_UNPOISON_MEMORY_REGION(guarded.base, guarded.total);
		addr = guarded.base;
		len = guarded.total;
		guarded.base = NULL;
	}
	return (int)syscall(SYS_munmap, addr, len);
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

/* Open PATH in a guarded mapping and query what opened. */
static void open_and_query(const char *path)
{
	struct zt_elf *e = NULL;
	int ret;

	guard_file_mmap = true;
	ret = zt_elf_open(path, &e);
	guard_file_mmap = false;
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

	open_and_query(path);
	/* libelf unmapped the file in elf_end(): a mapping left over would be a leak */
	ZT_FUZZ_CHECK(guarded.base == NULL);
	return 0;
}
