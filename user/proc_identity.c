// SPDX-License-Identifier: MIT
/* A process's identity for rule matching, read from /proc; see proc_identity.h. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "proc_identity.h"
#include "procinfo.h"

/*
 * The host's mount namespace is that of pid 1 (with hostPID, also from inside the agent's
 * pod); where pid 1 is out of reach (no CAP_SYS_PTRACE over it), the agent's own stands in.
 */
#define HOST_PROC    "/proc/1"
#define SELF_PROC    "/proc/self"
#define REF_ROOT_LEN sizeof(HOST_PROC "/root")

/* Turn mountinfo's octal escapes ("\040" for a space) back into their characters, in place. */
static void unescape(char *s)
{
	char *out = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*out++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0'));
			s += 3;
		} else {
			*out++ = *s;
		}
	}
	*out = '\0';
}

int zt_mountinfo_parse_line(char *line, struct zt_mount *m)
{
	char *save = NULL, *field[5];

	/* "ID PARENT MAJOR:MINOR ROOT MOUNT_POINT OPTIONS ... - FSTYPE SOURCE SUPER_OPTIONS" */
	for (int i = 0; i < 5; i++) {
		field[i] = strtok_r(i ? NULL : line, " ", &save);
		if (!field[i])
			return -EINVAL;
	}
	if (sscanf(field[2], "%u:%u", &m->major, &m->minor) != 2 || field[3][0] != '/' ||
	    field[4][0] != '/')
		return -EINVAL;
	unescape(field[3]);
	unescape(field[4]);
	m->root = field[3];
	m->mount_point = field[4];
	return 0;
}

/* The rest of path below directory base ("" for base itself), or NULL when it is not below. */
static const char *path_below(const char *base, const char *path)
{
	size_t len = strlen(base);

	if (!strcmp(base, "/"))
		return path;
	if (strncmp(path, base, len) || (path[len] && path[len] != '/'))
		return NULL;
	return path + len;
}

/* dir joined with rest (a path below it, "" or "/..."). Returns 0 or -ENAMETOOLONG. */
static int join(char *out, size_t len, const char *dir, const char *rest)
{
	int n;

	if (!strcmp(dir, "/") && *rest)
		dir = "";
	n = snprintf(out, len, "%s%s", dir, rest);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int zt_mountinfo_fs_path(const char *mountinfo, const char *path, unsigned *major, unsigned *minor,
			 char *fs_path, size_t fs_len)
{
	char *text = strdup(mountinfo), *line, *save = NULL;
	size_t best = 0;
	int ret = -ENOENT;

	if (!text)
		return -ENOMEM;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct zt_mount m;
		const char *rest;
		size_t len;

		if (zt_mountinfo_parse_line(line, &m))
			continue;
		rest = path_below(m.mount_point, path);
		len = strlen(m.mount_point);
		/* '>=': a later mount on the same point hides the earlier one */
		if (!rest || (ret != -ENOENT && len < best))
			continue;
		best = len;
		*major = m.major;
		*minor = m.minor;
		ret = join(fs_path, fs_len, m.root, rest);
	}
	free(text);
	return ret;
}

int zt_mountinfo_reach(const char *mountinfo, unsigned major, unsigned minor, const char *fs_path,
		       bool (*accept)(const char *path, void *arg), void *arg, char *out,
		       size_t outlen)
{
	char *text = strdup(mountinfo), *line, *save = NULL;
	int ret = -ENOENT;

	if (!text)
		return -ENOMEM;
	for (line = strtok_r(text, "\n", &save); line && ret == -ENOENT;
	     line = strtok_r(NULL, "\n", &save)) {
		struct zt_mount m;
		const char *rest;

		if (zt_mountinfo_parse_line(line, &m) || m.major != major || m.minor != minor)
			continue;
		rest = path_below(m.root, fs_path);
		if (!rest)
			continue;
		ret = join(out, outlen, m.mount_point, rest);
		if (!ret && !accept(out, arg))
			ret = -ENOENT;
	}
	free(text);
	return ret;
}

/* The file a candidate host path must be (the process's executable), and where to look. */
struct same_file {
	const char *host; /* HOST_PROC or SELF_PROC */
	dev_t dev;
	ino_t ino;
};

/* Whether path, in the host's mount namespace, is the file f. */
static bool host_path_is(const char *path, void *arg)
{
	const struct same_file *f = arg;
	char host[PATH_MAX + REF_ROOT_LEN];
	struct stat st;

	snprintf(host, sizeof(host), "%s/root%s", f->host, path);
	return stat(host, &st) == 0 && st.st_dev == f->dev && st.st_ino == f->ino;
}

/* Whether pid shares the mount namespace of host (HOST_PROC or SELF_PROC). */
static bool same_mount_ns(uint32_t pid, const char *host)
{
	char path[64], ns[64], host_ns[64];
	ssize_t n, m;

	snprintf(path, sizeof(path), "/proc/%u/ns/mnt", pid);
	n = readlink(path, ns, sizeof(ns) - 1);
	snprintf(path, sizeof(path), "%s/ns/mnt", host);
	m = readlink(path, host_ns, sizeof(host_ns) - 1);
	/* unknown (no permission): take the path as the process sees it */
	return n <= 0 || m <= 0 || (n == m && !memcmp(ns, host_ns, (size_t)n));
}

