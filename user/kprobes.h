/* SPDX-License-Identifier: MIT */
/*
 * Kernel function probes: fentry/fexit (BPF trampolines) where the kernel allows them, else
 * kprobe/kretprobe, chosen once per session by trying. Programs share the session's maps
 * (user/loader.h), so kernel calls nest with user calls and syscalls on the same thread.
 */
#ifndef ZTRACE_KPROBES_H
#define ZTRACE_KPROBES_H

#include <stdint.h>
#include "loader.h"

enum zt_kmech { ZT_KMECH_AUTO, ZT_KMECH_FENTRY, ZT_KMECH_KPROBE };

struct zt_kprobes;

/*
 * Load the kernel-probe programs with mechanism want (AUTO: fentry, else kprobes). first_func
 * is a function that will be traced: fentry programs are verified against it. Returns NULL with
 * a one-line reason in err (*unavailable set when this kernel has neither mechanism, a usage
 * error rather than a failure).
 */
struct zt_kprobes *zt_kprobes_open(struct zt_loader *l, enum zt_kmech want, const char *first_func,
				   bool *unavailable, char *err, size_t errlen);

/* Trace kernel function func; its records carry probe_id. Returns 0 or -errno with err. */
int zt_kprobes_attach(struct zt_kprobes *k, const char *func, uint32_t probe_id, char *err,
		      size_t errlen);

enum zt_kmech zt_kprobes_mechanism(const struct zt_kprobes *k);
const char *zt_kmech_name(enum zt_kmech m);

/* Detach every kernel probe (the programs stay loaded). */
void zt_kprobes_detach(struct zt_kprobes *k);
void zt_kprobes_close(struct zt_kprobes *k);

#endif
