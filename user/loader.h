/* SPDX-License-Identifier: MIT */
/*
 * The BPF side of a tracing session: open, configure and load the programs, attach uprobe pairs,
 * maintain the kernel's target filter, and read the per-probe counters back. Every attachment
 * is a BPF link over a perf event, so the kernel removes it when ztrace's fds close, even on
 * SIGKILL: nothing is ever registered through tracefs.
 */
#ifndef ZTRACE_LOADER_H
#define ZTRACE_LOADER_H

#include <stdbool.h>
#include <stdint.h>
#include <bpf/libbpf.h>
#include "error_rule.h"
#include "ztrace/record.h"

struct zt_loader_config {
	bool filter_tgids; /* only processes added with zt_loader_add_target are traced */
	struct zt_error_rule error_rule;
	bool ret32; /* function return values are 32-bit ints */
	/* syscall tracing (--syscalls): off unless syscalls is set */
	bool syscalls;
	const bool *syscall_selected; /* [ZT_MAX_SYSCALLS], NULL = all */
	bool syscall_spans;	      /* a span for every syscall */
	uint64_t syscall_min_ns;      /* else a span for syscalls at least this slow (0: none) */
	bool report_execs;	      /* ZT_REC_EXEC for every exec, not only targets (agent) */
	bool aggregate;		      /* --aggregate: spans only for slow or failed calls */
	uint64_t span_min_ns;	      /* with aggregate: "slow" */
	bool capture_args;	      /* some probe has a --capture spec (zt_loader_set_args) */
};

struct zt_loader;

/* Load the BPF programs. Returns NULL with a one-line reason in err. */
struct zt_loader *zt_loader_open(const struct zt_loader_config *cfg, char *err, size_t errlen);

/*
 * Add pid to the kernel's target filter for flags (enum zt_target_flags), its calls judged by
 * the loader's config (error rule, ret32). Returns 0 or -errno.
 */
int zt_loader_add_target(struct zt_loader *l, int pid, uint8_t flags);

/* Add pid, or replace its entry, with a policy of its own (the agent's rules). 0 or -errno. */
int zt_loader_set_target(struct zt_loader *l, int pid, const struct zt_target_policy *target);

/* Fill out: a targets map value for flags with that error rule, ret32 and min duration. */
void zt_loader_target_policy(const struct zt_error_rule *rule, bool ret32, uint64_t span_min_ns,
			     uint8_t flags, struct zt_target_policy *out);
int zt_loader_remove_target(struct zt_loader *l, int pid);

/*
 * Have the kernel make every process that execs the file (st_dev, st_ino as stat(2) gives
 * them) a target with policy at the exec itself, before its first instruction runs (the agent
 * still matches it afterwards and may correct it). Needs report_execs. Returns 0 or -errno
 * (-E2BIG past ZT_MAX_EXEC_FILES files).
 */
int zt_loader_select_file(struct zt_loader *l, uint64_t st_dev, uint64_t st_ino,
			  const struct zt_target_policy *policy);
/* Forget every file given to zt_loader_select_file. */
void zt_loader_clear_files(struct zt_loader *l);

/*
 * Attach the entry and return programs to the functions at the n file offsets of path, for
 * process pid (-1: every process that maps the file); ids[i] comes back in every record of
 * offsets[i]. One uprobe_multi link per direction where the kernel has them, else a perf-event
 * link per function. A function the kernel refuses to probe (an instruction uprobes cannot
 * handle, such as a lock prefix) is skipped: refused[i] is set to its -errno, 0 otherwise.
 * Returns how many were attached, or -errno with a reason in err when none could be.
 */
int zt_loader_attach_uprobes(struct zt_loader *l, const char *path, int pid,
			     const uint64_t *offsets, const uint32_t *ids, size_t n, int *refused,
			     char *err, size_t errlen);

/*
 * Make probe_id capture spec's arguments at entry (the loader was opened with capture_args).
 * Must come before the probe is attached: the capture is marked in its BPF cookie. Returns 0
 * or -errno (-EINVAL for a probe id out of range or a loader without capture_args).
 */
int zt_loader_set_args(struct zt_loader *l, uint32_t probe_id, const struct zt_arg_spec *spec);

