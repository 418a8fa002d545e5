/* SPDX-License-Identifier: MIT */
/* --error-if: which return values make a function span an error. */
#ifndef ZTRACE_ERROR_RULE_H
#define ZTRACE_ERROR_RULE_H

#include <stdbool.h>
#include <stdint.h>
#include "ztrace/record.h"

struct zt_error_rule {
	enum zt_err_op op;
	int64_t value;
};

/* Parse "ret<0", "ret != 0", "ret>=-1" ... into rule. "none" disables the rule.
 * Returns 0 or -EINVAL with a one-line message in err. */
int zt_error_rule_parse(const char *text, struct zt_error_rule *rule, char *err, size_t errlen);

/* Whether ret is an error under rule. */
bool zt_error_rule_match(const struct zt_error_rule *rule, int64_t ret);

#endif
