/* SPDX-License-Identifier: MIT */
/*
 * Arguments captured at a call's entry (--capture), as every exporter shows them: in argument
 * order, integers as signed 64-bit values, strings as the bytes read, cut at their limit.
 */
#ifndef ZTRACE_SPAN_ARGS_H
#define ZTRACE_SPAN_ARGS_H

#include <stdbool.h>
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>
#include "ztrace/record.h"

/* One captured argument. text points into the part it came from and is NUL-terminated. */
struct zt_arg_view {
	unsigned index; /* register argument: 0 is arg0 (%rdi) */
	bool is_str;
	int64_t value;	  /* an integer argument */
	const char *text; /* a string argument, NULL when unreadable */
	size_t len;
	bool truncated; /* longer than its limit: text holds the first len bytes */
};

/* Whether a holds any captured argument. */
bool zt_span_args_present(const struct zt_args_part *a);

/*
 * Check a part that came from outside (the kernel, a record file): string counts, indexes and
 * lengths in range, texts terminated at their length. Returns 0 or -EINVAL.
 */
int zt_span_args_check(const struct zt_args_part *a);

/* The arguments of a checked part a in argument order into out; returns how many. */
size_t zt_span_args_list(const struct zt_args_part *a, struct zt_arg_view out[ZT_ARGS_MAX]);

/* Bytes zt_arg_text_escape() may write for one string, NUL included. */
#define ZT_ARG_TEXT_ESCAPED_LEN (4 * ZT_ARG_STR_MAX + 1)

/*
 * A string argument for a terminal: printable ASCII stays, '"' and '\' and every other byte
 * become \xNN, so a captured string can neither end the quotes nor send escape sequences.
 */
void zt_arg_text_escape(const char *text, size_t len, char out[ZT_ARG_TEXT_ESCAPED_LEN]);

/*
 * For terminals and reports: "(42, \"abc\"...)" in argument order, strings escaped as
 * zt_arg_text_escape() does, "..." after one cut at its limit, "?" for one that could not be
 * read. Nothing for a span without captured arguments.
 */
void zt_span_args_print(FILE *out, const struct zt_args_part *a);

#endif
