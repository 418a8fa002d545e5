/* SPDX-License-Identifier: MIT */
/* Test helper: BPF links and programs, as the kernel sees them. */
#include "bpfstate.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <linux/bpf.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define ZT_UPROBE_EVENTS "/sys/kernel/tracing/uprobe_events"
/* Longest fdinfo or uprobe_events line read. */
#define ZT_INFO_LINE_MAX 4096

static long sys_bpf(int cmd, union bpf_attr *attr)
{
	return syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

/* Appends @id to @v (@n entries) unless present. Returns 0 or -ENOMEM. */
static int add_id(unsigned int **v, size_t *n, unsigned int id)
{
	unsigned int *grown;
	size_t i;

	for (i = 0; i < *n; i++)
		if ((*v)[i] == id)
			return 0;
	grown = realloc(*v, (*n + 1) * sizeof(**v));
	if (!grown)
		return -ENOMEM;
	grown[(*n)++] = id;
	*v = grown;
	return 0;
}

/* Adds the link and program ids of fdinfo file @path to @ids. Returns 0 or -errno. */
static int scan_fdinfo(const char *path, struct zt_bpf_ids *ids)
{
	char line[ZT_INFO_LINE_MAX];
	unsigned int id;
	int ret = 0;
	FILE *f;

	f = fopen(path, "re");
	if (!f)
		/* The fd was closed meanwhile: nothing to collect. */
		return errno == ENOENT ? 0 : -errno;
	while (!ret && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "link_id: %u", &id) == 1)
			ret = add_id(&ids->links, &ids->n_links, id);
		else if (sscanf(line, "prog_id: %u", &id) == 1)
			ret = add_id(&ids->progs, &ids->n_progs, id);
		else if (sscanf(line, "map_id: %u", &id) == 1)
			ret = add_id(&ids->maps, &ids->n_maps, id);
	}
	fclose(f);
	return ret;
}

int zt_fdinfo_bpf_ids(pid_t pid, struct zt_bpf_ids *ids)
{
	char dir[64], path[PATH_MAX];
	struct dirent *de;
	int ret = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/fdinfo", (int)pid);
	d = opendir(dir);
	if (!d)
		return -errno;
	while (!ret && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		ret = scan_fdinfo(path, ids);
	}
	closedir(d);
	return ret;
}

void zt_bpf_ids_free(struct zt_bpf_ids *ids)
{
	free(ids->links);
	free(ids->progs);
	free(ids->maps);
	memset(ids, 0, sizeof(*ids));
}

/* Opens object @id with @cmd (a *_GET_FD_BY_ID). Returns 1 if it exists, 0 if not, -errno. */
static int object_exists(int cmd, unsigned int id)
{
	union bpf_attr attr;
	long fd;

	memset(&attr, 0, sizeof(attr));
	if (cmd == BPF_LINK_GET_FD_BY_ID)
		attr.link_id = id;
	else
		attr.prog_id = id;
	fd = sys_bpf(cmd, &attr);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	close(fd);
	return 1;
}

int zt_bpf_link_exists(unsigned int id)
{
	return object_exists(BPF_LINK_GET_FD_BY_ID, id);
}

int zt_bpf_prog_exists(unsigned int id)
{
	return object_exists(BPF_PROG_GET_FD_BY_ID, id);
}

/*
 * Appends the keys of map @fd (4-byte keys) to @keys[*@n..@max). Returns 0, -E2BIG past @max, or
 * -errno.
 */
static int map_u32_keys(int fd, unsigned int *keys, size_t max, size_t *n)
{
	union bpf_attr attr;
	unsigned int key, next;
	bool first = true;

	for (;;) {
		memset(&attr, 0, sizeof(attr));
		attr.map_fd = fd;
		attr.key = first ? 0 : (uint64_t)(uintptr_t)&key;
		attr.next_key = (uint64_t)(uintptr_t)&next;
		if (sys_bpf(BPF_MAP_GET_NEXT_KEY, &attr))
			return errno == ENOENT ? 0 : -errno;
		if (*n == max)
			return -E2BIG;
		keys[(*n)++] = next;
		key = next;
		first = false;
	}
}

int zt_bpf_map_u32_keys(pid_t pid, const char *name, unsigned int *keys, size_t max, size_t *n)
{
	struct zt_bpf_ids ids = {0};
	bool found = false;
	int ret;

	*n = 0;
	ret = zt_fdinfo_bpf_ids(pid, &ids);
	for (size_t i = 0; !ret && i < ids.n_maps; i++) {
		struct bpf_map_info info;
		union bpf_attr attr;
		int fd;

		memset(&attr, 0, sizeof(attr));
		attr.map_id = ids.maps[i];
		fd = sys_bpf(BPF_MAP_GET_FD_BY_ID, &attr);
		if (fd < 0) {
			/* closed meanwhile: not one of the maps asked about any more */
			ret = errno == ENOENT ? 0 : -errno;
			continue;
		}
		memset(&info, 0, sizeof(info));
		memset(&attr, 0, sizeof(attr));
		attr.info.bpf_fd = fd;
		attr.info.info_len = sizeof(info);
		attr.info.info = (uint64_t)(uintptr_t)&info;
		if (sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &attr)) {
			ret = -errno;
		} else if (!strcmp(info.name, name)) {
			found = true;
			ret = info.key_size == sizeof(unsigned int) ? map_u32_keys(fd, keys, max, n)
								    : -EINVAL;
		}
		close(fd);
	}
	zt_bpf_ids_free(&ids);
	return ret ? ret : found ? 0 : -ENOENT;
}

int zt_uprobe_events_count(const char *needle, size_t *count)
{
	char line[ZT_INFO_LINE_MAX];
	FILE *f;

	*count = 0;
	f = fopen(ZT_UPROBE_EVENTS, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		*count += !needle || strstr(line, needle);
	fclose(f);
	return 0;
}
