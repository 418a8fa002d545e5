/* SPDX-License-Identifier: MIT */
/*
 * --capture FUNC_GLOB:LIST, what arguments the calls of matching functions carry into their
 * spans (nothing of a traced process's memory is read otherwise):
 *
 *   argN        register argument N (0..5: %rdi %rsi %rdx %rcx %r8 %r9) as a signed integer
 *   argN/i32    the same, a 32-bit int (the register's upper half is undefined for an int)
 *   strN        the NUL-terminated user string argument N points to, ZT_ARG_STR_DEFAULT bytes
 *   strN/LEN    the same, at most LEN bytes (1..ZT_ARG_STR_MAX)
 *
 * e.g. 'process_*:arg0,str1/64'. The glob is everything before the last ':' (the list has
 * none), so it matches function names the way a bare GLOB spec does.
 */
#ifndef ZTRACE_CAPTURE_SPEC_H
#define ZTRACE_CAPTURE_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include "ztrace/record.h"

struct zt_capture_spec {
	char *glob; /* owned */
	struct zt_arg_spec args;
};

/*
 * Parse text into *out. Returns 0, -EINVAL with a one-line message in err that says what to
 * write instead, or -ENOMEM. On success the caller releases out with zt_capture_spec_free().
 */
int zt_capture_spec_parse(const char *text, struct zt_capture_spec *out, char *err, size_t errlen);

void zt_capture_spec_free(struct zt_capture_spec *c);

#endif
