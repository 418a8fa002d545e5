// SPDX-License-Identifier: MIT
/* The metrics endpoint on libmicrohttpd; see http_server.h. */
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>

#include "ztrace/limits.h"
#include "http_server.h"
#include "log.h"
#include "metrics.h"

#define DEFAULT_HOST "127.0.0.1"
#define MAX_PORT     65535
/* Longest "[HOST:]PORT" accepted: a DNS name (253) plus brackets, colon and port. */
#define ADDR_MAX_LEN 272
/* Longest libmicrohttpd diagnostic kept; the rest is cut. */
#define MHD_LOG_LEN 256

#define CONTENT_TYPE_METRICS "text/plain; version=0.0.4; charset=utf-8"
#define CONTENT_TYPE_TEXT    "text/plain; charset=utf-8"

struct zt_http {
	struct MHD_Daemon *daemon;
	struct zt_metrics *metrics;
	uint16_t port;
};

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

int zt_http_parse_addr(const char *addr, struct sockaddr_storage *sa, socklen_t *salen, char *err,
		       size_t errlen)
{
	struct addrinfo hints = {
	    .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
	struct addrinfo *res = NULL;
	char buf[ADDR_MAX_LEN + 1];
	char *host, *port, *colon;
	unsigned long portnum;
	int ret = 0, gai;

	if (strlen(addr) > ADDR_MAX_LEN) {
		snprintf(err, errlen,
			 "--metrics-addr is too long (%zu bytes): expected [HOST:]PORT",
			 strlen(addr));
		return -EINVAL;
	}
	strcpy(buf, addr);
	if (buf[0] == '[') {
		char *close = strchr(buf, ']');

		if (!close || close[1] != ':') {
			snprintf(
			    err, errlen,
			    "invalid --metrics-addr '%s': expected [IPV6]:PORT, e.g. [::1]:9464",
			    addr);
			return -EINVAL;
		}
		*close = '\0';
		host = buf + 1;
		port = close + 2;
	} else {
		colon = strrchr(buf, ':');
		if (colon && colon != strchr(buf, ':')) {
			snprintf(err, errlen,
				 "invalid --metrics-addr '%s': put an IPv6 address in brackets, "
				 "e.g. [::1]:9464",
				 addr);
			return -EINVAL;
		}
		if (colon) {
			*colon = '\0';
			host = buf;
			port = colon + 1;
		} else {
			host = NULL;
			port = buf;
		}
	}
	portnum = all_digits(port) && strlen(port) <= 5 ? strtoul(port, NULL, 10) : ULONG_MAX;
	if (portnum > MAX_PORT) {
		snprintf(err, errlen,
			 "invalid --metrics-addr '%s': expected [HOST:]PORT with PORT 0-65535",
			 addr);
		return -EINVAL;
	}
	/* No host, or an empty one: loopback, never every interface by surprise. */
	if (!host || !*host)
		host = DEFAULT_HOST;
	gai = getaddrinfo(host, port, &hints, &res);
	if (gai) {
		snprintf(err, errlen, "cannot resolve host '%s' in --metrics-addr '%s': %s", host,
			 addr, gai == EAI_SYSTEM ? strerror(errno) : gai_strerror(gai));
		ret = -EADDRNOTAVAIL;
		goto out;
	}
	memcpy(sa, res->ai_addr, res->ai_addrlen);
	*salen = res->ai_addrlen;
out:
	if (res)
		freeaddrinfo(res);
	return ret;
}

/* Numeric host and port of sa, for messages. */
static void describe_addr(const struct sockaddr *sa, socklen_t salen, char *host, size_t hostlen,
			  char *port, size_t portlen)
{
	if (getnameinfo(sa, salen, host, hostlen, port, portlen, NI_NUMERICHOST | NI_NUMERICSERV)) {
		snprintf(host, hostlen, "?");
		snprintf(port, portlen, "?");
	}
}

/* Bound and listening socket for sa. Returns the fd, or -errno with a message in err. */
static int listen_on(const struct sockaddr_storage *sa, socklen_t salen, char *err, size_t errlen)
{
	char host[NI_MAXHOST], port[NI_MAXSERV];
	int one = 1;
	int fd, ret;

	describe_addr((const struct sockaddr *)sa, salen, host, sizeof(host), port, sizeof(port));
	fd = socket(sa->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot create a socket for %s: %s", host, strerror(-ret));
		return ret;
	}
	/* Restarting the agent must not fail on connections of the previous run in TIME_WAIT. */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)sa, salen)) {
		ret = -errno;
		if (ret == -EADDRINUSE)
			snprintf(
			    err, errlen,
			    "port %s on %s is already in use: choose another with --metrics-addr",
			    port, host);
		else if (ret == -EADDRNOTAVAIL)
			snprintf(err, errlen,
				 "cannot listen on %s port %s: no interface of this host has that "
				 "address (--metrics-addr)",
				 host, port);
		else
			snprintf(err, errlen, "cannot listen on %s port %s: %s (--metrics-addr)",
				 host, port, strerror(-ret));
		goto fail;
	}
	if (listen(fd, ZT_HTTP_LISTEN_BACKLOG)) {
		ret = -errno;
		snprintf(err, errlen, "cannot listen on %s port %s: %s", host, port,
			 strerror(-ret));
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return ret;
}

