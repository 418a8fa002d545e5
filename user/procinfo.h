/* SPDX-License-Identifier: MIT */
/*
 * What the exporters say about a traced process: read once from /proc/PID when ztrace first
 * sees the process, and mapped to OpenTelemetry resource attributes by the OTLP encoder.
 */
#ifndef ZTRACE_PROCINFO_H
#define ZTRACE_PROCINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "ztrace/limits.h"

/* Length of a container id in hex digits (a full docker/containerd/CRI-O id). */
#define ZT_CONTAINER_ID_LEN 64

struct zt_process_info {
	uint32_t pid;
	uint64_t start_time; /* /proc/PID/stat field 22 (clock ticks after boot): tells pid reuse */
	char comm[ZT_COMM_LEN];
	char *exe;	    /* /proc/PID/exe, or NULL when unreadable */
	char *cmdline;	    /* arguments joined by single spaces, or NULL (kernel threads) */
	char *service_name; /* OTEL_SERVICE_NAME of the target, else basename(exe), else comm */
	bool service_name_from_env; /* service_name came from the target's OTEL_SERVICE_NAME */
	char *container_id;   /* 64 hex digits from /proc/PID/cgroup, or NULL outside containers */
	char *k8s_pod_uid;    /* the Kubernetes pod uid in the cgroup path, or NULL */
	char *k8s_namespace;  /* the pod's namespace and name from the kubelet's pods directory */
	char *k8s_pod_name;   /* (zt_procinfo_add_pod_names), or NULL */
	char *resource_attrs; /* the target's OTEL_RESOURCE_ATTRIBUTES, raw, or NULL */
};

/*
 * Fill out from /proc/PID. Only /proc/PID/stat is required (it names the process); exe,
 * cmdline, environ and cgroup are read when permitted and left NULL otherwise. Returns 0, or
 * -ENOENT when the process does not exist, or another -errno. out is zeroed first; on success
 * free it with zt_procinfo_free().
 */
int zt_procinfo_read(int pid, struct zt_process_info *out);

/* Read from the /proc tree rooted at proc_root (e.g. a fixture directory) instead of /proc. */
int zt_procinfo_read_at(const char *proc_root, int pid, struct zt_process_info *out);

/*
 * Fill info's k8s_namespace and k8s_pod_name from the entry of its pod uid in pods_dir (the
 * kubelet's /var/log/pods, see k8s_pod.h). Nothing to do without a uid or an entry. Returns 0
 * or -ENOMEM.
 */
int zt_procinfo_add_pod_names(struct zt_process_info *info, const char *pods_dir);

/*
 * Read at most max bytes of the file at path into a malloc'ed, NUL-terminated buffer that the
 * caller frees (/proc files report size 0, so read until EOF). Returns 0 with *out and *len
 * set, or -errno.
 */
int zt_read_proc_file(const char *path, size_t max, char **out, size_t *len);

/* Free the strings of info (not info itself) and zero it. NULL and zeroed infos are fine. */
void zt_procinfo_free(struct zt_process_info *info);

/* Deep copy src into dst. Returns 0 or -ENOMEM (dst is then zeroed). */
int zt_procinfo_copy(struct zt_process_info *dst, const struct zt_process_info *src);

/*
 * Find the container id in the text of a /proc/PID/cgroup file: a 64-hex-digit path segment,
 * bare (cgroup v1 "/docker/ID") or as a systemd scope ("docker-ID.scope",
 * "cri-containerd-ID.scope", "crio-ID.scope", "libpod-ID.scope"). The innermost match wins.
 * Writes the id and a NUL to out. Returns 0, -ENOENT when there is none, -ENOSPC when outlen
 * is below ZT_CONTAINER_ID_LEN + 1.
 */
int zt_cgroup_container_id(const char *cgroup_file_text, char *out, size_t outlen);

/*
 * Parse the stat line of /proc/PID/stat: copies the comm (truncated to fit ZT_COMM_LEN) and
 * returns field 22 (starttime) in *start_time. The comm may contain spaces and parentheses, so
 * it ends at the LAST ')'. Returns 0 or -EINVAL.
 */
int zt_proc_stat_parse(const char *stat_text, char comm[ZT_COMM_LEN], uint64_t *start_time);

/*
 * Look up NAME in a NUL-separated environment block of len bytes (as in /proc/PID/environ).
 * Returns a pointer into env at the value, or NULL. The value ends at the next NUL or at len:
 * *value_len gets its length.
 */
const char *zt_environ_get(const char *env, size_t len, const char *name, size_t *value_len);

#endif
