/* SPDX-License-Identifier: MIT */
/*
 * One tracing session (`ztrace trace`, `ztrace record`): what it traces, the BPF side, and
 * where spans go. tracer.c runs it, session_attach.c resolves and attaches probes,
 * session_sinks.c hands records to the terminal, the summary, the record file, OTLP and
 * metrics.
 */
#ifndef ZTRACE_SESSION_H
#define ZTRACE_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <bpf/libbpf.h>
#include "cli.h"
#include "collect.h"
#include "export_otlp.h"
#include "governor.h"
#include "http_server.h"
#include "kprobes.h"
#include "membudget.h"
#include "loader.h"
#include "metrics.h"
#include "points.h"
#include "probe_spec.h"
#include "probes.h"
#include "proctable.h"
#include "stitch.h"
#include "store.h"
#include "summary.h"
#include "target.h"

#define ZT_SESSION_ERRLEN 512

/* How one process's spans are sampled on the user side (the agent's rules); errors are
 * judged by the kernel, per process (struct zt_target_policy). */
struct zt_span_policy {
	double sample;	  /* fraction of traces kept, (0, 1] */
	const char *rule; /* names the policy in ztrace_spans_sampled_out_total */
};

struct zt_session {
	const struct zt_options *opts;
	struct zt_target *targets;
	size_t ntargets;
	struct zt_probe_spec *specs;
	size_t nspecs;
	struct zt_probe_table probes;
	uint8_t **want; /* per target: probe ids to attach (zt_session_resolve) */
	struct zt_loader *loader;
	struct zt_kprobes *kprobes; /* k: specs */
	struct zt_points *points;   /* t: and usdt: specs */
	struct ring_buffer *rb;
	struct zt_stitch stitch;
	struct zt_summary *summary; /* functions from spans, syscalls from the kernel */
	struct zt_summary *exact;   /* everything from the kernel's counts (see collect.h) */
	bool aggregated;	    /* spans were not all made: show the exact summary */
	struct zt_governor *governor;  /* --probe-budget / probe_budget: NULL when off */
	struct zt_membudget membudget; /* the agent's max_memory; max_bytes 0: off */
	struct zt_proctable *procs;
	struct zt_metrics *metrics; /* --metrics-addr */
	struct zt_http *http;
	struct zt_collect collect;
	struct zt_store_writer *store;		    /* record -o FILE */
	struct zt_otlp_exporter *otlp;		    /* --otlp URL or OTEL_EXPORTER_OTLP_*ENDPOINT */
	const struct zt_process_info *current_proc; /* of the record being handled */
	FILE *out;
	uint64_t t0_ns;
	uint64_t invalid_records;
	size_t drain_left; /* records this drain may still take (0: no limit) */
	uint64_t syscall_delivered;
	size_t kernel_attached;		      /* kernel functions */
	size_t points_attached;		      /* tracepoints and USDT probes */
	bool *syscall_selected;		      /* --syscalls=LIST, NULL = all */
	char *syscall_probe[ZT_MAX_SYSCALLS]; /* "syscall:NAME", made on first use */
	/* the agent's hooks (NULL for ztrace trace) */
	void *owner;
	void (*on_exec)(struct zt_session *t, uint32_t pid);
	void (*on_exit)(struct zt_session *t, uint32_t pid);
	void (*on_reload)(struct zt_session *t);
	/* The span policy of pid (the agent's rule for it); false: the options' policy. */
	bool (*policy_of)(struct zt_session *t, uint32_t pid, struct zt_span_policy *out);
	uint64_t spans_sampled_out; /* spans of traces a policy's sample left out */
	char err[ZT_SESSION_ERRLEN];
};

/* session.c: OTLP and the metrics listener, as t->opts asks. Returns 0 or -errno with t->err
 * (every failure is the user's to fix: bad URL, port in use). */
int zt_session_start_exporters(struct zt_session *t);
/* session.c: load the BPF side with lcfg, ring buffer, summary, process table, record file.
 * Returns 0 or -errno with t->err and *code. */
int zt_session_open_pipeline(struct zt_session *t, const struct zt_loader_config *lcfg, int *code);
/* session.c: free everything the session holds but its targets. */
void zt_session_cleanup(struct zt_session *t);

/* tracer.c: consume records until a stop signal, -d, or the exit of every target. */
int zt_session_run(struct zt_session *t);
/* Detach, drain, flush open calls as incomplete, publish and print the summary. */
void zt_session_finish(struct zt_session *t);

/* session_attach.c: attach the probes marked in want[probe id] to pid (-1: every process),
 * grouped by file. Returns 0 or -errno with t->err. */
int zt_session_attach_marked(struct zt_session *t, const uint8_t *want, int pid);

/* session_attach.c: resolve every function spec for every target (before any BPF is loaded).
 * Returns 0 or -errno with t->err set; *code is the exit code the failure deserves. */
int zt_session_resolve(struct zt_session *t, int *code);
/* session_attach.c: attach what was resolved, and the event probes. As above. */
int zt_session_attach(struct zt_session *t, int *code);

/* session_capture.c: every --capture must match a traced function; else -ENOENT, t->err. */
int zt_session_check_captures(struct zt_session *t);
/* session_capture.c: hand each function's --capture to the loader, before it is attached. */
int zt_session_apply_captures(struct zt_session *t);
/*
 * session_capture.c: the same with specs[n] (an agent rule's), for the probes marked in only
 * (all when NULL; only has ZT_MAX_PROBES entries). Returns 0 or -errno with t->err.
 */
int zt_session_apply_capture_specs(struct zt_session *t, const struct zt_capture_spec *specs,
				   size_t n, const uint8_t *only);

/* session_sinks.c */
/* Write pi (may be NULL) to the record file, if there is one; exec_ns: the unix ns of the
 * exec that started its image, 0 when none was seen. */
void zt_session_record_process(struct zt_session *t, const struct zt_process_info *pi,
			       uint64_t exec_ns);
/* The process table's entry of pid (made at first sight, and then written to the record
 * file), or NULL. comm may be NULL. */
const struct zt_process_info *zt_session_process(struct zt_session *t, uint32_t pid,
						 const char *comm);
/* Validate, stitch and hand a record on. */
int zt_session_handle_record(void *ctx, void *data, size_t size);
/* The ring buffer callback: zt_session_handle_record() within the drain's budget. */
int zt_session_drain_record(void *ctx, void *data, size_t size);
/*
 * Hand on the records waiting in the ring buffer: all of them when @all, else at most
 * ZT_DRAIN_BATCH_RECORDS. Returns how many, or -errno.
 */
int zt_session_drain(struct zt_session *t, bool all);
/* Report calls still open at detach as incomplete spans. */
void zt_session_flush_open_calls(struct zt_session *t);
/* Refresh metrics and the record file's snapshot (every ZT_METRICS_REFRESH_MS). */
void zt_session_publish(struct zt_session *t);
/* The final capture counters, to metrics and the record file. */
void zt_session_publish_final(struct zt_session *t);
/* ztrace_spans_exported_total from the OTLP exporter's counts. */
void zt_session_publish_exported(struct zt_session *t);

uint64_t zt_realtime_ns(void);
uint64_t zt_monotonic_ms(void);

#endif
