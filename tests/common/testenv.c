// SPDX-License-Identifier: MIT
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

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

void zt_ztrace_path(char *out)
{
	const char *bin = getenv("ZT_ZTRACE");

	if (!bin || !*bin) {
		zt_output_path(out, "ztrace");
		return;
	}
	cr_assert_not_null(realpath(bin, out), "ZT_ZTRACE=%s: %s", bin, strerror(errno));
}

void zt_argv_add(struct zt_argv *a, const char *arg)
{
	cr_assert_lt(a->n, ZT_ARGV_MAX, "too many arguments");
	a->v[a->n++] = (char *)arg;
	a->v[a->n] = NULL;
}

int zt_free_port(void)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	cr_assert_geq(fd, 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	close(fd);
	return ntohs(sin.sin_port);
}
