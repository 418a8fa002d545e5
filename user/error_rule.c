// SPDX-License-Identifier: MIT
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "error_rule.h"
#include "log.h"

static const struct {
	const char *text;
	enum zt_err_op op;
} ops[] = {
	/* two-character operators first so "<=" is not read as "<" */
	{ "<=", ZT_ERR_LE }, { ">=", ZT_ERR_GE }, { "==", ZT_ERR_EQ },
	{ "!=", ZT_ERR_NE }, { "<", ZT_ERR_LT },  { ">", ZT_ERR_GT },
};

int zt_error_rule_parse(const char *text, struct zt_error_rule *rule, char *err, size_t errlen)
{
	const char *p = text;
	char *end;

	if (strcmp(text, "none") == 0) {
		rule->op = ZT_ERR_NONE;
		rule->value = 0;
		return 0;
	}
	while (isspace((unsigned char)*p))
		p++;
	if (strncmp(p, "ret", 3) != 0)
		goto bad;
	p += 3;
	while (isspace((unsigned char)*p))
		p++;
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		size_t n = strlen(ops[i].text);

		if (strncmp(p, ops[i].text, n) != 0)
			continue;
		p += n;
		errno = 0;
		rule->value = strtoll(p, &end, 0);
		if (end == p || errno)
			goto bad;
		while (isspace((unsigned char)*end))
			end++;
		if (*end)
			goto bad;
		rule->op = ops[i].op;
		return 0;
	}
bad:
	snprintf(err, errlen,
		 "bad --error-if '%s': write ret OP NUMBER with OP one of < <= == != > >= "
		 "(e.g. 'ret<0'), or 'none'",
		 text);
	zt_msg_clean(err);
	return -EINVAL;
}

bool zt_error_rule_match(const struct zt_error_rule *rule, int64_t ret)
{
	switch (rule->op) {
	case ZT_ERR_LT:
		return ret < rule->value;
	case ZT_ERR_LE:
		return ret <= rule->value;
	case ZT_ERR_EQ:
		return ret == rule->value;
	case ZT_ERR_NE:
		return ret != rule->value;
	case ZT_ERR_GT:
		return ret > rule->value;
	case ZT_ERR_GE:
		return ret >= rule->value;
	case ZT_ERR_NONE:
		break;
	}
	return false;
}
