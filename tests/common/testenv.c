// SPDX-License-Identifier: MIT
#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testenv.h"

void zt_output_path(char *out, const char *rel)
{
	const char *dir = getenv("ZT_OUTPUT");
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir && *dir ? dir : ".output", rel);
	cr_assert_not_null(realpath(path, out),
			   "%s: %s (build it with make; run from the repo root)", path,
			   strerror(errno));
}

void zt_argv_add(struct zt_argv *a, const char *arg)
{
	cr_assert_lt(a->n, ZT_ARGV_MAX, "too many arguments");
	a->v[a->n++] = (char *)arg;
	a->v[a->n] = NULL;
}
