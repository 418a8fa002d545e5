// SPDX-License-Identifier: MIT
/* Syscall and errno names: the generated tables and --syscalls=LIST parsing. */
#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <asm/unistd_64.h>

#include "ztrace/limits.h"
#include "syscall_names.h"

/* Highest errno glibc itself names (EHWPOISON). */
#define GLIBC_LAST_ERRNO 133

Test(syscall_names, names_by_number)
{
	cr_assert_str_eq(zt_syscall_name(0), "read");
	cr_assert_str_eq(zt_syscall_name(__NR_openat), "openat");
	cr_assert_str_eq(zt_syscall_name(__NR_nanosleep), "nanosleep");
	cr_assert_str_eq(zt_syscall_name(__NR_getppid), "getppid");
	cr_assert_str_eq(zt_syscall_name(__NR_futex_waitv), "futex_waitv");
	/* Newer than the installed headers, present in the 6.18 kernel these machines run. */
	cr_assert_str_eq(zt_syscall_name(335), "uretprobe");
	cr_assert_str_eq(zt_syscall_name(451), "cachestat");
	cr_assert_str_eq(zt_syscall_name(469), "file_setattr");
	cr_assert_null(zt_syscall_name(470));
	cr_assert_null(zt_syscall_name(-1));
	cr_assert_null(zt_syscall_name(ZT_MAX_SYSCALLS));
	cr_assert_null(zt_syscall_name(INT_MAX));
	/* Never assigned on x86_64: 337..423 were skipped to align on the common numbering. */
	cr_assert_null(zt_syscall_name(337));
	cr_assert_null(zt_syscall_name(423));
}

Test(syscall_names, numbers_by_name)
{
	cr_assert_eq(zt_syscall_nr("read"), 0);
	cr_assert_eq(zt_syscall_nr("openat"), __NR_openat);
	cr_assert_eq(zt_syscall_nr("exit_group"), __NR_exit_group);
	cr_assert_eq(zt_syscall_nr("file_setattr"), 469);
	cr_assert_eq(zt_syscall_nr("OPENAT"), -ENOENT);
	cr_assert_eq(zt_syscall_nr("sys_openat"), -ENOENT);
	cr_assert_eq(zt_syscall_nr("open at"), -ENOENT);
	cr_assert_eq(zt_syscall_nr(""), -ENOENT);
}

Test(syscall_names, every_name_round_trips)
{
	int named = 0;

	for (int nr = 0; nr < ZT_MAX_SYSCALLS; nr++) {
		const char *name = zt_syscall_name(nr);

		if (!name)
			continue;
		named++;
		cr_assert_eq(zt_syscall_nr(name), nr, "%s is %d, looked up as %d", name, nr,
			     zt_syscall_nr(name));
	}
	/* x86_64 numbers 0..336, then 424..469 (numbers common to every architecture since 5.1). */
	cr_assert_eq(named, (336 + 1) + (469 - 424 + 1), "named %d", named);
}

Test(syscall_names, parse_list)
{
	bool sel[ZT_MAX_SYSCALLS];
	char err[256] = "";
	int n = 0;

	memset(sel, 1, sizeof(sel));
	cr_assert_eq(zt_syscall_parse_list("read,write,openat", sel, err, sizeof(err)), 0);
	for (int i = 0; i < ZT_MAX_SYSCALLS; i++)
		n += sel[i];
	cr_assert_eq(n, 3);
	cr_assert(sel[0] && sel[1] && sel[__NR_openat]);
	cr_assert_str_eq(err, "");

	cr_assert_eq(zt_syscall_parse_list(" nanosleep ,\tread,read", sel, err, sizeof(err)), 0);
	n = 0;
	for (int i = 0; i < ZT_MAX_SYSCALLS; i++)
		n += sel[i];
	cr_assert_eq(n, 2);
	cr_assert(sel[__NR_nanosleep] && sel[__NR_read]);
}

Test(syscall_names, parse_list_unknown_name)
{
	bool sel[ZT_MAX_SYSCALLS];
	char err[256];

	cr_assert_eq(zt_syscall_parse_list("read,foo,write", sel, err, sizeof(err)), -EINVAL);
	cr_assert_str_eq(err, "unknown syscall 'foo' in --syscalls: see ausyscall --dump or "
			      "/usr/include/asm/unistd_64.h");
	for (int i = 0; i < ZT_MAX_SYSCALLS; i++)
		cr_assert_not(sel[i], "syscall %d left selected after an error", i);

	cr_assert_eq(zt_syscall_parse_list("Read", sel, err, sizeof(err)), -EINVAL);
	cr_assert_str_eq(err, "unknown syscall 'Read' in --syscalls: see ausyscall --dump or "
			      "/usr/include/asm/unistd_64.h");
}

Test(syscall_names, parse_list_empty_items)
{
	static const char *const bad[] = {"", "read,,write", "read,", ",read", " "};
	bool sel[ZT_MAX_SYSCALLS];
	char err[256], want[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(zt_syscall_parse_list(bad[i], sel, err, sizeof(err)), -EINVAL, "'%s'",
			     bad[i]);
		snprintf(want, sizeof(want),
			 "empty syscall name in --syscalls='%s': give a comma-separated list such "
			 "as read,write,openat",
			 bad[i]);
		cr_assert_str_eq(err, want);
	}
}

Test(syscall_names, errno_names)
{
	cr_assert_str_eq(zt_errno_name(ENOENT), "ENOENT");
	cr_assert_str_eq(zt_errno_name(-ENOENT), "ENOENT");
	cr_assert_str_eq(zt_errno_name(EAGAIN), "EAGAIN"); /* not its alias EWOULDBLOCK */
	cr_assert_str_eq(zt_errno_name(-EHWPOISON), "EHWPOISON");
	cr_assert_str_eq(zt_errno_name(-512), "ERESTARTSYS");
	cr_assert_str_eq(zt_errno_name(-516), "ERESTART_RESTARTBLOCK");
	cr_assert_str_eq(zt_errno_name(524), "ENOTSUPP");
	cr_assert_null(zt_errno_name(0));
	cr_assert_null(zt_errno_name(520)); /* a hole in include/linux/errno.h */
	cr_assert_null(zt_errno_name(4095));
	cr_assert_null(zt_errno_name(INT_MIN));
	cr_assert_null(zt_errno_name(INT_MAX));
}

/* glibc names errno values independently of our table: every one must agree. */
Test(syscall_names, errno_names_match_glibc)
{
	for (int e = 1; e <= GLIBC_LAST_ERRNO; e++) {
		const char *glibc = strerrorname_np(e);

		if (!glibc)
			continue;
		cr_assert_not_null(zt_errno_name(e), "errno %d (%s) has no name", e, glibc);
		cr_assert_str_eq(zt_errno_name(e), glibc, "errno %d", e);
	}
}
