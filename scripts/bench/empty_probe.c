// SPDX-License-Identifier: MIT
/*
 * empty_probe: attach do-nothing BPF programs, the floor every ztrace cost is compared with.
 *   empty_probe uprobe FILE FUNCTION   an empty uprobe + uretprobe pair on FUNCTION
 *   empty_probe syscalls               empty raw_syscalls sys_enter + sys_exit programs
 * Prints "attached" on stdout, then holds the probes until stdin reaches EOF.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "bench_empty.skel.h"
#include "elf_sym.h"

int main(int argc, char **argv)
{
	struct bench_empty_bpf *skel;
	struct bpf_link *links[2] = { 0 };
	char buf[64];

	if (argc < 2 || (strcmp(argv[1], "uprobe") == 0 && argc != 4)) {
		fprintf(stderr, "usage: empty_probe uprobe FILE FUNCTION | empty_probe syscalls\n");
		return 2;
	}
	skel = bench_empty_bpf__open_and_load();
	if (!skel) {
		fprintf(stderr, "empty_probe: cannot load: %s\n", strerror(errno));
		return 1;
	}
	if (strcmp(argv[1], "uprobe") == 0) {
		LIBBPF_OPTS(bpf_uprobe_opts, opts);
		struct zt_elf_func f;
		struct zt_elf *e;

		if (zt_elf_open(argv[2], &e) || zt_elf_find_func(e, argv[3], &f)) {
			fprintf(stderr, "empty_probe: no function %s in %s\n", argv[3], argv[2]);
			return 2;
		}
		opts.retprobe = true;
		links[0] = bpf_program__attach_uprobe_opts(skel->progs.empty_return, -1, argv[2],
							   f.offset, &opts);
		opts.retprobe = false;
		links[1] = bpf_program__attach_uprobe_opts(skel->progs.empty_entry, -1, argv[2],
							   f.offset, &opts);
	} else {
		links[0] = bpf_program__attach_raw_tracepoint(skel->progs.empty_sys_enter,
							      "sys_enter");
		links[1] = bpf_program__attach_raw_tracepoint(skel->progs.empty_sys_exit,
							      "sys_exit");
	}
	if (!links[0] || !links[1]) {
		fprintf(stderr, "empty_probe: cannot attach: %s\n", strerror(errno));
		return 1;
	}
	printf("attached\n");
	fflush(stdout);
	while (read(0, buf, sizeof(buf)) > 0)
		;
	bpf_link__destroy(links[0]);
	bpf_link__destroy(links[1]);
	bench_empty_bpf__destroy(skel);
	return 0;
}