/*
 * Undo zt_loader_set_args for probe_id's next attachment (an agent rule reloaded without its
 * capture): it captures nothing again. Attachments made before keep their cookie.
 */
void zt_loader_clear_args(struct zt_loader *l, uint32_t probe_id);

/* Whether functions are attached through uprobe_multi links (for -v). */
bool zt_loader_uses_uprobe_multi(const struct zt_loader *l);

/* Number of uprobe pairs attached. */
size_t zt_loader_uprobe_count(const struct zt_loader *l);

/*
 * Attachments made from now on belong to group (0 until set): the agent makes one group per
 * rule, so a rule's uprobes can be removed without touching the others'.
 */
void zt_loader_set_group(struct zt_loader *l, uint32_t group);

/* Remove the uprobes attached in group; every other attachment stays as it is. */
void zt_loader_detach_group(struct zt_loader *l, uint32_t group);

/* Remove every uprobe, keeping the hooks (thread exit, exec) and syscall programs. */
void zt_loader_detach_uprobes(struct zt_loader *l);

/* Remove every uprobe (and the thread-exit hook). Records already in the ring buffer stay. */
void zt_loader_detach(struct zt_loader *l);

/* The ring buffer of records, and the fd to poll for it. */
struct bpf_map *zt_loader_events(struct zt_loader *l);

/* Switch aggregate mode (see struct zt_control) on or off at run time. Returns 0 or -errno. */
int zt_loader_set_aggregate(struct zt_loader *l, bool on);

/* Bytes of records waiting in the ring buffer (producer - consumer position). */
uint64_t zt_loader_ringbuf_used(struct zt_loader *l);

/* Sum of the per-CPU counters of probe_id. */
int zt_loader_probe_stats(struct zt_loader *l, uint32_t probe_id, struct zt_probe_stats *out);

/* Sample probe_id 1 in 2^shift in the kernel (0: keep every call); see bpf/sample.bpf.h. */
int zt_loader_set_sample_shift(struct zt_loader *l, uint32_t probe_id, uint32_t shift);

/* The fds of the function-probe programs: entry, return, uprobe_multi entry, uprobe_multi
 * return (-1 where not loaded). */
void zt_loader_function_progs(struct zt_loader *l, int fds[4]);

/* Per (process, probe) aggregates and the thread stacks, for metrics and the final flush. */
int zt_loader_aggs_fd(struct zt_loader *l);
int zt_loader_errnos_fd(struct zt_loader *l); /* -1 without --syscalls */
int zt_loader_stacks_fd(struct zt_loader *l);

void zt_loader_close(struct zt_loader *l);

/*
 * Make obj (opened, not loaded) use the loader's maps of the same names: stacks, ring buffer,
 * aggregates, filters. Every BPF object of a session shares them. Returns 0 or -errno.
 */
int zt_loader_share_maps(struct zt_loader *l, struct bpf_object *obj);

/* Set the rodata every ztrace BPF object has (bpf/common.bpf.h) from cfg, on skeleton skel. */
#define ZT_SET_COMMON_RODATA(skel, cfg)                                                            \
	do {                                                                                       \
		(skel)->rodata->filter_tgids = (cfg)->filter_tgids;                                \
		(skel)->rodata->self_tgid = (__u32)getpid();                                       \
		(skel)->rodata->err_op = (cfg)->error_rule.op;                                     \
		(skel)->rodata->err_val = (cfg)->error_rule.value;                                 \
		(skel)->rodata->ret32 = (cfg)->ret32;                                              \
		(skel)->rodata->capture_args = (cfg)->capture_args;                                \
	} while (0)

/* The configuration the loader was opened with (rodata of other objects must match it). */
const struct zt_loader_config *zt_loader_get_config(const struct zt_loader *l);

/* Whether the caller has the privileges BPF tracing needs; if not, err says which are missing. */
int zt_check_privileges(char *err, size_t errlen);

/*
 * Whether the kernel has what ztrace cannot run without (BTF, the BPF ring buffer); if not,
 * err names what is missing and -EOPNOTSUPP is returned. Call with the privileges checked.
 */
int zt_check_kernel_features(char *err, size_t errlen);

/* Mount tracefs at /sys/kernel/tracing if it is not there. Returns 0 or -errno. */
int zt_tracefs_ensure(void);

#endif
