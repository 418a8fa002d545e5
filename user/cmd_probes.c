// SPDX-License-Identifier: MIT
#include <errno.h>
#include <limits.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cmd_probes.h"
#include "elf_sym.h"
#include "ksyms.h"
#include "usdt_notes.h"
#include "log.h"
#include "procmaps.h"
#include "target.h"

/* Print the functions of one file that match glob. Returns how many, or -errno. */
static int list_file(const char *shown, const char *open_path, const char *glob, bool header)
{
	struct zt_elf_func *funcs = NULL;
	struct zt_elf *elf = NULL;
	size_t n = 0;
	int ret;

	ret = zt_elf_open(open_path, &elf);
	if (ret == -ENOEXEC) {
		zt_err("%s is not an ELF file: give an executable or shared library", shown);
		goto out;
	}
	if (ret == -EXDEV) {
		zt_err("%s is an ELF file for %s, not x86_64", shown, zt_elf_machine_name(elf));
		goto out;
	}
	if (ret) {
		zt_err("cannot read %s: %s", shown, strerror(-ret));
		goto out;
	}
	ret = zt_elf_match_funcs(elf, glob, &funcs, &n);
	if (ret) {
		zt_err("cannot read the symbols of %s: %s", shown, strerror(-ret));
		goto out;
	}
	if (header)
		printf("%-40s %18s %8s  %s\n", "FUNCTION", "ADDRESS", "SIZE", "FILE");
	for (size_t i = 0; i < n; i++)
		printf("%-40s 0x%016" PRIx64 " %8" PRIu64 "  %s\n", funcs[i].name, funcs[i].addr,
		       funcs[i].size, shown);
	if (!zt_elf_has_symtab(elf))
		zt_warn("%s is stripped: only its exported functions are listed", shown);
	ret = (int)n;
out:
	zt_elf_funcs_free(funcs, n);
	zt_elf_close(elf);
	return ret;
}

int zt_cmd_probes(const struct zt_options *o)
{
	const char *glob = o->glob ? o->glob : "*";
	char err[512];
	int total = 0, ret;

	if (o->usdt) {
		struct zt_usdt_note *notes = NULL;
		size_t n = 0;

		if (!o->file) {
			zt_err("--list-usdt needs a FILE: ztrace probes --list-usdt FILE");
			return ZT_EXIT_USAGE;
		}
		ret = zt_usdt_notes_read(o->file, &notes, &n);
		if (ret) {
			zt_err("cannot read USDT probes of %s: %s", o->file,
			       ret == -ENOEXEC ? "not an ELF file" : strerror(-ret));
			return ZT_EXIT_USAGE;
		}
		if (n)
			printf("%-40s %18s %18s  %s\n", "PROBE", "ADDRESS", "SEMAPHORE", "ARGS");
		for (size_t i = 0; i < n; i++) {
			char name[256];

			snprintf(name, sizeof(name), "usdt:%s:%s", notes[i].provider, notes[i].name);
			printf("%-40s 0x%016" PRIx64 " 0x%016" PRIx64 "  %s\n", name, notes[i].pc,
			       notes[i].semaphore, notes[i].args);
		}
		zt_usdt_notes_free(notes, n);
		if (!n) {
			zt_err("%s has no USDT probes (no .note.stapsdt notes)", o->file);
			return ZT_EXIT_USAGE;
		}
		return ZT_EXIT_OK;
	}
	if (o->kernel) {
		char **names = NULL;
		size_t n = 0;

		ret = zt_ksyms_match(glob, &names, &n);
		if (ret) {
			zt_err("cannot list kernel functions: %s", strerror(-ret));
			return ZT_EXIT_FAILURE;
		}
		for (size_t i = 0; i < n; i++)
			printf("k:%s\n", names[i]);
		total = (int)n;
		zt_ksyms_free(names, n);
		if (n && !zt_kernel_has_kprobes())
			zt_warn("this kernel has no kprobes: k: probes need fentry (BPF trampolines)");
	} else if (o->file) {
		ret = list_file(o->file, o->file, glob, true);
		if (ret < 0)
			return ZT_EXIT_USAGE;
		total = ret;
	} else {
		struct zt_maps maps = { 0 };
		struct zt_target t;

		if (zt_target_attach_pid(o->pids[0], &t, err, sizeof(err))) {
			zt_err("%s", err);
			return ZT_EXIT_USAGE;
		}
		zt_target_close(&t);
		ret = zt_procmaps_read(o->pids[0], &maps);
		if (ret) {
			zt_err("cannot read /proc/%d/maps: %s", o->pids[0], strerror(-ret));
			return ZT_EXIT_USAGE;
		}
		/* every executable file mapping, once per file */
		for (size_t i = 0; i < maps.n; i++) {
			const struct zt_map *m = &maps.v[i];
			char open_path[PATH_MAX + 32];
			bool seen = false;

			if (!m->x || !m->path || m->path[0] != '/')
				continue;
			for (size_t j = 0; j < i && !seen; j++)
				seen = maps.v[j].x && maps.v[j].path &&
				       strcmp(maps.v[j].path, m->path) == 0;
			if (seen)
				continue;
			snprintf(open_path, sizeof(open_path), "/proc/%d/root%s", o->pids[0],
				 m->path);
			ret = list_file(m->path, open_path, glob, total == 0);
			if (ret > 0)
				total += ret;
		}
		zt_procmaps_free(&maps);
	}
	if (total == 0) {
		zt_err("no function matches '%s'", glob);
		return ZT_EXIT_USAGE;
	}
	return ZT_EXIT_OK;
}
