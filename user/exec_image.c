// SPDX-License-Identifier: MIT
/* Follow a script's "#!" line to the ELF program the kernel runs for it. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "exec_image.h"
#include "ztrace/limits.h"

/* The kernel reads at most this much of a "#!" line (BINPRM_BUF_SIZE). */
#define SHEBANG_MAX 256

/* Copy s (n bytes) to out as a string. Returns 0 or -ENAMETOOLONG. */
static int copy_n(const char *s, size_t n, char *out, size_t outlen)
{
	if (n >= outlen)
		return -ENAMETOOLONG;
	memcpy(out, s, n);
	out[n] = '\0';
	return 0;
}

/*
 * Read path's "#!" line: its interpreter into interp and its first argument (empty if none)
 * into arg. Returns 1 for a script, 0 for anything else, or -errno.
 */
static int read_shebang(const char *path, char *interp, size_t ilen, char *arg, size_t alen)
{
	char buf[SHEBANG_MAX + 1];
	const char *p, *end;
	ssize_t n;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, SHEBANG_MAX);
	ret = n < 0 ? -errno : 0;
	close(fd);
	if (ret)
		return ret;
	if (n < 2 || buf[0] != '#' || buf[1] != '!')
		return 0;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	p = buf + 2;
	p += strspn(p, " \t");
	end = p + strcspn(p, " \t");
	if (end == p)
		return -ENOEXEC;
	ret = copy_n(p, (size_t)(end - p), interp, ilen);
	if (ret)
		return ret;
	p = end + strspn(end, " \t");
	end = p + strcspn(p, " \t");
	ret = copy_n(p, (size_t)(end - p), arg, alen);
	return ret ? ret : 1;
}

/* name found in the directories of path_env, into out. Returns 0 or -ENOENT. */
static int search_path(const char *name, const char *path_env, char *out, size_t outlen)
{
	for (const char *dir = path_env; dir && *dir;) {
		size_t len = strcspn(dir, ":");
		int n = snprintf(out, outlen, "%.*s/%s", (int)len, len ? dir : ".", name);

		if (n > 0 && (size_t)n < outlen && access(out, X_OK) == 0)
			return 0;
		dir += len + (dir[len] == ':');
	}
	return -ENOENT;
}

/* Whether interp is env(1), which runs the program its argument names. */
static bool is_env(const char *interp)
{
	const char *base = strrchr(interp, '/');

	return strcmp(base ? base + 1 : interp, "env") == 0;
}

int zt_exec_image(const char *path, const char *path_env, char *out, size_t outlen)
{
	char cur[PATH_MAX], interp[PATH_MAX], arg[PATH_MAX];
	int ret = copy_n(path, strlen(path), cur, sizeof(cur));

	for (int depth = 0; ret == 0; depth++) {
		ret = read_shebang(cur, interp, sizeof(interp), arg, sizeof(arg));
		if (ret < 0)
			return ret;
		if (ret == 0)
			return copy_n(cur, strlen(cur), out, outlen);
		if (depth == ZT_MAX_INTERP_DEPTH)
			return -ELOOP;
		/* "env NAME": NAME through PATH; "env -S ..." and options are left to env */
		if (is_env(interp) && arg[0] && arg[0] != '-' && !strchr(arg, '/') && path_env)
			ret = search_path(arg, path_env, cur, sizeof(cur));
		else
			ret = copy_n(interp, strlen(interp), cur, sizeof(cur));
	}
	return ret;
}
