/* SPDX-License-Identifier: MIT */
/* Diagnostics on stderr, every line prefixed "ztrace: ", and the bridge for libbpf's messages. */
#ifndef ZTRACE_LOG_H
#define ZTRACE_LOG_H

/* NOTICE: what a user should see by default that is not a problem (where metrics are served). */
enum zt_log_level { ZT_LOG_ERROR, ZT_LOG_WARN, ZT_LOG_NOTICE, ZT_LOG_INFO, ZT_LOG_DEBUG };

/* How lines look: "ztrace: msg" for people, logfmt or JSON lines for log collectors (agent). */
enum zt_log_format { ZT_LOGFMT_TEXT, ZT_LOGFMT_LOGFMT, ZT_LOGFMT_JSON };
void zt_log_set_format(enum zt_log_format format);

/* Messages above level are discarded. Default ZT_LOG_NOTICE; -v gives INFO, -vv DEBUG. */
void zt_log_set_level(enum zt_log_level level);
enum zt_log_level zt_log_get_level(void);

void zt_log(enum zt_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define zt_err(...) zt_log(ZT_LOG_ERROR, __VA_ARGS__)
#define zt_warn(...) zt_log(ZT_LOG_WARN, __VA_ARGS__)
#define zt_notice(...) zt_log(ZT_LOG_NOTICE, __VA_ARGS__)
#define zt_info(...) zt_log(ZT_LOG_INFO, __VA_ARGS__)
#define zt_debug(...) zt_log(ZT_LOG_DEBUG, __VA_ARGS__)

/*
 * Make msg one printable line in place: control characters (a newline typed into an argument)
 * become '?'. Parsers call it on the messages that quote user input.
 */
void zt_msg_clean(char *msg);

/* Route libbpf's own messages through zt_log (warnings as debug unless -vv). */
void zt_log_install_libbpf(void);

#endif
