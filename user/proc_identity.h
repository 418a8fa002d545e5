/* SPDX-License-Identifier: MIT */
/*
 * What the agent's rules select a process by (struct zt_proc_identity), read from /proc:
 * executable, name, cgroup, container and Kubernetes pod. A process in another mount namespace
 * (a container) sees its executable at one path and the host at another: both are kept, so a
 * rule may give either. scripts/deploy/README.md ("Where a process's identity comes from").
 */
#ifndef ZTRACE_PROC_IDENTITY_H
#define ZTRACE_PROC_IDENTITY_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include "agent_config.h"
#include "k8s_pod.h"
#include "ztrace/limits.h"

/* An identity and the buffers its strings live in. */
struct zt_proc_ident {
	struct zt_proc_identity id;
	/* the executable as the process sees it: what its probes are resolved by (through
	 * /proc/PID/root) and what spans name; the same as id.exe outside containers */
	const char *seen_exe;
	char exe[PATH_MAX], exe_in_ns[PATH_MAX];
	char comm[ZT_COMM_LEN + 1], cgroup[PATH_MAX];
	char container[ZT_CONTAINER_ID_LEN + 1];
	struct zt_pod_ref pod;
};

/*
 * Read pid's identity into out, looking the pod's namespace and name up in pods_dir (the
 * kubelet's /var/log/pods). Returns 0, or -ENOENT when pid is gone or is a kernel thread
 * (no executable). What cannot be read (cgroup, pod directory) is left unknown (NULL).
 */
int zt_proc_identity_read(uint32_t pid, const char *pods_dir, struct zt_proc_ident *out);

/* One line of a /proc/PID/mountinfo file, its paths unescaped ("\040" is a space). */
struct zt_mount {
	unsigned major, minor; /* the device of the mounted file system */
	char *root;	       /* the directory of that file system mounted here ("/" for all) */
	char *mount_point;     /* where, in the mount namespace of the file */
};

/*
 * Parse one mountinfo line (no newline) in place: m's strings point into line. Returns 0 or
 * -EINVAL for a malformed line.
 */
int zt_mountinfo_parse_line(char *line, struct zt_mount *m);

/*
 * Where path (absolute, in the mount namespace mountinfo describes) lives: the device of the
 * mount that holds it (the innermost mount point, the last mounted when several share it) and
 * its path inside that file system (the mount's root joined with the rest of path) into
 * fs_path. Returns 0, -ENOENT when no mount holds it, -ENAMETOOLONG.
 */
int zt_mountinfo_fs_path(const char *mountinfo, const char *path, unsigned *major, unsigned *minor,
			 char *fs_path, size_t fs_len);

/*
 * The paths under which another mount namespace (mountinfo) reaches fs_path of device
 * major:minor: for each mount of that device whose root holds fs_path, its mount point joined
 * with the rest, in file order, until accept(candidate, arg) returns true. Copies the accepted
 * path to out. Returns 0, -ENOENT when none is accepted, -ENAMETOOLONG.
 */
int zt_mountinfo_reach(const char *mountinfo, unsigned major, unsigned minor, const char *fs_path,
		       bool (*accept)(const char *path, void *arg), void *arg, char *out,
		       size_t outlen);

#endif
