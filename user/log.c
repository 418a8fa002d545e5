// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "log.h"

static enum zt_log_level current_level = ZT_LOG_WARN;

void zt_log_set_level(enum zt_log_level level)
{
	current_level = level;
}

enum zt_log_level zt_log_get_level(void)
{
	return current_level;
}

void zt_log(enum zt_log_level level, const char *fmt, ...)
{
	va_list ap;

	if (level > current_level)
		return;
	fputs(level == ZT_LOG_WARN ? "ztrace: warning: " : "ztrace: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (fmt[0] && fmt[strlen(fmt) - 1] != '\n')
		fputc('\n', stderr);
}

/* libbpf warns about things ztrace handles itself (probing features, retrying attach); its
 * messages only help when debugging ztrace, so they show at -vv. */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (current_level < ZT_LOG_DEBUG)
		return 0;
	fputs("ztrace: libbpf: ", stderr);
	return vfprintf(stderr, fmt, ap);
}

void zt_log_install_libbpf(void)
{
	libbpf_set_print(libbpf_print);
}
