/* SPDX-License-Identifier: MIT */
/*
 * Which Kubernetes pod a process belongs to, from what the node itself shows: the pod uid in
 * the process's cgroup path, and the kubelet's log directory of that uid
 * (/var/log/pods/<namespace>_<pod>_<uid>/), which names its namespace and pod.
 */
#ifndef ZTRACE_K8S_POD_H
#define ZTRACE_K8S_POD_H

#include <stddef.h>
#include "ztrace/limits.h"

/* Where the kubelet keeps one directory per pod on the node. */
#define ZT_K8S_PODS_DIR_DEFAULT "/var/log/pods"

/* A pod as its pods-directory entry names it. */
struct zt_pod_ref {
	char namespace[ZT_K8S_NAME_MAX + 1];
	char pod[ZT_K8S_NAME_MAX + 1];
	char uid[ZT_K8S_POD_UID_LEN + 1];
};

/*
 * The pod uid in a cgroup path or in the text of a /proc/PID/cgroup file: a component
 * "pod<uid>" (cgroupfs driver) or "...-pod<uid>.slice" (systemd driver, which writes the uid's
 * dashes as underscores). The innermost one wins. Writes the uid with dashes, lowercase, and a
 * NUL to out. Returns 0, -ENOENT when there is none, -ENOSPC when outlen is below
 * ZT_K8S_POD_UID_LEN + 1.
 */
int zt_cgroup_pod_uid(const char *cgroup, char *out, size_t outlen);

/*
 * Split a pods-directory entry name "<namespace>_<pod>_<uid>" (namespace and pod names have no
 * underscores; the uid is 36 characters with dashes). Returns 0 or -EINVAL.
 */
int zt_pods_dir_entry_parse(const char *name, struct zt_pod_ref *out);

/*
 * Find the entry of pod uid in pods_dir. Returns 0 with *out filled, -ENOENT when no entry has
 * that uid, or the -errno of opendir (e.g. -ENOENT when the directory does not exist).
 */
int zt_pods_dir_find(const char *pods_dir, const char *uid, struct zt_pod_ref *out);

#endif
