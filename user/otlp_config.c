// SPDX-License-Identifier: MIT
/* The OTLP exporter's configuration: defaults, the OTEL_EXPORTER_OTLP_* variables, URLs. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include "export_otlp.h"

void zt_otlp_config_defaults(struct zt_otlp_config *c)
{
	memset(c, 0, sizeof(*c));
	c->gzip = true;
	c->queue_spans = ZT_OTLP_DEFAULT_QUEUE_SPANS;
	c->batch_spans = ZT_OTLP_DEFAULT_BATCH_SPANS;
	c->batch_ms = ZT_OTLP_DEFAULT_BATCH_MS;
	c->give_up_ms = ZT_OTLP_DEFAULT_GIVE_UP_MS;
	c->timeout_ms = ZT_OTLP_DEFAULT_TIMEOUT_MS;
}

/* The traces-specific variable OTEL_EXPORTER_OTLP_TRACES_<what> if set, else the general
 * OTEL_EXPORTER_OTLP_<what>; *name gets the name of the one used. NULL when neither is set. */
static const char *otlp_env(const char *what, char *name, size_t len)
{
	const char *v;

	snprintf(name, len, "OTEL_EXPORTER_OTLP_TRACES_%s", what);
	v = getenv(name);
	if (v && *v)
		return v;
	snprintf(name, len, "OTEL_EXPORTER_OTLP_%s", what);
	v = getenv(name);
	return v && *v ? v : NULL;
}

int zt_otlp_parse_protocol(const char *protocol, bool *json, char *err, size_t errlen)
{
	if (!strcmp(protocol, "http/protobuf")) {
		*json = false;
		return 0;
	}
	if (!strcmp(protocol, "http/json")) {
		*json = true;
		return 0;
	}
	if (!strcmp(protocol, "grpc"))
		snprintf(err, errlen,
			 "OTLP protocol 'grpc' is not supported: ztrace speaks OTLP/HTTP; use "
			 "http/protobuf or http/json (collectors take it on port 4318)");
	else
		snprintf(err, errlen, "unknown OTLP protocol '%s': use http/protobuf or http/json",
			 protocol);
	return -EINVAL;
}

int zt_otlp_config_from_env(struct zt_otlp_config *c, char *err, size_t errlen)
{
	char name[64], msg[256];
	const char *v;

	v = getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
	if (v && *v) {
		c->endpoint = v;
		c->endpoint_exact = true;
	} else {
		v = getenv("OTEL_EXPORTER_OTLP_ENDPOINT");
		if (v && *v) {
			c->endpoint = v;
			c->endpoint_exact = false;
		}
	}
	v = otlp_env("PROTOCOL", name, sizeof(name));
	if (v && zt_otlp_parse_protocol(v, &c->json, msg, sizeof(msg))) {
		snprintf(err, errlen, "%s: %s", name, msg);
		return -EINVAL;
	}
	v = otlp_env("HEADERS", name, sizeof(name));
	if (v)
		c->headers = v;
	v = otlp_env("COMPRESSION", name, sizeof(name));
	if (v) {
		if (!strcmp(v, "gzip")) {
			c->gzip = true;
		} else if (!strcmp(v, "none")) {
			c->gzip = false;
		} else {
			snprintf(err, errlen, "%s=%s is not supported: use gzip or none", name, v);
			return -EINVAL;
		}
	}
	v = otlp_env("TIMEOUT", name, sizeof(name));
	if (v) {
		char *end;
		unsigned long ms;

		errno = 0;
		ms = strtoul(v, &end, 10);
		if (errno || *end || end == v || ms == 0 || ms > UINT_MAX) {
			snprintf(err, errlen,
				 "%s=%s is not a timeout: give milliseconds, a positive integer",
				 name, v);
			return -EINVAL;
		}
		c->timeout_ms = ms;
	}
	v = getenv("OTEL_RESOURCE_ATTRIBUTES");
	if (v && *v)
		c->resource_attrs = v;
	return 0;
}

int zt_otlp_check_url(const char *url, char *err, size_t errlen)
{
	CURLU *u = NULL;
	CURLUcode uc;
	char *scheme = NULL, *host = NULL;
	int ret = -EINVAL;

	if (!url || !*url) {
		snprintf(err, errlen,
			 "OTLP endpoint is empty: give a URL like http://localhost:4318");
		return -EINVAL;
	}
	/* "localhost:4318" parses as a URL whose scheme is "localhost": catch it first */
	if (!strstr(url, "://")) {
		snprintf(err, errlen, "OTLP endpoint '%s' has no scheme: write http://%s", url,
			 url);
		return -EINVAL;
	}
	u = curl_url();
	if (!u) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	uc = curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME);
	if (uc) {
		snprintf(err, errlen,
			 "OTLP endpoint '%s' is not a valid URL (%s): give one like "
			 "http://localhost:4318",
			 url, curl_url_strerror(uc));
		goto out;
	}
	if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) ||
	    (strcmp(scheme, "http") && strcmp(scheme, "https"))) {
		snprintf(
		    err, errlen,
		    "OTLP endpoint '%s': scheme '%s' is not supported: ztrace sends OTLP/HTTP, "
		    "use http:// or https://",
		    url, scheme ? scheme : "");
		goto out;
	}
	if (curl_url_get(u, CURLUPART_HOST, &host, 0) || !*host) {
		snprintf(err, errlen,
			 "OTLP endpoint '%s' has no host: give one like "
			 "http://localhost:4318",
			 url);
		goto out;
	}
	ret = 0;
out:
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return ret;
}

char *zt_otlp_traces_url(const char *endpoint, bool exact)
{
	const size_t suffix_len = strlen(ZT_OTLP_TRACES_PATH);
	const char *path, *path_end;
	size_t head;
	char *url;

	if (exact)
		return strdup(endpoint);
	/* the path starts after "scheme://authority" and ends at a query or fragment */
	path = strstr(endpoint, "://");
	path = path ? path + 3 : endpoint;
	path += strcspn(path, "/?#");
	path_end = path + strcspn(path, "?#");
	head = path_end - endpoint;
	if ((size_t)(path_end - path) >= suffix_len &&
	    !memcmp(path_end - suffix_len, ZT_OTLP_TRACES_PATH, suffix_len))
		return strdup(endpoint);
	while (head > (size_t)(path - endpoint) && endpoint[head - 1] == '/')
		head--;
	url = malloc(strlen(endpoint) + suffix_len + 1);
	if (!url)
		return NULL;
	memcpy(url, endpoint, head);
	strcpy(url + head, ZT_OTLP_TRACES_PATH);
	strcat(url, path_end);
	return url;
}
