/* SPDX-License-Identifier: MIT */
/*
 * ELF files as uprobes need them: function symbols with the file offsets a uprobe attaches at,
 * address -> function for symbolizing, the build-id, and the dynamic section (DT_NEEDED, RPATH,
 * RUNPATH) for resolving libraries. Built on libelf; every read is bounds-checked because the
 * files come from the traced system, not from us.
 */
#ifndef ZTRACE_ELF_SYM_H
#define ZTRACE_ELF_SYM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "ztrace/limits.h"

/* Size of the buffer zt_elf_build_id() writes: two hex digits per byte and a NUL. */
#define ZT_ELF_BUILD_ID_HEX_SIZE (2 * ZT_BUILD_ID_MAX_BYTES + 1)

struct zt_elf_func {
	char *name;	 /* symbol name with any @VERSION / @@VERSION suffix removed; owned */
	uint64_t addr;	 /* st_value (virtual address in the ELF) */
	uint64_t size;	 /* st_size; may be 0 */
	uint64_t offset; /* file offset for a uprobe: st_value - sh_addr + sh_offset */
};

/* An open ELF file (opaque). */
struct zt_elf;

/*
 * Open PATH for reading symbols. Returns 0 and *out, or -errno: -ENOENT/-EACCES/... from
 * open(2), -EISDIR for a directory, -ENOEXEC when it is not an ELF file, -EXDEV when it is an
 * ELF file for another machine than x86_64 (x32 included), -ENOEXEC when it is an x86_64 ELF
 * file but not an executable or shared object (ET_REL, ET_CORE), -EINVAL when it is malformed.
 * On -EXDEV *out is still set so the caller can name the machine with zt_elf_machine_name(); the
 * caller closes it. On every other error *out is NULL.
 */
int zt_elf_open(const char *path, struct zt_elf **out);

/* Close E and free everything it owns; NULL is a no-op. */
void zt_elf_close(struct zt_elf *e);

/* True when E has a .symtab; false when stripped (only .dynsym, or no symbols at all). */
bool zt_elf_has_symtab(const struct zt_elf *e);

/*
 * Find the defined functions (STT_FUNC and STT_GNU_IFUNC, st_shndx != SHN_UNDEF, st_value != 0)
 * of .dynsym and .symtab whose unversioned name matches the fnmatch(3) GLOB (NULL: all).
 * An STT_GNU_IFUNC symbol's address is its resolver's, which ld.so runs once at load time.
 * - `name@@VER`, `name@VER` and a .dynsym `name` all become `name`. When a name has a default
 *   (or unversioned) definition, its hidden (non-default, `name@VER`) versions are dropped: they
 *   are the compatibility copies that only old binaries call.
 * - One entry per address: of several matching names at one address the global, unversioned
 *   one wins (then: fewer leading underscores, shorter, alphabetical).
 * - Distinct functions may still share a name (file-local functions of several source files):
 *   they are all listed; use zt_elf_find_func() when exactly one is wanted.
 * Sorted by name, then address. Returns 0 with *out (NULL when *n is 0; no match is not an
 * error here), -ENOMEM, or -EINVAL when a symbol table cannot be read. The caller frees *out
 * with zt_elf_funcs_free().
 */
int zt_elf_match_funcs(struct zt_elf *e, const char *glob, struct zt_elf_func **out, size_t *n);

/* Free an array from zt_elf_match_funcs(), names included; NULL is a no-op. */
void zt_elf_funcs_free(struct zt_elf_func *f, size_t n);

/*
 * The one function called exactly NAME (no glob), with the same version and alias rules as
 * zt_elf_match_funcs(). Returns 0 and *out (the caller frees out->name), -ENOENT when there is
 * none, -ENOTUNIQ when several functions at different addresses have that name.
 */
int zt_elf_find_func(struct zt_elf *e, const char *name, struct zt_elf_func *out);

/*
 * Symbolize: the function whose [st_value, st_value + st_size) contains the ELF virtual address
 * ADDR (a size-0 symbol only contains its own address). Returns 0 and *out (the caller frees
 * out->name), -ENOENT when no function contains ADDR, -ENOMEM, -EINVAL. The first call builds
 * an address index kept until zt_elf_close(); later calls are a binary search.
 */
int zt_elf_func_at(struct zt_elf *e, uint64_t addr, struct zt_elf_func *out);

/*
 * Convert a file offset (as in /proc/PID/maps: addr - start + offset) to the ELF virtual
 * address through the PT_LOAD segment that holds it. Returns 0 and *vaddr, or -ENOENT.
 */
int zt_elf_offset_to_vaddr(struct zt_elf *e, uint64_t offset, uint64_t *vaddr);

/*
 * Write the NT_GNU_BUILD_ID note as lowercase hex into OUT. Returns 0, -ENOENT when there is
 * no build-id, -EINVAL when the note is longer than ZT_BUILD_ID_MAX_BYTES or empty.
 */
int zt_elf_build_id(struct zt_elf *e, char out[ZT_ELF_BUILD_ID_HEX_SIZE]);

/*
 * True for ET_DYN: symbol addresses are relative to a load base chosen at run time. Shared
 * libraries are ET_DYN too.
 */
bool zt_elf_is_pie(const struct zt_elf *e);

/* "x86_64", "aarch64", "i386", ... or "machine N"; "unknown" for NULL. Owned by E. */
const char *zt_elf_machine_name(const struct zt_elf *e);

/*
 * The DT_NEEDED names in the order of the dynamic section. Returns 0 and a caller-owned array
 * of caller-owned strings (*names is NULL when *n is 0; free with zt_elf_needed_free()), or
 * -ENOMEM.
 */
int zt_elf_needed(struct zt_elf *e, char ***names, size_t *n);

/* Free an array from zt_elf_needed(); NULL is a no-op. */
void zt_elf_needed_free(char **names, size_t n);

/* DT_RPATH, DT_RUNPATH, DT_SONAME, PT_INTERP as written in the file, or NULL. Owned by E. */
const char *zt_elf_rpath(struct zt_elf *e);
const char *zt_elf_runpath(struct zt_elf *e);
const char *zt_elf_soname(struct zt_elf *e);
const char *zt_elf_interp(struct zt_elf *e);

#endif
