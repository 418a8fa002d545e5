/* SPDX-License-Identifier: MIT */
/* Test helper: HTTP GET with libcurl, and reading samples of a Prometheus exposition. */
#ifndef ZT_TEST_WEBGET_H
#define ZT_TEST_WEBGET_H

/* How long one GET may take, in milliseconds. */
#define ZT_HTTP_TIMEOUT_MS 5000

/* GET url. Returns the HTTP status (0 when nothing answered); *body is malloc'd or NULL. */
long zt_http_get(const char *url, char **body);

/*
 * Value of the sample of series (name and labels exactly as ztrace writes them) in an
 * exposition, or -1 when absent.
 */
double zt_exposition_value(const char *text, const char *series);

#endif
