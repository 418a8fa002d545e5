// SPDX-License-Identifier: MIT
/* Prometheus text exposition format 0.0.4 writer; see prom_text.h. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prom_text.h"

#define NS_PER_SEC 1000000000ull
/* First size of the output buffer; it doubles from there. */
#define PROM_BUF_INITIAL 4096
/* Shortest-round-trip search for doubles: 17 significant digits always read back exactly. */
#define DOUBLE_MAX_DIGITS 17

void zt_prom_init(struct zt_prom *p)
{
	memset(p, 0, sizeof(*p));
}

void zt_prom_free(struct zt_prom *p)
{
	for (size_t i = 0; i < p->nfamilies; i++)
		free(p->families[i]);
	free(p->families);
	free(p->buf);
	memset(p, 0, sizeof(*p));
}

/* Make room for n more bytes plus a NUL. Returns 0 or -ENOMEM (also recorded in p->err). */
static int reserve(struct zt_prom *p, size_t n)
{
	size_t cap = p->cap ? p->cap : PROM_BUF_INITIAL;
	char *buf;

	if (p->err)
		return p->err;
	if (p->len + n + 1 <= p->cap)
		return 0;
	while (cap < p->len + n + 1)
		cap *= 2;
	buf = realloc(p->buf, cap);
	if (!buf) {
		p->err = -ENOMEM;
		return p->err;
	}
	p->buf = buf;
	p->cap = cap;
	return 0;
}

static void put_mem(struct zt_prom *p, const char *s, size_t n)
{
	if (reserve(p, n))
		return;
	memcpy(p->buf + p->len, s, n);
	p->len += n;
	p->buf[p->len] = '\0';
}

static void put(struct zt_prom *p, const char *s)
{
	put_mem(p, s, strlen(s));
}

static void put_char(struct zt_prom *p, char c)
{
	put_mem(p, &c, 1);
}

/*
 * Length of the valid UTF-8 sequence at s (n bytes available), or 0 when it is not one.
 * Overlong forms, surrogates and code points past U+10FFFF are invalid, as in Go's
 * unicode/utf8, which Prometheus uses to reject a whole scrape.
 */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

/*
 * Write s escaped: backslash and newline always, the double quote inside label values only
 * (HELP text keeps it). Bytes that are not UTF-8 become U+FFFD.
 */
static void put_escaped(struct zt_prom *p, const char *s, bool quote)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = strlen(s);

	for (size_t i = 0; i < n;) {
		size_t len = utf8_seq_len(u + i, n - i);

		if (!len) {
			put(p, "\xef\xbf\xbd");
			i++;
			continue;
		}
		if (u[i] == '\\')
			put(p, "\\\\");
		else if (u[i] == '\n')
			put(p, "\\n");
		else if (u[i] == '"' && quote)
			put(p, "\\\"");
		else
			put_mem(p, s + i, len);
		i += len;
	}
}

static bool valid_name(const char *s, bool colon)
{
	if (!*s)
		return false;
	for (const char *c = s; *c; c++) {
		bool alpha = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || *c == '_' ||
			     (colon && *c == ':');

		if (!alpha && !(c != s && *c >= '0' && *c <= '9'))
			return false;
	}
	return true;
}

static int fail(struct zt_prom *p, int err)
{
	if (!p->err)
		p->err = err;
	return p->err;
}

int zt_prom_family(struct zt_prom *p, const char *name, enum zt_prom_type type, const char *help)
{
	char **families;
	char *copy;

	if (p->err)
		return p->err;
	if (!valid_name(name, true))
		return fail(p, -EINVAL);
	for (size_t i = 0; i < p->nfamilies; i++)
		if (strcmp(p->families[i], name) == 0)
			return fail(p, -EEXIST);
	if (p->nfamilies == p->families_cap) {
		size_t cap = p->families_cap ? 2 * p->families_cap : 16;

		families = realloc(p->families, cap * sizeof(*families));
		if (!families)
			return fail(p, -ENOMEM);
		p->families = families;
		p->families_cap = cap;
	}
	copy = strdup(name);
	if (!copy)
		return fail(p, -ENOMEM);
	p->families[p->nfamilies++] = copy;
	p->family = copy;
	p->help = help;
	p->type = type;
	p->header_written = false;
	return 0;
}

static const char *type_name(enum zt_prom_type type)
{
	switch (type) {
	case ZT_PROM_COUNTER:
		return "counter";
	case ZT_PROM_GAUGE:
		return "gauge";
	case ZT_PROM_HISTOGRAM:
		return "histogram";
	}
	return "untyped";
}

/* Check that a sample of kind type may go to the current family; write its header once. */
static int begin_sample(struct zt_prom *p, bool histogram, const struct zt_prom_label *labels,
			size_t nlabels)
{
	if (p->err)
		return p->err;
	if (!p->family || (p->type == ZT_PROM_HISTOGRAM) != histogram)
		return fail(p, -EINVAL);
	for (size_t i = 0; i < nlabels; i++) {
		if (!valid_name(labels[i].name, false))
			return fail(p, -EINVAL);
		/* le is the bucket bound of histograms; quantile is reserved for summaries. */
		if (histogram && strcmp(labels[i].name, "le") == 0)
			return fail(p, -EINVAL);
	}
	if (p->header_written)
		return 0;
	put(p, "# HELP ");
	put(p, p->family);
	put_char(p, ' ');
	put_escaped(p, p->help ? p->help : "", false);
	put(p, "\n# TYPE ");
	put(p, p->family);
	put_char(p, ' ');
	put(p, type_name(p->type));
	put_char(p, '\n');
	p->header_written = true;
	return p->err;
}

