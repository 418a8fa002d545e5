// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <bpf/libbpf.h>
#include "log.h"

static enum zt_log_level current_level = ZT_LOG_NOTICE;
static enum zt_log_format current_format = ZT_LOGFMT_TEXT;

void zt_log_set_format(enum zt_log_format format)
{
	current_format = format;
}

static const char *level_name(enum zt_log_level level)
{
	static const char *names[] = { "error", "warn", "info", "info", "debug" };

	return names[level];
}

/* msg as a quoted string, escaped for logfmt and JSON alike (both take \" and \\). */
static void put_quoted(const char *msg)
{
	fputc('"', stderr);
	for (const char *c = msg; *c; c++) {
		if (*c == '"' || *c == '\\')
			fprintf(stderr, "\\%c", *c);
		else if ((unsigned char)*c < 0x20)
			fprintf(stderr, "\\u%04x", *c);
		else
			fputc(*c, stderr);
	}
	fputc('"', stderr);
}

static void log_structured(enum zt_log_level level, const char *msg)
{
	struct timespec ts;
	char when[64];
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(when, sizeof(when), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 ts.tv_nsec / 1000000);
	if (current_format == ZT_LOGFMT_JSON) {
		fprintf(stderr, "{\"ts\":\"%s\",\"level\":\"%s\",\"msg\":", when,
			level_name(level));
		put_quoted(msg);
		fputs("}\n", stderr);
	} else {
		fprintf(stderr, "ts=%s level=%s msg=", when, level_name(level));
		put_quoted(msg);
		fputc('\n', stderr);
	}
}

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
	char msg[1024];
	va_list ap;
	size_t len;

	if (level > current_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	len = strlen(msg);
	if (len && msg[len - 1] == '\n')
		msg[--len] = '\0';
	if (current_format != ZT_LOGFMT_TEXT) {
		log_structured(level, msg);
		return;
	}
	fputs(level == ZT_LOG_WARN ? "ztrace: warning: " : "ztrace: ", stderr);
	/* one message, one line: control characters from user input are shown escaped */
	for (const char *c = msg; *c; c++) {
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			fprintf(stderr, "\\x%02x", (unsigned char)*c);
		else
			fputc(*c, stderr);
	}
	fputc('\n', stderr);
}

void zt_msg_clean(char *msg)
{
	for (char *c = msg; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
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
