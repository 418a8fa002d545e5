// SPDX-License-Identifier: MIT
/* Lookups in the generated syscall and errno tables (scripts/gen-syscall-names.sh). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ztrace/limits.h"
#include "syscall_names.h"
#include "syscall_names_table.h"

_Static_assert(ZT_SYSCALL_NR_HIGHEST < ZT_MAX_SYSCALLS,
	       "ZT_MAX_SYSCALLS must cover every syscall number in the table");

/* Longest syscall name quoted back in an error message; longer input is cut. */
#define ZT_SYSCALL_NAME_SHOWN 64

const char *zt_syscall_name(int nr)
{
	if (nr < 0 || nr > ZT_SYSCALL_NR_HIGHEST)
		return NULL;
	return zt_syscall_table[nr];
}

/* Like zt_syscall_nr, for a name that is not NUL-terminated. */
static int syscall_nr_n(const char *name, size_t len)
{
	for (int nr = 0; nr <= ZT_SYSCALL_NR_HIGHEST; nr++) {
		const char *s = zt_syscall_table[nr];

		if (s && strlen(s) == len && memcmp(s, name, len) == 0)
			return nr;
	}
	return -ENOENT;
}

int zt_syscall_nr(const char *name)
{
	return syscall_nr_n(name, strlen(name));
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

int zt_syscall_parse_list(const char *list, bool *selected, char *err, size_t errlen)
{
	const char *p = list;
	int ret = 0;

	memset(selected, 0, ZT_MAX_SYSCALLS * sizeof(*selected));
	for (;;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		const char *item = p;
		int nr;

		/* Tolerate spaces around names: "read, write" is what people type. */
		while (len && is_space(*item)) {
			item++;
			len--;
		}
		while (len && is_space(item[len - 1]))
			len--;
		if (!len) {
			snprintf(
			    err, errlen,
			    "empty syscall name in --syscalls='%s': give a comma-separated list "
			    "such as read,write,openat",
			    list);
			ret = -EINVAL;
			goto out;
		}
		nr = syscall_nr_n(item, len);
		if (nr < 0) {
			snprintf(err, errlen,
				 "unknown syscall '%.*s' in --syscalls: see ausyscall --dump or "
				 "/usr/include/asm/unistd_64.h",
				 (int)(len < ZT_SYSCALL_NAME_SHOWN ? len : ZT_SYSCALL_NAME_SHOWN),
				 item);
			ret = -EINVAL;
			goto out;
		}
		selected[nr] = true;
		if (!end)
			break;
		p = end + 1;
	}
out:
	if (ret)
		memset(selected, 0, ZT_MAX_SYSCALLS * sizeof(*selected));
	return ret;
}

const char *zt_errno_name(int e)
{
	/* Compare before negating: -INT_MIN overflows. */
	if (e < -ZT_ERRNO_HIGHEST || e > ZT_ERRNO_HIGHEST || e == 0)
		return NULL;
	return zt_errno_table[e < 0 ? -e : e];
}