static enum MHD_Result respond(struct MHD_Connection *conn, unsigned int status,
			       const char *content_type, char *body, size_t len,
			       enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, body, mode);
	enum MHD_Result ret;

	if (!resp) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result respond_static(struct MHD_Connection *conn, unsigned int status,
				      const char *body)
{
	return respond(conn, status, CONTENT_TYPE_TEXT, (char *)body, strlen(body),
		       MHD_RESPMEM_PERSISTENT);
}

/* libmicrohttpd's access handler: one call per request (none of ours has a body). */
static enum MHD_Result handle_request(void *cls, struct MHD_Connection *conn, const char *url,
				      const char *method, const char *version,
				      const char *upload_data, size_t *upload_data_size,
				      void **req_cls)
{
	struct zt_http *h = cls;
	char *text;
	size_t len;
	int err;

	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return respond_static(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n");
	if (strcmp(url, "/healthz") == 0 || strcmp(url, "/readyz") == 0)
		return respond_static(conn, MHD_HTTP_OK, "ok");
	if (strcmp(url, "/metrics") != 0)
		return respond_static(conn, MHD_HTTP_NOT_FOUND,
				      "not found: metrics are at /metrics\n");
	err = zt_metrics_render(h->metrics, &text, &len);
	if (err) {
		zt_warn("metrics: cannot render /metrics: %s", strerror(-err));
		return respond_static(conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
				      "cannot render metrics\n");
	}
	return respond(conn, MHD_HTTP_OK, CONTENT_TYPE_METRICS, text, len, MHD_RESPMEM_MUST_FREE);
}

/* libmicrohttpd's diagnostics, as debug messages (a client's broken connection is no error). */
static void log_mhd(void *cls, const char *fmt, va_list ap)
{
	char msg[MHD_LOG_LEN];
	size_t n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = '\0';
	zt_debug("metrics http: %s", msg);
}

struct zt_http *zt_http_start(const char *addr, struct zt_metrics *m, char *err, size_t errlen)
{
	struct sockaddr_storage sa, bound;
	socklen_t salen, boundlen = sizeof(bound);
	struct zt_http *h = NULL;
	sigset_t all, old;
	int fd = -1, ret;

	ret = zt_http_parse_addr(addr, &sa, &salen, err, errlen);
	if (ret)
		goto fail;
	fd = listen_on(&sa, salen, err, errlen);
	if (fd < 0) {
		ret = fd;
		goto fail;
	}
	if (getsockname(fd, (struct sockaddr *)&bound, &boundlen)) {
		ret = -errno;
		snprintf(err, errlen, "cannot read the metrics socket's address: %s",
			 strerror(errno));
		goto fail;
	}
	h = calloc(1, sizeof(*h));
	if (!h) {
		ret = -ENOMEM;
		snprintf(err, errlen, "cannot start the metrics server: %s", strerror(ENOMEM));
		goto fail;
	}
	h->metrics = m;
	h->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
						    : ((struct sockaddr_in *)&bound)->sin_port);
	/*
	 * We bind the socket ourselves rather than through MHD_OPTION_SOCK_ADDR: only then is the
	 * errno of bind() ours to report (port in use, address not on this host).
	 */
	/*
	 * The server thread inherits the caller's signal mask: start it with every signal
	 * blocked, or a SIGINT meant for the agent's signalfd would kill the process there.
	 */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	h->daemon = MHD_start_daemon(
	    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG, 0, NULL, NULL,
	    handle_request, h, MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_CONNECTION_LIMIT,
	    (unsigned int)ZT_HTTP_MAX_CONNECTIONS, MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned int)ZT_HTTP_CONNECTION_TIMEOUT_S, MHD_OPTION_EXTERNAL_LOGGER, log_mhd, NULL,
	    MHD_OPTION_END);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!h->daemon) {
		/*
		 * Whether a failed start closed the socket it was given differs between
		 * libmicrohttpd versions: leak it rather than risk closing someone else's fd.
		 */
		fd = -1;
		ret = -EIO;
		snprintf(err, errlen,
			 "cannot start the metrics server on %s (libmicrohttpd failed)", addr);
		goto fail;
	}
	return h;
fail:
	if (fd >= 0)
		close(fd);
	free(h);
	errno = -ret;
	return NULL;
}

uint16_t zt_http_port(const struct zt_http *h)
{
	return h->port;
}

void zt_http_stop(struct zt_http *h)
{
	if (!h)
		return;
	/* Also closes the listening socket. */
	MHD_stop_daemon(h->daemon);
	free(h);
}
