// SPDX-License-Identifier: MIT
/*
 * /proc/PID/maps parsing. A line is
 *   START-END PERMS OFFSET MAJOR:MINOR INODE [PATH]
 * with hex numbers except the decimal inode, and the path padded to a column by spaces. The
 * parser is hand-written rather than sscanf so that every field is checked (no signs, no "0x",
 * no overflow) and paths keep their inner spaces.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "procmaps.h"
#include "ztrace/limits.h"

#define ZT_DELETED_SUFFIX " (deleted)"

/* Read chunk for /proc/PID/maps; the buffer grows by doubling from here. */
#define ZT_PROCMAPS_READ_CHUNK 16384

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Parse digits in BASE (10 or 16) from *P up to END; at least one. Returns 0 or -EINVAL. */
static int parse_num(const char **p, const char *end, unsigned int base, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;
	int d;

	for (; s < end; s++) {
		d = hexval(*s);
		if (d < 0 || (unsigned int)d >= base)
			break;
		if (v > (UINT64_MAX - d) / base)
			return -EINVAL;
		v = v * base + d;
	}
	if (s == *p)
		return -EINVAL;
	*p = s;
	*out = v;
	return 0;
}

/* Expect character C at *P. */
static int expect(const char **p, const char *end, char c)
{
	if (*p >= end || **p != c)
		return -EINVAL;
	(*p)++;
	return 0;
}

/* Parse one line [P, END) (no newline) into MAP. Returns 0, -EINVAL or -ENOMEM. */
static int parse_line(const char *p, const char *end, struct zt_map *map)
{
	uint64_t major, minor;
	size_t len, slen = strlen(ZT_DELETED_SUFFIX);
	const char *perm;

	memset(map, 0, sizeof(*map));
	if (parse_num(&p, end, 16, &map->start) || expect(&p, end, '-') ||
	    parse_num(&p, end, 16, &map->end) || expect(&p, end, ' '))
		return -EINVAL;
	if (map->end < map->start || end - p < 5)
		return -EINVAL;
	perm = p;
	if ((perm[0] != 'r' && perm[0] != '-') || (perm[1] != 'w' && perm[1] != '-') ||
	    (perm[2] != 'x' && perm[2] != '-') || (perm[3] != 's' && perm[3] != 'p'))
		return -EINVAL;
	map->r = perm[0] == 'r';
	map->w = perm[1] == 'w';
	map->x = perm[2] == 'x';
	map->shared = perm[3] == 's';
	p += 4;
	if (expect(&p, end, ' ') || parse_num(&p, end, 16, &map->offset) || expect(&p, end, ' ') ||
	    parse_num(&p, end, 16, &major) || expect(&p, end, ':') ||
	    parse_num(&p, end, 16, &minor) || expect(&p, end, ' ') ||
	    parse_num(&p, end, 10, &map->inode))
		return -EINVAL;
	if (major > UINT32_MAX || minor > UINT32_MAX)
		return -EINVAL;
	map->dev_major = major;
	map->dev_minor = minor;
	if (p == end)
		return 0; /* anonymous */
	if (*p != ' ')
		return -EINVAL;
	while (p < end && *p == ' ')
		p++;
	if (p == end)
		return 0; /* anonymous, with the padding the kernel writes anyway */
	len = end - p;
	if (len > slen && !memcmp(end - slen, ZT_DELETED_SUFFIX, slen)) {
		map->deleted = true;
		len -= slen;
	}
	map->path = strndup(p, len);
	return map->path ? 0 : -ENOMEM;
}

int zt_procmaps_parse(const char *text, struct zt_maps *out)
{
	struct zt_maps m = {0};
	struct zt_map *grown;
	const char *p = text, *nl;
	size_t cap = 0;
	int err = 0;

	out->v = NULL;
	out->n = 0;
	while (*p) {
		nl = strchr(p, '\n');
		if (!nl)
			nl = p + strlen(p);
		if (m.n == cap) {
			cap = cap ? 2 * cap : 64;
			grown = realloc(m.v, cap * sizeof(*grown));
			if (!grown) {
				err = -ENOMEM;
				goto out;
			}
			m.v = grown;
		}
		err = parse_line(p, nl, &m.v[m.n]);
		if (err)
			goto out;
		m.n++;
		/* The kernel lists mappings in address order; find_addr's bsearch needs it. */
		if (m.n > 1 && m.v[m.n - 1].start < m.v[m.n - 2].end) {
			err = -EINVAL;
			goto out;
		}
		p = *nl ? nl + 1 : nl;
	}
out:
	if (err)
		zt_procmaps_free(&m);
	else
		*out = m;
	return err;
}

