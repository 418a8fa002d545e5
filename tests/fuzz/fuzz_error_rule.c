// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: zt_error_rule_parse() on any text (the --error-if value). A parsed rule
 * must be usable by zt_error_rule_match(); a refusal comes with a one-line message.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "error_rule.h"
#include "fuzz_util.h"

#define ERR_BYTES 512

/* Return values at the edges of every comparison. */
static const int64_t probes[] = {INT64_MIN, INT64_MIN + 1, -1, 0, 1, INT64_MAX - 1, INT64_MAX};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = zt_fuzz_strdup(data, size);
	char err[ERR_BYTES] = "";
	struct zt_error_rule rule;
	size_t i;
	int ret;

	ret = zt_error_rule_parse(text, &rule, err, sizeof(err));
	ZT_FUZZ_CHECK(ret == 0 || ret == -EINVAL);
	if (ret == 0) {
		for (i = 0; i < sizeof(probes) / sizeof(probes[0]); i++)
			(void)zt_error_rule_match(&rule, probes[i]);
		(void)zt_error_rule_match(&rule, rule.value);
	} else {
		ZT_FUZZ_CHECK(err[0] != '\0' && strchr(err, '\n') == NULL);
	}
	free(text);
	return 0;
}
