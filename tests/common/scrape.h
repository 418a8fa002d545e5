/* SPDX-License-Identifier: MIT */
/* Test helper: an HTTP GET, and a sample read from an exposition (zt_free_port: testenv.h). */
#ifndef ZT_TEST_SCRAPE_H
#define ZT_TEST_SCRAPE_H

/* GET url, giving up after timeout_ms. Returns the HTTP status (0 when nothing answered);
 * *body is malloc'd (the caller frees it) or NULL. */
long zt_http_get(const char *url, long timeout_ms, char **body);

/* Value of the sample of series (name and labels exactly as ztrace writes them) in an
 * exposition, or -1 when absent. */
double zt_metric_sample(const char *text, const char *series);

#endif
