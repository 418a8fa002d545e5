/* SPDX-License-Identifier: MIT */
/* Kernel functions that can be probed, and which mechanism this kernel offers for them. */
#ifndef ZTRACE_KSYMS_H
#define ZTRACE_KSYMS_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Names of the kernel functions matching glob, sorted and unique: from tracefs's
 * available_filter_functions (the functions ftrace, and so fentry and kprobes, can attach to),
 * else /proc/kallsyms' text symbols. *names (each string too) is the caller's to free with
 * zt_ksyms_free(). Returns 0 or -errno.
 */
int zt_ksyms_match(const char *glob, char ***names, size_t *n);
void zt_ksyms_free(char **names, size_t n);

/* Parse the text of available_filter_functions or kallsyms (fmt as above) into matches of glob.
 * kallsyms is detected by its "ADDRESS TYPE NAME" lines. Pure; for tests. */
int zt_ksyms_parse(const char *text, const char *glob, char ***names, size_t *n);

/* Whether the kernel has kprobes (a kprobe PMU or tracefs kprobe_events). */
bool zt_kernel_has_kprobes(void);

#endif