void zt_procmaps_free(struct zt_maps *m)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		free(m->v[i].path);
	free(m->v);
	m->v = NULL;
	m->n = 0;
}

int zt_procmaps_read(int pid, struct zt_maps *out)
{
	char path[64], *buf = NULL, *grown;
	size_t len = 0, cap = 0;
	ssize_t got;
	int fd, err = 0;

	out->v = NULL;
	out->n = 0;
	if (pid <= 0)
		return -EINVAL;
	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (;;) {
		if (cap - len < ZT_PROCMAPS_READ_CHUNK + 1) {
			cap = cap ? 2 * cap : 4 * ZT_PROCMAPS_READ_CHUNK;
			if (cap > ZT_PROCMAPS_MAX_BYTES + 1) {
				err = -EFBIG;
				goto out;
			}
			grown = realloc(buf, cap);
			if (!grown) {
				err = -ENOMEM;
				goto out;
			}
			buf = grown;
		}
		got = read(fd, buf + len, cap - len - 1);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			/* The process exited between open and read. */
			if (err == -ESRCH)
				err = -ENOENT;
			goto out;
		}
		if (got == 0)
			break;
		len += got;
	}
	buf[len] = '\0';
	err = zt_procmaps_parse(buf, out);
out:
	free(buf);
	close(fd);
	return err;
}

bool zt_map_is_file(const struct zt_map *map)
{
	return map->path && map->path[0] == '/';
}

/* True for a non-empty run of digits and dots covering [S, S + N). */
static bool is_version(const char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return false;
	for (i = 0; i < n; i++) {
		if ((s[i] < '0' || s[i] > '9') && s[i] != '.')
			return false;
	}
	return true;
}

/* True for "" or ".VERSION": what may follow ".so" in a library file name. */
static bool is_so_suffix(const char *s)
{
	return *s == '\0' || (*s == '.' && is_version(s + 1, strlen(s + 1)));
}

bool zt_libname_matches(const char *libname, const char *path)
{
	const char *base, *rest, *so;
	size_t len = strlen(libname);

	if (!len || !path)
		return false;
	if (strchr(libname, '/'))
		return strcmp(libname, path) == 0;
	base = strrchr(path, '/');
	base = base ? base + 1 : path;
	if (!strcmp(base, libname))
		return true;
	/* A name carrying its own version after ".so" means exactly that file. */
	if (strstr(libname, ".so."))
		return false;
	if (strncmp(base, libname, len))
		return false;
	rest = base + len;
	/* "libpricing.so" + ".1" */
	if (len >= 3 && !strcmp(libname + len - 3, ".so"))
		return is_so_suffix(rest);
	/* "libc" + ".so" + ".6" */
	if (!strncmp(rest, ".so", 3))
		return is_so_suffix(rest + 3);
	/* "libc" + "-2.36" + ".so" */
	if (rest[0] != '-')
		return false;
	for (so = strstr(rest, ".so"); so; so = strstr(so + 1, ".so")) {
		if (is_version(rest + 1, so - rest - 1) && is_so_suffix(so + 3))
			return true;
	}
	return false;
}

const struct zt_map *zt_procmaps_find_lib_map(const struct zt_maps *m, const char *libname)
{
	size_t i;

	for (i = 0; i < m->n; i++) {
		if (zt_map_is_file(&m->v[i]) && zt_libname_matches(libname, m->v[i].path))
			return &m->v[i];
	}
	return NULL;
}

const char *zt_procmaps_find_lib(const struct zt_maps *m, const char *libname)
{
	const struct zt_map *map = zt_procmaps_find_lib_map(m, libname);

	return map ? map->path : NULL;
}

const struct zt_map *zt_procmaps_find_addr(const struct zt_maps *m, uint64_t addr)
{
	size_t lo = 0, hi = m->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (addr < m->v[mid].start)
			hi = mid;
		else if (addr >= m->v[mid].end)
			lo = mid + 1;
		else
			return &m->v[mid];
	}
	return NULL;
}
