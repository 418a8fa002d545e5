// SPDX-License-Identifier: MIT
/* Sizes and budgets as users write them (units.h). */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "units.h"

#define NS_PER_S 1000000000ull

int zt_parse_size(const char *text, uint64_t *bytes)
{
	static const struct {
		const char *unit;
		uint64_t scale;
	} units[] = {
	    {"", 1},
	    {"B", 1},
	    {"K", 1ull << 10},
	    {"KiB", 1ull << 10},
	    {"Ki", 1ull << 10},
	    {"M", 1ull << 20},
	    {"MiB", 1ull << 20},
	    {"Mi", 1ull << 20},
	    {"G", 1ull << 30},
	    {"GiB", 1ull << 30},
	    {"Gi", 1ull << 30},
	    {"T", 1ull << 40},
	    {"TiB", 1ull << 40},
	    {"Ti", 1ull << 40},
	    {"kB", 1000ull},
	    {"KB", 1000ull},
	    {"MB", 1000ull * 1000},
	    {"GB", 1000ull * 1000 * 1000},
	    {"TB", 1000ull * 1000 * 1000 * 1000},
	};
	unsigned long long v;
	char *end;

	/* strtoull() would accept a sign and leading blanks: a size starts with a digit */
	if (!text || !isdigit((unsigned char)text[0]))
		return -EINVAL;
	errno = 0;
	v = strtoull(text, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].unit))
			continue;
		if (v > UINT64_MAX / units[i].scale)
			return -ERANGE;
		*bytes = v * units[i].scale;
		return 0;
	}
	return -EINVAL;
}

int zt_parse_probe_budget(const char *text, uint64_t *ns_per_s, char *err, size_t errlen)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(text, &end);
	if (end == text || errno || !isfinite(v) || v <= 0 || text[0] == '-' || text[0] == '+')
		goto bad;
	if (*end == '%' && end[1] == '\0') {
		if (v > 100)
			goto bad;
		*ns_per_s = (uint64_t)(v * (double)NS_PER_S / 100);
	} else if (*end == '\0' && v < (double)NS_PER_S) {
		*ns_per_s = (uint64_t)v;
	} else {
		goto bad;
	}
	if (*ns_per_s)
		return 0;
bad:
	snprintf(err, errlen,
		 "bad probe budget '%s': give a percentage of one CPU (e.g. 2%%) or nanoseconds "
		 "of BPF run time per second (1 to 999999999)",
		 text);
	return -EINVAL;
}
