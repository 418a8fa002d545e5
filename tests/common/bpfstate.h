/* SPDX-License-Identifier: MIT */
/*
 * Test helper: what BPF objects a process holds and which still exist, straight from the
 * kernel (bpf() syscall and /proc/PID/fdinfo), to check that a killed tracer leaves nothing
 * attached. Dependency-free C.
 */
#ifndef ZT_TEST_BPFSTATE_H
#define ZT_TEST_BPFSTATE_H

#include <stddef.h>
#include <sys/types.h>

/* BPF objects held through a process's file descriptors. */
struct zt_bpf_ids {
	unsigned int *links; /* link ids ("link_id:" in fdinfo) */
	size_t n_links;
	unsigned int *progs; /* program ids ("prog_id:", of program fds and of links) */
	size_t n_progs;
	unsigned int *maps; /* map ids ("map_id:", of map fds) */
	size_t n_maps;
};

/*
 * Collects the ids of the BPF links and programs @pid has open into @ids (zero it first; free
 * with zt_bpf_ids_free()). Returns 0 or -errno.
 */
int zt_fdinfo_bpf_ids(pid_t pid, struct zt_bpf_ids *ids);

void zt_bpf_ids_free(struct zt_bpf_ids *ids);

/* Returns 1 when the BPF link with @id exists, 0 when it does not, or -errno. */
int zt_bpf_link_exists(unsigned int id);

/* Returns 1 when the BPF program with @id exists, 0 when it does not, or -errno. */
int zt_bpf_prog_exists(unsigned int id);

/*
 * Collects into @keys (room for @max) the 4-byte keys of every BPF map named @name that @pid
 * holds open, e.g. the tids in a tracer's per-thread map; *@n is set to their count. Returns 0,
 * -ENOENT when @pid holds no map of that name, -EINVAL when its keys are not 4 bytes, -E2BIG
 * past @max, or -errno.
 */
int zt_bpf_map_u32_keys(pid_t pid, const char *name, unsigned int *keys, size_t max, size_t *n);

/*
 * Counts the lines of /sys/kernel/tracing/uprobe_events (uprobes created through tracefs)
 * that contain @needle (all lines when NULL) into *@count. Returns 0, -ENOENT when tracefs
 * is not mounted, or -errno.
 */
int zt_uprobe_events_count(const char *needle, size_t *count);

#endif
