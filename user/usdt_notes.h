/* SPDX-License-Identifier: MIT */
/* The USDT probes an ELF file declares (.note.stapsdt notes, the SystemTap/DTrace format). */
#ifndef ZTRACE_USDT_NOTES_H
#define ZTRACE_USDT_NOTES_H

#include <stddef.h>
#include <stdint.h>

struct zt_usdt_note {
	char *provider;
	char *name;
	char *args;	   /* argument spec, e.g. "-4@%edi 8@%rsi" */
	uint64_t pc;	   /* address of the probe site */
	uint64_t semaphore; /* address of the is-enabled counter, 0 if none */
};

/* Read the USDT notes of path. *out is the caller's (zt_usdt_notes_free). Returns 0 or -errno:
 * -ENOEXEC for a file that is not ELF. No notes is 0 with *n == 0. */
int zt_usdt_notes_read(const char *path, struct zt_usdt_note **out, size_t *n);
void zt_usdt_notes_free(struct zt_usdt_note *v, size_t n);

#endif
