// SPDX-License-Identifier: MIT
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "span_args.h"

bool zt_span_args_present(const struct zt_args_part *a)
{
	return a->spec.int_mask || a->spec.nstr;
}

int zt_span_args_check(const struct zt_args_part *a)
{
	uint8_t seen = a->spec.int_mask;

	if (a->spec.nstr > ZT_ARGS_MAX_STRS || a->spec.int_mask >= 1u << ZT_ARGS_MAX ||
	    (a->spec.int32_mask & ~a->spec.int_mask))
		return -EINVAL;
	for (unsigned k = 0; k < a->spec.nstr; k++) {
		const struct zt_arg_str *s = &a->strs[k];

		/* one value per argument: a string and an integer of the same register, or two
		 * strings, would print the argument twice */
		if (s->arg >= ZT_ARGS_MAX || (seen & 1u << s->arg) || s->len > ZT_ARG_STR_MAX ||
		    memchr(s->text, '\0', s->len + 1) != s->text + s->len)
			return -EINVAL;
		seen |= 1u << s->arg;
	}
	return 0;
}

size_t zt_span_args_list(const struct zt_args_part *a, struct zt_arg_view out[ZT_ARGS_MAX])
{
	size_t n = 0;

	for (unsigned i = 0; i < ZT_ARGS_MAX; i++) {
		if (a->spec.int_mask & 1u << i) {
			/* an int leaves the upper half of its register undefined */
			int64_t v = a->spec.int32_mask & 1u << i ? (int32_t)a->regs[i]
								 : (int64_t)a->regs[i];

			out[n++] = (struct zt_arg_view){.index = i, .value = v};
			continue;
		}
		for (unsigned k = 0; k < a->spec.nstr && k < ZT_ARGS_MAX_STRS; k++) {
			const struct zt_arg_str *s = &a->strs[k];

			if (s->arg != i)
				continue;
			out[n++] = (struct zt_arg_view){
			    .index = i,
			    .is_str = true,
			    .text = s->flags & ZT_ARG_STR_FAULT ? NULL : s->text,
			    .len = s->len,
			    .truncated = s->flags & ZT_ARG_STR_TRUNCATED,
			};
			break;
		}
	}
	return n;
}

void zt_arg_text_escape(const char *text, size_t len, char out[ZT_ARG_TEXT_ESCAPED_LEN])
{
	size_t o = 0;

	for (size_t i = 0; i < len && i < ZT_ARG_STR_MAX; i++) {
		unsigned char c = (unsigned char)text[i];

		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
			out[o++] = (char)c;
		} else {
			snprintf(out + o, 5, "\\x%02x", c);
			o += 4;
		}
	}
	out[o] = '\0';
}

void zt_span_args_print(FILE *out, const struct zt_args_part *a)
{
	struct zt_arg_view v[ZT_ARGS_MAX];
	size_t n = zt_span_args_list(a, v);
	char text[ZT_ARG_TEXT_ESCAPED_LEN];

	if (!n)
		return;
	fputc('(', out);
	for (size_t i = 0; i < n; i++) {
		if (i)
			fputs(", ", out);
		if (!v[i].is_str) {
			fprintf(out, "%" PRId64, v[i].value);
		} else if (!v[i].text) {
			fputc('?', out);
		} else {
			zt_arg_text_escape(v[i].text, v[i].len, text);
			fprintf(out, "\"%s\"%s", text, v[i].truncated ? "..." : "");
		}
	}
	fputc(')', out);
}
