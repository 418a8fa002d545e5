// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the pure parsers behind a process's identity (k8s_pod.c, proc_identity.c):
 * the pod uid in a cgroup path, a pods-directory entry name, mountinfo lines, and the two
 * mountinfo walks that map an executable's path from one mount namespace to another.
 *
 * Input: a first line PATH (taken as a cgroup path, a pods-directory entry name and a path in
 * the mount namespace), then the text of a /proc/PID/mountinfo file. The whole input is also
 * read as a /proc/PID/cgroup file. Output buffers are allocated at their exact size, so a
 * write past one is an AddressSanitizer report; their sizes come from the last input byte.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fuzz_util.h"
#include "k8s_pod.h"
#include "proc_identity.h"

/* Candidates a reach walk is offered before it accepts one (0: accept the first). */
struct accept_nth {
	unsigned left, offered;
};

static bool accept_nth(const char *path, void *arg)
{
	struct accept_nth *a = arg;

	ZT_FUZZ_CHECK(path[0] != '\0');
	a->offered++;
	if (!a->left)
		return true;
	a->left--;
	return false;
}

static void check_uid(const char *uid)
{
	ZT_FUZZ_CHECK(strlen(uid) == ZT_K8S_POD_UID_LEN);
	for (size_t i = 0; i < ZT_K8S_POD_UID_LEN; i++) {
		bool sep = i == 8 || i == 13 || i == 18 || i == 23;

		ZT_FUZZ_CHECK(sep ? uid[i] == '-'
				  : isxdigit((unsigned char)uid[i]) &&
					!isupper((unsigned char)uid[i]));
	}
}

static void check_cgroup(const char *text)
{
	char *uid = malloc(ZT_K8S_POD_UID_LEN + 1), small[ZT_K8S_POD_UID_LEN];
	int ret = zt_cgroup_pod_uid(text, uid, ZT_K8S_POD_UID_LEN + 1);

	ZT_FUZZ_CHECK(ret == 0 || ret == -ENOENT);
	if (!ret)
		check_uid(uid);
	ZT_FUZZ_CHECK(zt_cgroup_pod_uid(text, small, sizeof(small)) == -ENOSPC);
	free(uid);
}

static void check_entry(const char *name)
{
	struct zt_pod_ref ref;
	char joined[3 * sizeof(ref)];

	if (zt_pods_dir_entry_parse(name, &ref))
		return;
	ZT_FUZZ_CHECK(ref.namespace[0] && ref.pod[0] && !strchr(ref.namespace, '_'));
	ZT_FUZZ_CHECK(strlen(ref.uid) == ZT_K8S_POD_UID_LEN && !strchr(ref.uid, '_'));
	/* the three parts are the name's, in order */
	snprintf(joined, sizeof(joined), "%s_%s_%s", ref.namespace, ref.pod, ref.uid);
	ZT_FUZZ_CHECK(!strcmp(joined, name));
}

/* Each line of mountinfo alone: what parses points into the line and is absolute. */
static void check_lines(const char *mountinfo)
{
	char *text = strdup(mountinfo), *line, *save = NULL;

	if (!text)
		abort();
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		size_t len = strlen(line);
		struct zt_mount m;

		if (zt_mountinfo_parse_line(line, &m))
			continue;
		ZT_FUZZ_CHECK(m.root >= line && m.root < line + len && m.root[0] == '/');
		ZT_FUZZ_CHECK(m.mount_point > m.root && m.mount_point < line + len &&
			      m.mount_point[0] == '/');
	}
	free(text);
}

static void check_mounts(const char *mountinfo, const char *path, uint8_t sizes)
{
	/* from 1 byte up, or PATH_MAX */
	size_t fs_len = sizes & 0x80 ? PATH_MAX : (size_t)(sizes & 0x3f) + 1;
	char *fs_path = malloc(fs_len), *out = malloc(fs_len);
	struct accept_nth any = {0}, nth = {sizes >> 6 & 1 ? 1 : 0, 0};
	unsigned major = 0, minor = 0;
	int ret;

	if (!fs_path || !out)
		abort();
	ret = zt_mountinfo_fs_path(mountinfo, path, &major, &minor, fs_path, fs_len);
	ZT_FUZZ_CHECK(ret == 0 || ret == -ENOENT || ret == -ENAMETOOLONG);
	if (!ret) {
		ZT_FUZZ_CHECK(strlen(fs_path) < fs_len);
		ret = zt_mountinfo_reach(mountinfo, major, minor, fs_path, accept_nth, &any, out,
					 fs_len);
		/* the mount that holds path reaches it back, if no earlier one is too long */
		if (path[0] == '/')
			ZT_FUZZ_CHECK(ret == 0 || ret == -ENAMETOOLONG);
		if (!ret)
			ZT_FUZZ_CHECK(strlen(out) < fs_len && any.offered >= 1);
		ret = zt_mountinfo_reach(mountinfo, major, minor, fs_path, accept_nth, &nth, out,
					 fs_len);
		ZT_FUZZ_CHECK(ret == 0 || ret == -ENOENT || ret == -ENAMETOOLONG);
	}
	free(fs_path);
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = zt_fuzz_strdup(data, size);
	char *nl = strchr(text, '\n');
	const char *mountinfo = nl ? nl + 1 : "";

	check_cgroup(text);
	if (nl)
		*nl = '\0';
	check_cgroup(text);
	check_entry(text);
	check_lines(mountinfo);
	check_mounts(mountinfo, text, size ? data[size - 1] : 0);
	free(text);
	return 0;
}
