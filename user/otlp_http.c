// SPDX-License-Identifier: MIT
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include <zlib.h>
#include "otlp_attrs.h"
#include "otlp_http.h"
#include "ztrace/limits.h"

/* Bytes of a response body kept to explain a rejection. */
#define RESPONSE_KEEP 256
/* deflateInit2() window bits asking for the gzip wrapper instead of zlib's: 15 + 16. */
#define GZIP_WINDOW_BITS (15 + 16)
#define GZIP_MEM_LEVEL	 8
/* Characters of an HTTP header name (RFC 9110 token). */
#define HTTP_TOKEN_CHARS                                                                           \
	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-.^_`|~"

struct zt_otlp_http {
	CURL *curl;
	struct curl_slist *headers;
	int (*cancel)(void *ctx);
	void *ctx;
	struct zt_buf response; /* the start of the last response body */
	char curl_err[CURL_ERROR_SIZE];
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

/* curl_global_init() is not thread-safe; run it once whoever comes first. */
static void curl_init(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

struct header_ctx {
	struct curl_slist *list;
	char *err;
	size_t errlen;
};

static int add_header(const char *key, const char *value, void *ctx)
{
	struct header_ctx *h = ctx;
	struct curl_slist *l;
	char *line;

	if (key[strspn(key, HTTP_TOKEN_CHARS)]) {
		snprintf(h->err, h->errlen, "OTLP header name '%s' is not a valid HTTP header name",
			 key);
		return -EINVAL;
	}
	/* a line break would let a value add headers of its own */
	if (strpbrk(value, "\r\n")) {
		snprintf(h->err, h->errlen, "OTLP header '%s' has a line break in its value", key);
		return -EINVAL;
	}
	if (asprintf(&line, "%s: %s", key, value) < 0)
		return -ENOMEM;
	l = curl_slist_append(h->list, line);
	free(line);
	if (!l)
		return -ENOMEM;
	h->list = l;
	return 0;
}

/* The request headers into *out. Returns 0, or -EINVAL/-ENOMEM with a message in err. */
static int build_headers(bool json, bool gzip, const char *extra, struct curl_slist **out,
			 char *err, size_t errlen)
{
	struct header_ctx h = {.err = err, .errlen = errlen};
	int ret = -ENOMEM;

	h.list = curl_slist_append(NULL, json ? "Content-Type: application/json"
					      : "Content-Type: application/x-protobuf");
	if (h.list && gzip)
		h.list = curl_slist_append(h.list, "Content-Encoding: gzip");
	/* no "Expect: 100-continue" round trip before large bodies */
	if (h.list)
		h.list = curl_slist_append(h.list, "Expect:");
	if (!h.list)
		goto fail;
	if (extra) {
		ret = zt_otlp_parse_kv_list(extra, add_header, &h);
		if (ret > 0) {
			snprintf(
			    err, errlen,
			    "OTLP headers '%s': every entry must be name=value, comma-separated",
			    extra);
			ret = -EINVAL;
		}
		if (ret < 0)
			goto fail;
	}
	*out = h.list;
	return 0;
fail:
	if (ret == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	curl_slist_free_all(h.list);
	return ret;
}

static size_t keep_body(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct zt_buf *keep = ctx;
	size_t n = size * nmemb, room = RESPONSE_KEEP - keep->len;

	if (room)
		zt_buf_append(keep, data, n < room ? n : room);
	return n;
}

static int xfer_check(void *ctx, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		      curl_off_t ulnow)
{
	struct zt_otlp_http *h = ctx;

	return h->cancel && h->cancel(h->ctx);
}

struct zt_otlp_http *zt_otlp_http_new(const char *url, bool json, bool gzip, const char *headers,
				      int (*cancel)(void *ctx), void *ctx, char *err, size_t errlen)
{
	struct zt_otlp_http *h;
	int ret;

	pthread_once(&curl_once, curl_init);
	if (curl_init_rc) {
		snprintf(err, errlen, "libcurl: %s", curl_easy_strerror(curl_init_rc));
		errno = EIO;
		return NULL;
	}
	h = calloc(1, sizeof(*h));
	if (!h) {
		snprintf(err, errlen, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	h->cancel = cancel;
	h->ctx = ctx;
	ret = build_headers(json, gzip, headers, &h->headers, err, errlen);
	if (ret) {
		free(h);
		errno = -ret;
		return NULL;
	}
	h->curl = curl_easy_init();
	if (!h->curl) {
		snprintf(err, errlen, "cannot create a libcurl handle");
		zt_otlp_http_free(h);
		errno = ENOMEM;
		return NULL;
	}
	/* one handle for every request keeps the connection alive between batches */
	curl_easy_setopt(h->curl, CURLOPT_URL, url);
	curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, h->headers);
	curl_easy_setopt(h->curl, CURLOPT_USERAGENT, "ztrace");
	/* timeouts in a threaded program: no SIGALRM */
	curl_easy_setopt(h->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h->curl, CURLOPT_CONNECTTIMEOUT_MS, (long)ZT_OTLP_CONNECT_TIMEOUT_MS);
	curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, keep_body);
	curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, &h->response);
	curl_easy_setopt(h->curl, CURLOPT_ERRORBUFFER, h->curl_err);
	curl_easy_setopt(h->curl, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h->curl, CURLOPT_XFERINFOFUNCTION, xfer_check);
	curl_easy_setopt(h->curl, CURLOPT_XFERINFODATA, h);
	return h;
}

enum zt_otlp_http_result zt_otlp_http_post(struct zt_otlp_http *h, const void *body, size_t len,
					   unsigned timeout_ms, unsigned *retry_after_ms, char *why,
					   size_t whylen)
{
	curl_off_t retry_after = 0;
	long status = 0;
	CURLcode rc;

	*retry_after_ms = 0;
	h->response.len = 0;
	h->curl_err[0] = '\0';
	curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, (const char *)body);
	curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(h->curl, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	rc = curl_easy_perform(h->curl);
	if (rc != CURLE_OK) {
		snprintf(why, whylen, "%s", h->curl_err[0] ? h->curl_err : curl_easy_strerror(rc));
		return ZT_OTLP_HTTP_RETRY;
	}
	curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status >= 200 && status < 300)
		return ZT_OTLP_HTTP_OK;
	if (status == 429 || status == 502 || status == 503 || status == 504) {
		/* libcurl parses both forms of Retry-After (seconds, HTTP date) into seconds */
		if (!curl_easy_getinfo(h->curl, CURLINFO_RETRY_AFTER, &retry_after) &&
		    retry_after > 0)
			*retry_after_ms =
			    retry_after > UINT32_MAX / 1000 ? UINT32_MAX : retry_after * 1000;
		snprintf(why, whylen, "HTTP %ld", status);
		return ZT_OTLP_HTTP_RETRY;
	}
	/* the body explains a rejection; keep it on one line */
	for (size_t i = 0; i < h->response.len; i++)
		if (h->response.data[i] < ' ')
			h->response.data[i] = ' ';
	while (h->response.len && h->response.data[h->response.len - 1] == ' ')
		h->response.len--;
	snprintf(why, whylen, "HTTP %ld: %.*s", status, (int)h->response.len,
		 h->response.data ? (const char *)h->response.data : "");
	return ZT_OTLP_HTTP_REJECTED;
}

int zt_otlp_http_probe(const char *url, char *why, size_t whylen)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	CURL *c;
	CURLcode rc;

	pthread_once(&curl_once, curl_init);
	c = curl_easy_init();
	if (!c) {
		snprintf(why, whylen, "cannot create a libcurl handle");
		return -EIO;
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CONNECT_ONLY, 1L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)ZT_OTLP_CONNECT_TIMEOUT_MS);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	rc = curl_easy_perform(c);
	curl_easy_cleanup(c);
	if (rc == CURLE_OK)
		return 0;
	snprintf(why, whylen, "%s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
	return -EIO;
}

void zt_otlp_http_free(struct zt_otlp_http *h)
{
	if (!h)
		return;
	if (h->curl)
		curl_easy_cleanup(h->curl);
	curl_slist_free_all(h->headers);
	zt_buf_free(&h->response);
	free(h);
}

int zt_gzip(const void *in, size_t len, struct zt_buf *out)
{
	z_stream zs = {0};
	int ret;

	if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, GZIP_WINDOW_BITS, GZIP_MEM_LEVEL,
			 Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
	out->len = 0;
	ret = zt_buf_reserve(out, deflateBound(&zs, len));
	if (ret)
		goto out;
	zs.next_in = (Bytef *)in;
	zs.avail_in = len;
	zs.next_out = out->data;
	zs.avail_out = out->cap;
	/* the output has deflateBound() bytes of room, so one call finishes the stream */
	ret = deflate(&zs, Z_FINISH) == Z_STREAM_END ? 0 : -EIO;
	out->len = zs.total_out;
out:
	deflateEnd(&zs);
	return ret;
}
