// SPDX-License-Identifier: MIT
/* --capture parsing: syntax only; which functions the glob matches is the session's affair. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "capture_spec.h"
#include "log.h"
#include "probe_spec.h"

#define CAPTURE_FORM "FUNC_GLOB:LIST, e.g. 'process_*:arg0,str1/64'"
#define ITEM_FORMS   "argN[/i32] (an integer) or strN[/LEN] (a string), N from 0 to 5"

_Static_assert(ZT_ARG_STR_MAX <= 255, "string lengths are kept in a byte");

static int __attribute__((format(printf, 4, 5)))
fail(const char *text, char *err, size_t errlen, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (err && errlen) {
		snprintf(err, errlen, "bad --capture '%s': %s", text, msg);
		zt_msg_clean(err); /* the spec may hold a newline: the message stays one line */
	}
	return -EINVAL;
}

/* A decimal number of at most 3 digits spanning [s, end) into *v. */
static bool small_number(const char *s, const char *end, unsigned *v)
{
	if (s == end || end - s > 3)
		return false;
	*v = 0;
	for (; s < end; s++) {
		if (*s < '0' || *s > '9')
			return false;
		*v = *v * 10 + (unsigned)(*s - '0');
	}
	return true;
}

/* One item [s, end) of the list into a. Returns 0 or -EINVAL with err. */
static int parse_item(const char *text, const char *s, const char *end, struct zt_arg_spec *a,
		      uint8_t *used, char *err, size_t errlen)
{
	int ilen = (int)(end - s);
	const char *num, *slash;
	bool is_str;
	unsigned idx, len = ZT_ARG_STR_DEFAULT;

	if (s == end)
		return fail(text, err, errlen, "empty item in the list: write %s", ITEM_FORMS);
	if (end - s > 3 && !strncmp(s, "arg", 3)) {
		is_str = false;
		num = s + 3;
	} else if (end - s > 3 && !strncmp(s, "str", 3)) {
		is_str = true;
		num = s + 3;
	} else {
		return fail(text, err, errlen, "unknown item '%.*s': write %s", ilen, s,
			    ITEM_FORMS);
	}
	slash = memchr(num, '/', (size_t)(end - num));
	if (!small_number(num, slash ? slash : end, &idx))
		return fail(text, err, errlen, "unknown item '%.*s': write %s", ilen, s,
			    ITEM_FORMS);
	if (idx >= ZT_ARGS_MAX)
		return fail(text, err, errlen,
			    "argument %u in '%.*s' is not a register argument: x86-64 passes "
			    "the first %d in registers, arg0 to arg%d",
			    idx, ilen, s, ZT_ARGS_MAX, ZT_ARGS_MAX - 1);
	if (*used & 1u << idx)
		return fail(text, err, errlen, "argument %u is named twice: keep one item for it",
			    idx);
	*used |= 1u << idx;
	if (!is_str) {
		if (slash && (end - slash != 4 || strncmp(slash, "/i32", 4)))
			return fail(text, err, errlen,
				    "unknown integer width in '%.*s': write arg%u (64-bit) or "
				    "arg%u/i32 (a C int)",
				    ilen, s, idx, idx);
		a->int_mask |= 1u << idx;
		if (slash)
			a->int32_mask |= 1u << idx;
		return 0;
	}
	if (slash && (!small_number(slash + 1, end, &len) || len == 0))
		return fail(text, err, errlen,
			    "bad string length in '%.*s': give 1 to %d bytes, e.g. str%u/%d", ilen,
			    s, ZT_ARG_STR_MAX, idx, ZT_ARG_STR_DEFAULT);
	if (len > ZT_ARG_STR_MAX)
		return fail(text, err, errlen,
			    "string length %u in '%.*s' is over the maximum of %d bytes", len, ilen,
			    s, ZT_ARG_STR_MAX);
	if (a->nstr == ZT_ARGS_MAX_STRS)
		return fail(text, err, errlen,
			    "more than %d strings: capture at most %d per "
			    "function",
			    ZT_ARGS_MAX_STRS, ZT_ARGS_MAX_STRS);
	a->str_arg[a->nstr] = (uint8_t)idx;
	a->str_len[a->nstr] = (uint8_t)len;
	a->nstr++;
	return 0;
}

int zt_capture_spec_parse(const char *text, struct zt_capture_spec *out, char *err, size_t errlen)
{
	struct zt_arg_spec a = {0};
	const char *colon, *s;
	char gerr[200];
	uint8_t used = 0;
	int ret;

	memset(out, 0, sizeof(*out));
	colon = strrchr(text, ':');
	if (!colon)
		return fail(text, err, errlen, "expected %s", CAPTURE_FORM);
	if (colon == text)
		return fail(text, err, errlen, "no function glob before ':': expected %s",
			    CAPTURE_FORM);
	for (s = colon + 1;; s++) {
		const char *end = strchrnul(s, ',');

		ret = parse_item(text, s, end, &a, &used, err, errlen);
		if (ret)
			return ret;
		if (!*end)
			break;
		s = end;
	}
	out->glob = strndup(text, (size_t)(colon - text));
	if (!out->glob)
		return -ENOMEM;
	if (!zt_glob_is_valid(out->glob, gerr, sizeof(gerr))) {
		zt_capture_spec_free(out);
		return fail(text, err, errlen, "%s", gerr);
	}
	out->args = a;
	return 0;
}

void zt_capture_spec_free(struct zt_capture_spec *c)
{
	if (!c)
		return;
	free(c->glob);
	memset(c, 0, sizeof(*c));
}