/* HOST_PROC when its mount namespace can be read, else SELF_PROC. */
static const char *host_proc(void)
{
	char ns[64];

	return readlink(HOST_PROC "/ns/mnt", ns, sizeof(ns)) > 0 ? HOST_PROC : SELF_PROC;
}

/*
 * out->exe_in_ns holds the executable's path in pid's mount namespace: find the same file in
 * the host's, through the mount that holds it there. 0 when found, else -errno.
 */
static int find_host_exe(uint32_t pid, const char *host, struct zt_proc_ident *out)
{
	char path[64], fs_path[PATH_MAX], *ns_info = NULL, *host_info = NULL;
	struct same_file f;
	unsigned major, minor;
	struct stat st;
	size_t len;
	int ret;

	snprintf(path, sizeof(path), "/proc/%u/exe", pid);
	if (stat(path, &st))
		return -errno;
	f = (struct same_file){.host = host, .dev = st.st_dev, .ino = st.st_ino};
	/* the common case: the image's file is at the same path on the host */
	if (host_path_is(out->exe_in_ns, &f)) {
		snprintf(out->exe, sizeof(out->exe), "%s", out->exe_in_ns);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/%u/mountinfo", pid);
	ret = zt_read_proc_file(path, ZT_PROC_FILE_MAX, &ns_info, &len);
	snprintf(path, sizeof(path), "%s/mountinfo", host);
	if (!ret)
		ret = zt_read_proc_file(path, ZT_PROC_FILE_MAX, &host_info, &len);
	if (!ret)
		ret = zt_mountinfo_fs_path(ns_info, out->exe_in_ns, &major, &minor, fs_path,
					   sizeof(fs_path));
	if (!ret)
		ret = zt_mountinfo_reach(host_info, major, minor, fs_path, host_path_is, &f,
					 out->exe, sizeof(out->exe));
	free(ns_info);
	free(host_info);
	return ret;
}

/* The first line of a small /proc file (comm) without its newline, or "" . */
static void read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");

	buf[0] = '\0';
	if (!f)
		return;
	if (fgets(buf, (int)len, f))
		buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

/* The cgroup v2 path ("0::PATH" line) of a /proc/PID/cgroup text into out, or "". */
static void unified_cgroup(const char *text, char *out, size_t len)
{
	const char *line = text;

	out[0] = '\0';
	while (line && *line) {
		if (!strncmp(line, "0::", 3)) {
			snprintf(out, len, "%.*s", (int)strcspn(line + 3, "\n"), line + 3);
			return;
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
}

/* Container id, cgroup path and pod from /proc/PID/cgroup and the pods directory. */
static void read_cgroup(uint32_t pid, const char *pods_dir, struct zt_proc_ident *out)
{
	char path[64], uid[ZT_K8S_POD_UID_LEN + 1], *text = NULL;
	size_t len;

	snprintf(path, sizeof(path), "/proc/%u/cgroup", pid);
	if (zt_read_proc_file(path, ZT_PROC_FILE_MAX, &text, &len))
		return;
	unified_cgroup(text, out->cgroup, sizeof(out->cgroup));
	if (out->cgroup[0])
		out->id.cgroup = out->cgroup;
	if (!zt_cgroup_container_id(text, out->container, sizeof(out->container)))
		out->id.container_id = out->container;
	if (!zt_cgroup_pod_uid(text, uid, sizeof(uid)) && pods_dir &&
	    !zt_pods_dir_find(pods_dir, uid, &out->pod)) {
		out->id.k8s_namespace = out->pod.namespace;
		out->id.k8s_pod = out->pod.pod;
	}
	free(text);
}

int zt_proc_identity_read(uint32_t pid, const char *pods_dir, struct zt_proc_ident *out)
{
	const char *host = host_proc();
	char path[64];
	ssize_t n;

	memset(out, 0, sizeof(*out));
	snprintf(path, sizeof(path), "/proc/%u/exe", pid);
	/* readlink names the file as the process's own mount namespace has it */
	n = readlink(path, out->exe_in_ns, sizeof(out->exe_in_ns) - 1);
	if (n <= 0)
		return -ENOENT; /* gone, or a kernel thread */
	out->exe_in_ns[n] = '\0';
	out->seen_exe = out->exe_in_ns;
	out->id.exe = out->exe;
	if (same_mount_ns(pid, host) || find_host_exe(pid, host, out) ||
	    !strcmp(out->exe, out->exe_in_ns))
		snprintf(out->exe, sizeof(out->exe), "%s", out->exe_in_ns);
	else
		out->id.exe_in_ns = out->exe_in_ns;
	snprintf(path, sizeof(path), "/proc/%u/comm", pid);
	read_line(path, out->comm, sizeof(out->comm));
	out->id.comm = out->comm;
	read_cgroup(pid, pods_dir, out);
	/* pod labels live in the API server, which the agent does not ask: see scripts/deploy */
	return 0;
}
