/* SPDX-License-Identifier: MIT */
/*
 * The agent's config file (`ztrace agent --config FILE`, YAML read with libyaml) and the rules
 * that select processes. Schema, defaults and matching are described in scripts/deploy/README.md
 * ("The config file"); in short:
 *
 *   log_format: logfmt | json          log_level: error | warn | notice | info | debug
 *   max_memory: SIZE                    metrics_addr: [HOST:]PORT
 *   metrics_retention: DURATION (1s..300s, default 60s)
 *   probe_budget: PERCENT%, NS per second or off (the overhead governor, user/governor.h)
 *   otlp:   { endpoint, protocol, headers, gzip, timeout }
 *   record: { path, max_size, keep }   k8s_pods_dir: PATH (default /var/log/pods)
 *   rules:  [ { name, match: { exe, comm, cgroup, container_id, k8s_namespace, k8s_pod,
 *               k8s_pod_label }, probes, syscalls, min_duration, sample, error_if, ret32,
 *               capture } ]
 *
 * Loading checks everything that can be checked without the running system (probe spec syntax,
 * globs, URLs, addresses, syscall names); every error names FILE:LINE:COLUMN.
 */
#ifndef ZTRACE_AGENT_CONFIG_H
#define ZTRACE_AGENT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "error_rule.h"
#include "log.h"
#include "units.h"

struct zt_otlp_config;

enum zt_agent_log_format { ZT_AGENT_LOG_LOGFMT, ZT_AGENT_LOG_JSON };

/*
 * Which processes a rule selects. Every selector given must match (AND); NULL / 0 = not given.
 * Globs are fnmatch(3) patterns without FNM_PATHNAME, so '*' also matches '/'.
 */
struct zt_agent_match {
	char *exe;    /* glob on the executable's path (host path or in-namespace path) */
	char *comm;   /* glob on the process name (at most 15 characters, as the kernel keeps) */
	char *cgroup; /* glob on the cgroup v2 path ("/kubepods.slice/...") */
	char *container_id;    /* lowercase hex, a full id or a prefix of at least 12 digits */
	char *k8s_namespace;   /* exact Kubernetes namespace */
	char *k8s_pod;	       /* glob on the Kubernetes pod name */
	char **k8s_pod_labels; /* "key=value" (that value) or "key" (any value); all must match */
	size_t n_k8s_pod_labels;
};

/* One rule: a selection and what to trace in the processes it selects. Strings are owned. */
struct zt_agent_rule {
	char *name; /* unique in the file */
	struct zt_agent_match match;
	char **probes; /* probe specs as written (syntax already checked); may be empty */
	size_t nprobes;
	bool syscalls;	    /* trace syscalls */
	char *syscall_list; /* "read,write" (names checked), or NULL for every syscall */
	uint64_t min_duration_ns;
	double sample; /* fraction of root spans kept, in (0, 1]; 1 by default */
	bool has_error_rule;
	struct zt_error_rule error_rule; /* error_if, when has_error_rule */
	bool ret32;			 /* return values are 32-bit ints */
	char **captures; /* capture specs (capture_spec.h) as written, syntax checked */
	size_t ncaptures;
	unsigned line; /* line of the rule in the file, for messages */
};

/* OTLP export settings as written; unset fields leave the environment or defaults in force. */
struct zt_agent_otlp {
	char *endpoint;	     /* NULL: no OTLP export */
	int json;	     /* protocol http/json: 1, http/protobuf: 0, not given: -1 */
	int gzip;	     /* 1, 0, or -1 when not given */
	char *headers;	     /* "k=v,k2=v2" as OTEL_EXPORTER_OTLP_HEADERS, or NULL */
	unsigned timeout_ms; /* one request; 0 when not given */
};

/* The record file with size-based rotation: PATH, then PATH.1 .. PATH.<keep> (oldest last). */
struct zt_agent_record {
	char *path; /* NULL: no record file */
	uint64_t max_size;
	unsigned keep;
};

