/* SPDX-License-Identifier: MIT */
/*
 * The --metrics-addr HTTP endpoint (libmicrohttpd, one internal polling thread):
 * GET /metrics serves the registry as Prometheus text, /healthz and /readyz answer "ok".
 */
#ifndef ZTRACE_HTTP_SERVER_H
#define ZTRACE_HTTP_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct zt_http;
struct zt_metrics;

/*
 * Split "[HOST:]PORT" into a socket address. HOST is a name, an IPv4 address or a bracketed
 * IPv6 address ("[::1]:9464"); without HOST (or with an empty one, ":9464") the address is
 * 127.0.0.1, so the endpoint is never exposed by accident; all interfaces are 0.0.0.0 or [::].
 * PORT 0 picks a free port. Returns 0, or -EINVAL (malformed) / -EADDRNOTAVAIL (the host does
 * not resolve) with a message naming the problem in err.
 */
int zt_http_parse_addr(const char *addr, struct sockaddr_storage *sa, socklen_t *salen, char *err,
		       size_t errlen);

/*
 * Listen on addr ("[HOST:]PORT") and serve m from a thread of the server's own; m must outlive
 * the server. Returns the server, or NULL with errno set and a message in err: EINVAL for a
 * bad address, EADDRINUSE ("port 9464 on 127.0.0.1 is already in use: choose another with
 * --metrics-addr"), EADDRNOTAVAIL, EACCES, or another errno from the socket calls.
 */
struct zt_http *zt_http_start(const char *addr, struct zt_metrics *m, char *err, size_t errlen);

/* The port the server listens on (useful after asking for port 0). */
uint16_t zt_http_port(const struct zt_http *h);

/* Stop serving (waits for requests in progress) and free h. NULL is fine. */
void zt_http_stop(struct zt_http *h);

#endif
