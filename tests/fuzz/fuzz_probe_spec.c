// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: zt_probe_spec_parse() on any text. Besides memory safety (ASan, UBSan) it
 * checks the contract of probe_spec.h: a parsed spec has the fields its kind needs, and a
 * refusal comes with a one-line message.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_util.h"
#include "probe_spec.h"

/* Room for the longest message probe_spec.c writes about the longest input we feed it. */
#define ERR_BYTES 1024
/* A small buffer: messages must be truncated, never overflow it. */
#define SHORT_ERR_BYTES 8

static void check_parsed(const struct zt_probe_spec *s, const char *text)
{
	ZT_FUZZ_CHECK(s->text && strcmp(s->text, text) == 0);
	switch (s->kind) {
	case ZT_SPEC_UPROBE:
		ZT_FUZZ_CHECK(s->glob && *s->glob);
		ZT_FUZZ_CHECK(zt_glob_is_valid(s->glob, NULL, 0));
		ZT_FUZZ_CHECK(!s->file || *s->file);
		/* a valid glob is usable by fnmatch(3): any result but a crash is fine */
		(void)fnmatch(s->glob, "main", 0);
		break;
	case ZT_SPEC_KPROBE:
		ZT_FUZZ_CHECK(s->glob && *s->glob);
		ZT_FUZZ_CHECK(zt_glob_is_valid(s->glob, NULL, 0));
		break;
	case ZT_SPEC_USDT:
		ZT_FUZZ_CHECK(s->file && *s->file && s->provider && *s->provider);
		ZT_FUZZ_CHECK(s->name && *s->name);
		ZT_FUZZ_CHECK(!s->name_end || *s->name_end);
		break;
	case ZT_SPEC_TRACEPOINT:
		ZT_FUZZ_CHECK(s->category && *s->category && s->name && *s->name);
		break;
	default:
		ZT_FUZZ_CHECK(!"unknown spec kind");
	}
	ZT_FUZZ_CHECK(strcmp(zt_spec_kind_prefix(s->kind), "?") != 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = zt_fuzz_strdup(data, size);
	char err[ERR_BYTES] = "", short_err[SHORT_ERR_BYTES];
	struct zt_probe_spec s, again;
	int ret, ret2;

	memset(&s, 0xa5, sizeof(s)); /* the parser must not rely on a zeroed struct */
	ret = zt_probe_spec_parse(text, &s, err, sizeof(err));
	ZT_FUZZ_CHECK(ret == 0 || ret == -EINVAL || ret == -ENOMEM);
	if (ret == 0) {
		check_parsed(&s, text);
		zt_probe_spec_free(&s);
		zt_probe_spec_free(&s); /* documented as safe on a freed struct */
	} else if (ret == -EINVAL) {
		ZT_FUZZ_CHECK(err[0] != '\0');
		ZT_FUZZ_CHECK(strchr(err, '\n') == NULL);
	}

	/* The same answer without a message buffer, and with one too small for the message. */
	ret2 = zt_probe_spec_parse(text, &again, NULL, 0);
	ZT_FUZZ_CHECK(ret2 == ret);
	if (!ret2)
		zt_probe_spec_free(&again);
	ret2 = zt_probe_spec_parse(text, &again, short_err, sizeof(short_err));
	ZT_FUZZ_CHECK(ret2 == ret);
	if (!ret2)
		zt_probe_spec_free(&again);
	else
		ZT_FUZZ_CHECK(strlen(short_err) < sizeof(short_err));

	(void)zt_glob_is_valid(text, err, sizeof(err));
	free(text);
	return 0;
}
