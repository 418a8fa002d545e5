// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: zt_capture_spec_parse() on any text (the --capture value,
 * 'FUNC_GLOB:arg0,str1/32'). A parsed spec must be one the kernel side can use: register
 * arguments below ZT_ARGS_MAX, each named once, at most ZT_ARGS_MAX_STRS strings of 1 to
 * ZT_ARG_STR_MAX bytes; a refusal comes with a one-line message.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "capture_spec.h"
#include "fuzz_util.h"
#include "ztrace/limits.h"

#define ERR_BYTES 512

static void check_spec(const struct zt_capture_spec *c, const char *text)
{
	const struct zt_arg_spec *a = &c->args;
	unsigned seen = a->int_mask;

	ZT_FUZZ_CHECK(c->glob && c->glob[0]);
	/* the glob is the text before the last ':' */
	ZT_FUZZ_CHECK(!strncmp(text, c->glob, strlen(c->glob)) && text[strlen(c->glob)] == ':');
	ZT_FUZZ_CHECK(a->int_mask < 1u << ZT_ARGS_MAX);
	ZT_FUZZ_CHECK((a->int32_mask & ~a->int_mask) == 0);
	ZT_FUZZ_CHECK(a->nstr <= ZT_ARGS_MAX_STRS);
	ZT_FUZZ_CHECK(a->int_mask || a->nstr);
	for (unsigned i = 0; i < a->nstr; i++) {
		ZT_FUZZ_CHECK(a->str_arg[i] < ZT_ARGS_MAX);
		ZT_FUZZ_CHECK(a->str_len[i] >= 1 && a->str_len[i] <= ZT_ARG_STR_MAX);
		ZT_FUZZ_CHECK(!(seen & 1u << a->str_arg[i]));
		seen |= 1u << a->str_arg[i];
	}
	for (size_t i = 0; i < sizeof(a->pad); i++)
		ZT_FUZZ_CHECK(a->pad[i] == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = zt_fuzz_strdup(data, size);
	char err[ERR_BYTES] = "";
	struct zt_capture_spec c;
	int ret;

	ret = zt_capture_spec_parse(text, &c, err, sizeof(err));
	ZT_FUZZ_CHECK(ret == 0 || ret == -EINVAL || ret == -ENOMEM);
	if (ret == 0) {
		check_spec(&c, text);
		zt_capture_spec_free(&c);
	} else {
		ZT_FUZZ_CHECK(err[0] != '\0');
		ZT_FUZZ_CHECK(c.glob == NULL);
	}
	free(text);
	return 0;
}
