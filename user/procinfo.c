// SPDX-License-Identifier: MIT
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "k8s_pod.h"
#include "procinfo.h"

/* Systemd scope prefixes that container runtimes put in front of the container id. */
static const char *const scope_prefixes[] = {
    "docker-", "cri-containerd-", "crio-", "libpod-", "containerd-",
};

int zt_read_proc_file(const char *path, size_t max, char **out, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = NULL, *tmp;
	ssize_t r;
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	buf = malloc(cap + 1);
	if (!buf) {
		err = -ENOMEM;
		goto out;
	}
	while (n < max) {
		if (n == cap) {
			cap = cap * 2 > max ? max : cap * 2;
			tmp = realloc(buf, cap + 1);
			if (!tmp) {
				err = -ENOMEM;
				goto out;
			}
			buf = tmp;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			goto out;
		}
		if (r == 0)
			break;
		n += r;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	buf = NULL;
out:
	free(buf);
	close(fd);
	return err;
}

static bool is_hex_id(const char *s, size_t len)
{
	if (len != ZT_CONTAINER_ID_LEN)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

/* If the path segment [seg, seg+len) names a container, return where its id starts. */
static const char *segment_container_id(const char *seg, size_t len)
{
	static const char scope_suffix[] = ".scope";
	const size_t suffix_len = sizeof(scope_suffix) - 1;

	if (is_hex_id(seg, len))
		return seg;
	if (len <= suffix_len || memcmp(seg + len - suffix_len, scope_suffix, suffix_len))
		return NULL;
	len -= suffix_len;
	for (size_t i = 0; i < sizeof(scope_prefixes) / sizeof(scope_prefixes[0]); i++) {
		size_t plen = strlen(scope_prefixes[i]);

		if (len > plen && !memcmp(seg, scope_prefixes[i], plen) &&
		    is_hex_id(seg + plen, len - plen))
			return seg + plen;
	}
	return NULL;
}

int zt_cgroup_container_id(const char *text, char *out, size_t outlen)
{
	const char *line = text, *found = NULL;

	if (outlen < ZT_CONTAINER_ID_LEN + 1)
		return -ENOSPC;
	/* Lines are "hierarchy-id:controllers:path"; cgroup v1 lists one per controller, all
	 * naming the same container, so the first line with an id answers. */
	while (line && *line && !found) {
		const char *eol = strchr(line, '\n');
		const char *end = eol ? eol : line + strlen(line);
		const char *path = memchr(line, ':', end - line);

		if (path)
			path = memchr(path + 1, ':', end - path - 1);
		if (path) {
			const char *seg = path + 1;

			/* Nested cgroups (a pod slice holding a container scope) put the
			 * container innermost: keep the last match. */
			while (seg < end) {
				const char *slash = memchr(seg, '/', end - seg);
				const char *seg_end = slash ? slash : end;
				const char *id = segment_container_id(seg, seg_end - seg);

				if (id)
					found = id;
				seg = seg_end + 1;
			}
		}
		line = eol ? eol + 1 : NULL;
	}
	if (!found)
		return -ENOENT;
	for (size_t i = 0; i < ZT_CONTAINER_ID_LEN; i++)
		out[i] = tolower((unsigned char)found[i]);
	out[ZT_CONTAINER_ID_LEN] = '\0';
	return 0;
}

int zt_proc_stat_parse(const char *text, char comm[ZT_COMM_LEN], uint64_t *start_time)
{
	const char *open = strchr(text, '('), *close = strrchr(text, ')'), *p;
	size_t len;

	if (!open || !close || close < open)
		return -EINVAL;
	len = close - open - 1;
	if (len > ZT_COMM_LEN - 1)
		len = ZT_COMM_LEN - 1;
	memcpy(comm, open + 1, len);
	comm[len] = '\0';

	/* Field 3 (state) follows ") "; starttime is field 22, 19 fields further on. */
	p = close + 1;
	for (int field = 3; field <= 22; field++) {
		while (*p == ' ')
			p++;
		if (!*p)
			return -EINVAL;
		if (field == 22) {
			char *end;

			errno = 0;
			*start_time = strtoull(p, &end, 10);
			if (errno || end == p)
				return -EINVAL;
			return 0;
		}
		while (*p && *p != ' ')
			p++;
	}
	return -EINVAL;
}

const char *zt_environ_get(const char *env, size_t len, const char *name, size_t *value_len)
{
	size_t nlen = strlen(name), i = 0;

	while (i < len) {
		const char *entry = env + i;
		const char *nul = memchr(entry, '\0', len - i);
		size_t elen = nul ? (size_t)(nul - entry) : len - i;

		if (elen > nlen && !memcmp(entry, name, nlen) && entry[nlen] == '=') {
			*value_len = elen - nlen - 1;
			return entry + nlen + 1;
		}
		i += elen + 1;
	}
	return NULL;
}

/* Build "ROOT/PID/NAME". */
static void proc_path(char *buf, size_t len, const char *root, int pid, const char *name)
{
	snprintf(buf, len, "%s/%d/%s", root, pid, name);
}

/* The arguments of a NUL-separated cmdline joined by spaces; NULL for an empty one. */
static char *join_cmdline(char *raw, size_t len)
{
	while (len && raw[len - 1] == '\0')
		len--;
	if (!len)
		return NULL;
	for (size_t i = 0; i < len; i++)
		if (raw[i] == '\0')
			raw[i] = ' ';
	raw[len] = '\0';
	return strdup(raw);
}

/* Read the target's environment for the two OTEL_ variables that describe it. */
static int read_environ(const char *root, int pid, struct zt_process_info *out)
{
	char path[PATH_MAX], *env = NULL;
	const char *v;
	size_t len, vlen;
	int err;

	proc_path(path, sizeof(path), root, pid, "environ");
	err = zt_read_proc_file(path, ZT_PROC_FILE_MAX, &env, &len);
	if (err)
		return err;
	v = zt_environ_get(env, len, "OTEL_SERVICE_NAME", &vlen);
	if (v && vlen) {
		out->service_name = strndup(v, vlen);
		if (!out->service_name) {
			err = -ENOMEM;
			goto out;
		}
		out->service_name_from_env = true;
	}
	v = zt_environ_get(env, len, "OTEL_RESOURCE_ATTRIBUTES", &vlen);
	if (v && vlen) {
		out->resource_attrs = strndup(v, vlen);
		if (!out->resource_attrs)
			err = -ENOMEM;
	}
out:
	free(env);
	return err;
}

int zt_procinfo_read_at(const char *root, int pid, struct zt_process_info *out)
{
	char path[PATH_MAX], exe[PATH_MAX], *text = NULL;
	char id[ZT_CONTAINER_ID_LEN + 1], uid[ZT_K8S_POD_UID_LEN + 1];
	size_t len;
	ssize_t n;
	int err;

	memset(out, 0, sizeof(*out));
	out->pid = pid;
	proc_path(path, sizeof(path), root, pid, "stat");
	err = zt_read_proc_file(path, ZT_PROC_FILE_MAX, &text, &len);
	if (err)
		return err;
	err = zt_proc_stat_parse(text, out->comm, &out->start_time);
	free(text);
	text = NULL;
	if (err)
		return err;

	/* The rest is best effort: a process may exit, or hide its environment, meanwhile. */
	proc_path(path, sizeof(path), root, pid, "exe");
	n = readlink(path, exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		out->exe = strdup(exe);
		if (!out->exe)
			goto nomem;
	}
	proc_path(path, sizeof(path), root, pid, "cmdline");
	if (!zt_read_proc_file(path, ZT_PROC_FILE_MAX, &text, &len)) {
		out->cmdline = join_cmdline(text, len);
		free(text);
		text = NULL;
	}
	if (read_environ(root, pid, out) == -ENOMEM)
		goto nomem;
	if (!out->service_name) {
		const char *base = out->exe ? strrchr(out->exe, '/') : NULL;

		out->service_name = strdup(base ? base + 1 : out->exe ? out->exe : out->comm);
		if (!out->service_name)
			goto nomem;
	}
	proc_path(path, sizeof(path), root, pid, "cgroup");
	if (!zt_read_proc_file(path, ZT_PROC_FILE_MAX, &text, &len)) {
		if (!zt_cgroup_container_id(text, id, sizeof(id))) {
			out->container_id = strdup(id);
			if (!out->container_id)
				goto nomem;
		}
		if (!zt_cgroup_pod_uid(text, uid, sizeof(uid))) {
			out->k8s_pod_uid = strdup(uid);
			if (!out->k8s_pod_uid)
				goto nomem;
		}
	}
	free(text);
	return 0;
nomem:
	free(text);
	zt_procinfo_free(out);
	return -ENOMEM;
}

int zt_procinfo_read(int pid, struct zt_process_info *out)
{
	return zt_procinfo_read_at("/proc", pid, out);
}

int zt_procinfo_add_pod_names(struct zt_process_info *info, const char *pods_dir)
{
	struct zt_pod_ref pod;
	char *ns, *name;

	if (!info->k8s_pod_uid || !pods_dir || zt_pods_dir_find(pods_dir, info->k8s_pod_uid, &pod))
		return 0; /* not in a pod, or not one of this node's kubelet */
	ns = strdup(pod.namespace);
	name = strdup(pod.pod);
	if (!ns || !name) {
		free(ns);
		free(name);
		return -ENOMEM;
	}
	free(info->k8s_namespace);
	free(info->k8s_pod_name);
	info->k8s_namespace = ns;
	info->k8s_pod_name = name;
	return 0;
}

void zt_procinfo_free(struct zt_process_info *info)
{
	if (!info)
		return;
	free(info->exe);
	free(info->cmdline);
	free(info->service_name);
	free(info->container_id);
	free(info->k8s_pod_uid);
	free(info->k8s_namespace);
	free(info->k8s_pod_name);
	free(info->resource_attrs);
	memset(info, 0, sizeof(*info));
}

/* strdup that keeps NULL as NULL; sets *failed on allocation failure. */
static char *dup_or_null(const char *s, bool *failed)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*failed = true;
	return d;
}

int zt_procinfo_copy(struct zt_process_info *dst, const struct zt_process_info *src)
{
	bool failed = false;

	*dst = *src;
	dst->exe = dup_or_null(src->exe, &failed);
	dst->cmdline = dup_or_null(src->cmdline, &failed);
	dst->service_name = dup_or_null(src->service_name, &failed);
	dst->container_id = dup_or_null(src->container_id, &failed);
	dst->k8s_pod_uid = dup_or_null(src->k8s_pod_uid, &failed);
	dst->k8s_namespace = dup_or_null(src->k8s_namespace, &failed);
	dst->k8s_pod_name = dup_or_null(src->k8s_pod_name, &failed);
	dst->resource_attrs = dup_or_null(src->resource_attrs, &failed);
	if (failed) {
		zt_procinfo_free(dst);
		return -ENOMEM;
	}
	return 0;
}
