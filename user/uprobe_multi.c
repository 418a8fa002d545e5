// SPDX-License-Identifier: MIT
#include <errno.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <linux/bpf.h>
#include "uprobe_multi.h"

/* BPF_F_UPROBE_MULTI_RETURN */
#define ZT_UPROBE_MULTI_RETURN 1u

/* The LINK_CREATE part of union bpf_attr for uprobe_multi, as laid out since Linux 6.6. */
struct zt_uprobe_multi_attr {
	uint32_t prog_fd;
	uint32_t target_fd;
	uint32_t attach_type;
	uint32_t flags;
	uint64_t path;
	uint64_t offsets;
	uint64_t ref_ctr_offsets;
	uint64_t cookies;
	uint32_t cnt;
	uint32_t uprobe_flags;
	uint32_t pid;
	uint32_t pad;
};

bool zt_uprobe_multi_supported(void)
{
	static int cached = -1;
	const struct bpf_insn insns[] = {
	    {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0},
	    {.code = BPF_JMP | BPF_EXIT},
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = ZT_BPF_TRACE_UPROBE_MULTI);
	int fd;

	if (cached >= 0)
		return cached;
	/* Kernels before 6.6 load the program (they ignore the attach type of kprobe programs),
	 * so ask for a link too: on "/" a kernel that has them answers EBADF (not a regular
	 * file), one that does not EINVAL (unknown attach type). */
	cached = 0;
	fd = bpf_prog_load(BPF_PROG_TYPE_KPROBE, "zt_probe_multi", "GPL", insns, 2, &opts);
	if (fd >= 0) {
		uint64_t offset = 0, cookie = 0;
		int link = zt_uprobe_multi_attach(fd, "/", &offset, &cookie, 1, false, 0);

		cached = link == -EBADF;
		if (link >= 0) {
			cached = 1;
			close(link);
		}
		close(fd);
	}
	return cached;
}

int zt_uprobe_multi_attach(int prog_fd, const char *path, const uint64_t *offsets,
			   const uint64_t *cookies, uint32_t cnt, bool retprobe, int pid)
{
	struct zt_uprobe_multi_attr attr;
	int fd;

	memset(&attr, 0, sizeof(attr));
	attr.prog_fd = (uint32_t)prog_fd;
	attr.attach_type = ZT_BPF_TRACE_UPROBE_MULTI;
	attr.path = (uint64_t)(uintptr_t)path;
	attr.offsets = (uint64_t)(uintptr_t)offsets;
	attr.cookies = (uint64_t)(uintptr_t)cookies;
	attr.cnt = cnt;
	attr.uprobe_flags = retprobe ? ZT_UPROBE_MULTI_RETURN : 0;
	attr.pid = pid > 0 ? (uint32_t)pid : 0;
	fd = (int)syscall(__NR_bpf, BPF_LINK_CREATE, &attr, sizeof(attr));
	return fd < 0 ? -errno : fd;
}
