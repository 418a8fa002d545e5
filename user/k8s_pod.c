// SPDX-License-Identifier: MIT
/* Pod uid from a cgroup path, namespace and pod name from the kubelet's pods directory. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>
#include "k8s_pod.h"

/*
 * Whether [s, s + len) is a UUID as a pod uid is written: 8-4-4-4-12 hex digits, the groups
 * joined by '-' (or by '_', as the systemd cgroup driver writes them: '-' is its separator).
 */
static bool is_pod_uid(const char *s, size_t len)
{
	if (len != ZT_K8S_POD_UID_LEN)
		return false;
	for (size_t i = 0; i < len; i++) {
		bool sep = i == 8 || i == 13 || i == 18 || i == 23;

		if (sep ? s[i] != '-' && s[i] != '_' : !isxdigit((unsigned char)s[i]))
			return false;
	}
	return true;
}

/* If the cgroup path component [seg, seg + len) names a pod, where its uid starts. */
static const char *segment_pod_uid(const char *seg, size_t len)
{
	static const char slice[] = ".slice";
	const size_t slice_len = sizeof(slice) - 1;
	const char *uid;

	if (len > slice_len && !memcmp(seg + len - slice_len, slice, slice_len))
		len -= slice_len;
	if (len < ZT_K8S_POD_UID_LEN + 3)
		return NULL;
	/* the uid ends the component: "pod<uid>" or "kubepods-<qos>-pod<uid>" */
	uid = seg + len - ZT_K8S_POD_UID_LEN;
	if (memcmp(uid - 3, "pod", 3) || !is_pod_uid(uid, ZT_K8S_POD_UID_LEN))
		return NULL;
	if (uid - 3 != seg && uid[-4] != '-')
		return NULL;
	return uid;
}

int zt_cgroup_pod_uid(const char *cgroup, char *out, size_t outlen)
{
	const char *p = cgroup, *found = NULL;

	if (outlen < ZT_K8S_POD_UID_LEN + 1)
		return -ENOSPC;
	/* components end at '/' or at the end of a line of a /proc/PID/cgroup file */
	while (*p) {
		size_t len = strcspn(p, "/\n");
		const char *uid = segment_pod_uid(p, len);

		if (uid)
			found = uid;
		p += len;
		if (*p)
			p++;
	}
	if (!found)
		return -ENOENT;
	for (size_t i = 0; i < ZT_K8S_POD_UID_LEN; i++)
		out[i] = found[i] == '_' ? '-' : (char)tolower((unsigned char)found[i]);
	out[ZT_K8S_POD_UID_LEN] = '\0';
	return 0;
}

int zt_pods_dir_entry_parse(const char *name, struct zt_pod_ref *out)
{
	const char *first = strchr(name, '_'), *last = strrchr(name, '_');
	size_t ns_len, pod_len;

	if (!first || first == last)
		return -EINVAL;
	ns_len = (size_t)(first - name);
	pod_len = (size_t)(last - first - 1);
	if (!ns_len || ns_len > ZT_K8S_NAME_MAX || !pod_len || pod_len > ZT_K8S_NAME_MAX ||
	    !is_pod_uid(last + 1, strlen(last + 1)))
		return -EINVAL;
	memcpy(out->namespace, name, ns_len);
	out->namespace[ns_len] = '\0';
	memcpy(out->pod, first + 1, pod_len);
	out->pod[pod_len] = '\0';
	memcpy(out->uid, last + 1, ZT_K8S_POD_UID_LEN + 1);
	return 0;
}

int zt_pods_dir_find(const char *pods_dir, const char *uid, struct zt_pod_ref *out)
{
	DIR *d = opendir(pods_dir);
	struct dirent *e;
	int ret = -ENOENT;

	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		struct zt_pod_ref ref;

		if (zt_pods_dir_entry_parse(e->d_name, &ref) || strcasecmp(ref.uid, uid))
			continue;
		*out = ref;
		ret = 0;
		break;
	}
	closedir(d);
	return ret;
}
