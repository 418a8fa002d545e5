/* SPDX-License-Identifier: MIT */
/*
 * Test helper: where a function of an ELF file lives in a running process, and what bytes are
 * there (to see whether a uprobe's breakpoint is installed). An independent, minimal ELF
 * reader on purpose: tests must not reuse the code they check. Dependency-free C.
 */
#ifndef ZT_TEST_PROCMEM_H
#define ZT_TEST_PROCMEM_H

#include <stddef.h>
#include <sys/types.h>

/* The x86 breakpoint a uprobe writes over a probed instruction. */
#define ZT_X86_INT3 0xcc
/* First byte of `push %rbp`, the first instruction of every function of tests/targets. */
#define ZT_X86_PUSH_RBP 0x55

/*
 * Finds the function symbol @name in ELF64 file @path (.symtab, then .dynsym) and stores its
 * file offset (st_value - sh_addr + sh_offset of its section) in *@off.
 * Returns 0, -ENOENT if there is no such function, -ENOEXEC if @path is not ELF64, or -errno.
 */
int zt_elf_func_offset(const char *path, const char *name, unsigned long *off);

/*
 * Stores in *@addr the address of function @name of file @path in process @pid, through the
 * process's mapping of @path. Returns 0, -ENOENT (no such function, or @path not mapped
 * there), or -errno.
 */
int zt_proc_func_addr(pid_t pid, const char *path, const char *name, unsigned long *addr);

/* Reads @len bytes at @addr of process @pid into @buf. Returns 0 or -errno. */
int zt_proc_peek(pid_t pid, unsigned long addr, void *buf, size_t len);

#endif