struct zt_agent_config {
	char *path; /* the file it was loaded from */
	enum zt_agent_log_format log_format;
	enum zt_log_level log_level;
	uint64_t max_memory;	       /* bytes */
	uint64_t probe_budget_ns;      /* overhead governor: BPF ns/s per probe, 0 = off */
	char *metrics_addr;	       /* "[HOST:]PORT" (checked), or NULL for no listener */
	uint64_t metrics_retention_ns; /* an exited process's series stay at least this long */
	struct zt_agent_otlp otlp;
	struct zt_agent_record record;
	char *k8s_pods_dir; /* the kubelet's pods directory (k8s namespace and pod names) */
	struct zt_agent_rule *rules; /* in file order; at least one */
	size_t nrules;
};

/*
 * What is known about a process, for matching. Any field may be NULL (not known, e.g. no
 * container or no Kubernetes metadata on this host); a selector on an unknown field does not
 * match. Nothing is owned.
 */
struct zt_proc_identity {
	const char *exe; /* executable path in the host's mount namespace (proc_identity.h) */
	const char *
	    exe_in_ns; /* the same file's path inside the process's mount namespace, if different */
	const char *comm;
	const char *cgroup;	  /* cgroup v2 path from /proc/PID/cgroup ("0::" line) */
	const char *container_id; /* 64 lowercase hex digits */
	const char *k8s_namespace;
	const char *k8s_pod;
	const char *const *k8s_pod_labels; /* "key=value" each */
	size_t n_k8s_pod_labels;
};

/*
 * Read and check the config file path into *out. Returns 0; -EINVAL for a bad config, with
 * "PATH:LINE:COLUMN: what is wrong" in err; -errno of open/read (-ENOENT, -EACCES, -EISDIR,
 * -EFBIG for a file over ZT_AGENT_CONFIG_MAX_BYTES) with "cannot read PATH: reason" in err;
 * -ENOMEM. err must hold errlen bytes (not NULL). On success the caller owns *out and
 * releases it with zt_agent_config_free(); on error *out holds nothing to free. Reads only the
 * file (and resolves metrics_addr's host name, if it has one): safe to call from a SIGHUP
 * reload while the old config keeps running.
 */
int zt_agent_config_load(const char *path, struct zt_agent_config *out, char *err, size_t errlen);

/*
 * The same for a config already in memory: len bytes of YAML, named name in messages and in
 * out->path. Returns 0, -EINVAL or -ENOMEM as zt_agent_config_load() does.
 */
int zt_agent_config_parse(const char *name, const char *text, size_t len,
			  struct zt_agent_config *out, char *err, size_t errlen);

/* Release everything c owns and zero it; safe on a zeroed or freed config. */
void zt_agent_config_free(struct zt_agent_config *c);

/* The rule called name, or NULL. */
const struct zt_agent_rule *zt_agent_config_find_rule(const struct zt_agent_config *c,
						      const char *name);

/*
 * Whether process p is selected by rule r: every selector r gives matches p (see struct
 * zt_agent_match). Pure function.
 */
bool zt_agent_rule_matches(const struct zt_agent_rule *r, const struct zt_proc_identity *p);

/*
 * Whether r selects every process of the file at host path exe, whatever else is known of it:
 * r has no selector but exe (no name, cgroup, container or pod) and its glob matches the host
 * path (a path seen only inside some mount namespace does not say that of every process).
 * The kernel can then select the file's processes at their exec.
 */
bool zt_agent_rule_selects_file(const struct zt_agent_rule *r, const char *exe);

/* Whether a and b select and trace exactly the same (their line may differ). */
bool zt_agent_rule_equal(const struct zt_agent_rule *a, const struct zt_agent_rule *b);

/*
 * Whether a and b have the same name, selection and probes (their policies, error_if, ret32,
 * min_duration and sample, may differ): on a reload such a rule is left attached as it is and
 * only its processes' policy changes.
 */
bool zt_agent_rule_same_probes(const struct zt_agent_rule *a, const struct zt_agent_rule *b);

/*
 * Overlay the OTLP settings the file gives (endpoint, protocol, gzip, headers, timeout) on o;
 * fields the file does not set are left alone. o's strings then point into c.
 */
void zt_agent_otlp_apply(const struct zt_agent_config *c, struct zt_otlp_config *o);

#endif