/* Write "name{labels[,le="le"]} " (no braces without labels) for family + suffix. */
static void put_series(struct zt_prom *p, const char *suffix, const struct zt_prom_label *labels,
		       size_t nlabels, const char *le)
{
	put(p, p->family);
	put(p, suffix);
	if (nlabels || le) {
		put_char(p, '{');
		for (size_t i = 0; i < nlabels; i++) {
			if (i)
				put_char(p, ',');
			put(p, labels[i].name);
			put(p, "=\"");
			put_escaped(p, labels[i].value ? labels[i].value : "", true);
			put_char(p, '"');
		}
		if (le) {
			put(p, nlabels ? ",le=\"" : "le=\"");
			put(p, le);
			put_char(p, '"');
		}
		put_char(p, '}');
	}
	put_char(p, ' ');
}

static void put_u64_line(struct zt_prom *p, uint64_t v)
{
	char num[ZT_PROM_NUM_LEN];

	snprintf(num, sizeof(num), "%" PRIu64 "\n", v);
	put(p, num);
}

int zt_prom_sample_u64(struct zt_prom *p, const struct zt_prom_label *labels, size_t nlabels,
		       uint64_t value)
{
	if (begin_sample(p, false, labels, nlabels))
		return p->err;
	put_series(p, "", labels, nlabels, NULL);
	put_u64_line(p, value);
	return p->err;
}

int zt_prom_sample(struct zt_prom *p, const struct zt_prom_label *labels, size_t nlabels,
		   double value)
{
	char num[ZT_PROM_NUM_LEN];

	if (begin_sample(p, false, labels, nlabels))
		return p->err;
	zt_prom_format_double(value, num, sizeof(num));
	put_series(p, "", labels, nlabels, NULL);
	put(p, num);
	put_char(p, '\n');
	return p->err;
}

int zt_prom_histogram_log2(struct zt_prom *p, const struct zt_prom_label *labels, size_t nlabels,
			   const uint64_t *buckets, size_t nbuckets, uint64_t sum_ns)
{
	char num[ZT_PROM_NUM_LEN];
	size_t lo = 0, hi = 0, i;
	bool any = false;
	uint64_t total = 0, cum = 0;

	if (begin_sample(p, true, labels, nlabels))
		return p->err;
	/* The last bucket is open-ended (the kernel clamps long calls into it): +Inf only. */
	for (i = 0; i + 1 < nbuckets; i++) {
		if (!buckets[i])
			continue;
		if (!any)
			lo = i ? i - 1 : 0;
		hi = i;
		any = true;
	}
	for (i = 0; i < nbuckets; i++)
		total += buckets[i];
	for (i = 0; any && i <= hi; i++) {
		cum += buckets[i];
		if (i < lo)
			continue;
		/* Bucket i holds durations below 2^i ns. */
		zt_prom_format_ns(1ull << i, num, sizeof(num));
		put_series(p, "_bucket", labels, nlabels, num);
		put_u64_line(p, cum);
	}
	put_series(p, "_bucket", labels, nlabels, "+Inf");
	put_u64_line(p, total);
	zt_prom_format_ns(sum_ns, num, sizeof(num));
	put_series(p, "_sum", labels, nlabels, NULL);
	put(p, num);
	put_char(p, '\n');
	put_series(p, "_count", labels, nlabels, NULL);
	put_u64_line(p, total);
	return p->err;
}

int zt_prom_finish(struct zt_prom *p, char **text, size_t *len)
{
	if (p->err)
		return p->err;
	/* An empty exposition is valid: hand over "" rather than NULL. */
	if (reserve(p, 0))
		return p->err;
	p->buf[p->len] = '\0';
	*text = p->buf;
	*len = p->len;
	p->buf = NULL;
	p->len = p->cap = 0;
	return 0;
}

void zt_prom_format_ns(uint64_t ns, char *buf, size_t len)
{
	uint64_t sec = ns / NS_PER_SEC, frac = ns % NS_PER_SEC;
	int digits = 9;

	if (!frac) {
		snprintf(buf, len, "%" PRIu64, sec);
		return;
	}
	/* Exact decimal, no binary float in between: 2^i ns always has a finite decimal form. */
	while (frac % 10 == 0) {
		frac /= 10;
		digits--;
	}
	snprintf(buf, len, "%" PRIu64 ".%0*" PRIu64, sec, digits, frac);
}

void zt_prom_format_double(double v, char *buf, size_t len)
{
	if (isnan(v)) {
		snprintf(buf, len, "NaN");
		return;
	}
	if (isinf(v)) {
		snprintf(buf, len, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	for (int prec = 1; prec <= DOUBLE_MAX_DIGITS; prec++) {
		snprintf(buf, len, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			return;
	}
}
