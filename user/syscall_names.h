/* SPDX-License-Identifier: MIT */
/* x86_64 syscall numbers and errno values by name: for --syscalls=LIST, labels and summaries. */
#ifndef ZTRACE_SYSCALL_NAMES_H
#define ZTRACE_SYSCALL_NAMES_H

#include <stdbool.h>
#include <stddef.h>

/* Name of syscall nr ("openat"), or NULL when nr is not an x86_64 syscall ztrace knows. */
const char *zt_syscall_name(int nr);

/* Number of the syscall called name (exact, lowercase), or -ENOENT. */
int zt_syscall_nr(const char *name);

/*
 * Parse a --syscalls list ("read,write, openat"): clear selected[0..ZT_MAX_SYSCALLS) and set
 * the entry of every named syscall. Returns 0, or -EINVAL with a message in err naming the
 * offending item (unknown name, empty item); selected is then all false.
 */
int zt_syscall_parse_list(const char *list, bool *selected, char *err, size_t errlen);

/*
 * Symbolic name of an errno value ("ENOENT"); e may be given negated, as a syscall returns it.
 * Kernel-internal values a sys_exit tracepoint can see (ERESTARTSYS...) are named too.
 * NULL for 0 and unknown values.
 */
const char *zt_errno_name(int e);

#endif
