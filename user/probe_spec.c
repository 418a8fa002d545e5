// SPDX-License-Identifier: MIT
/* Probe spec parsing: split, check and copy; nothing is resolved here. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memrchr(); the Makefile defines it too */
#endif
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe_spec.h"

#define ALL_FORMS "GLOB, u:FILE:GLOB, k:GLOB, usdt:FILE:PROVIDER:NAME or t:CATEGORY:NAME"

static void __attribute__((format(printf, 3, 4)))
set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

const char *zt_spec_kind_prefix(enum zt_spec_kind kind)
{
	switch (kind) {
	case ZT_SPEC_UPROBE:
		return "u";
	case ZT_SPEC_KPROBE:
		return "k";
	case ZT_SPEC_USDT:
		return "usdt";
	case ZT_SPEC_TRACEPOINT:
		return "t";
	}
	return "?";
}

void zt_probe_spec_free(struct zt_probe_spec *s)
{
	if (!s)
		return;
	free(s->text);
	free(s->file);
	free(s->glob);
	free(s->provider);
	free(s->name);
	free(s->name_end);
	free(s->category);
	memset(s, 0, sizeof(*s));
}

static bool is_ctrl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

static bool is_ident_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_';
}

/* Characters of a bare GLOB: a C identifier, compiler suffixes like foo.cold, glob syntax. */
static bool is_bare_glob_char(char c)
{
	return is_ident_char(c) || c == '.' || strchr("*?[]!^-", c);
}

/*
 * The checks of zt_glob_is_valid(); spec, when not NULL, is the whole spec the glob came from
 * and is named in the message so the user sees which of several specs is wrong.
 */
static bool check_glob(const char *glob, const char *spec, char *err, size_t errlen)
{
	/* " of probe spec 'SPEC'" when there is a spec, else nothing. */
	const char *pre = spec ? " of probe spec '" : "", *sp = spec ? spec : "";
	const char *post = spec ? "'" : "";
	size_t i, j;

	if (!glob || !*glob) {
		set_err(err, errlen,
			"empty glob%s%s%s: write a function name or a pattern such as 'handle_*'",
			pre, sp, post);
		return false;
	}
	for (i = 0; glob[i]; i++) {
		if (is_ctrl(glob[i])) {
			set_err(
			    err, errlen,
			    "glob contains control character 0x%02x at byte %zu%s%s%s: remove it",
			    (unsigned char)glob[i], i, pre, sp, post);
			return false;
		}
	}
	for (i = 0; glob[i]; i++) {
		if (glob[i] == '\\') {
			if (!glob[i + 1]) {
				set_err(err, errlen,
					"glob '%s'%s%s%s ends with '\\': remove it or write '\\\\' "
					"for a backslash",
					glob, pre, sp, post);
				return false;
			}
			i++;
			continue;
		}
		if (glob[i] != '[')
			continue;
		/* fnmatch(3): "[!" and "[^" negate, and a ']' right after them is a member. */
		j = i + 1;
		if (glob[j] == '!' || glob[j] == '^')
			j++;
		if (glob[j] == ']')
			j++;
		while (glob[j] && glob[j] != ']') {
			if (glob[j] == '\\' && glob[j + 1])
				j++;
			j++;
		}
		if (!glob[j]) {
			set_err(err, errlen,
				"unbalanced '[' in glob '%s'%s%s%s: close the set with ']'", glob,
				pre, sp, post);
			return false;
		}
		i = j;
	}
	return true;
}

bool zt_glob_is_valid(const char *glob, char *err, size_t errlen)
{
	return check_glob(glob, NULL, err, errlen);
}

/* A u: or k: glob: a valid pattern without blanks, which are never part of a symbol name. */
static int check_func_glob(const char *glob, const char *text, const char *form, char *err,
			   size_t errlen)
{
	const char *p;

	if (!*glob) {
		set_err(err, errlen, "empty function glob in probe spec '%s': expected %s", text,
			form);
		return -EINVAL;
	}
	for (p = glob; *p; p++) {
		if (*p == ' ') {
			set_err(err, errlen,
				"invalid character ' ' in function glob '%s' of probe spec '%s': "
				"remove it",
				glob, text);
			return -EINVAL;
		}
	}
	if (!check_glob(glob, text, err, errlen))
		return -EINVAL;
	return 0;
}

/* An identifier part (USDT provider or name, tracepoint category or name); what names it. */
static int check_ident(const char *s, const char *what, const char *text, const char *form,
		       char *err, size_t errlen)
{
	const char *p;

	if (!*s) {
		set_err(err, errlen, "empty %s in probe spec '%s': expected %s", what, text, form);
		return -EINVAL;
	}
	for (p = s; *p; p++) {
		if (!is_ident_char(*p)) {
			set_err(
			    err, errlen,
			    "invalid %s '%s' in probe spec '%s': use only letters, digits and '_'",
			    what, s, text);
			return -EINVAL;
		}
	}
	return 0;
}

/* strndup() that reports -ENOMEM through *ret, so callers can chain copies. */
static char *dup_part(const char *s, size_t len, int *ret)
{
	char *d = strndup(s, len);

	if (!d)
		*ret = -ENOMEM;
	return d;
}

static int parse_bare(const char *text, struct zt_probe_spec *out, char *err, size_t errlen)
{
	const char *p;
	int ret = 0;

	if (strchr(text, '/')) {
		set_err(err, errlen,
			"'%s' is not a function glob: to trace functions in a file write u:%s:GLOB",
			text, text);
		return -EINVAL;
	}
	for (p = text; *p; p++) {
		if (!is_bare_glob_char(*p)) {
			set_err(err, errlen,
				"invalid character '%c' in function glob '%s': use letters, "
				"digits, '_', '.' and * ? [ ] ! ^ -, or write u:FILE:GLOB",
				*p, text);
			return -EINVAL;
		}
	}
	if (!check_glob(text, NULL, err, errlen))
		return -EINVAL;
	out->kind = ZT_SPEC_UPROBE;
	out->glob = dup_part(text, strlen(text), &ret);
	return ret;
}

static int parse_uprobe(const char *text, const char *rest, struct zt_probe_spec *out, char *err,
			size_t errlen)
{
	static const char form[] = "u:FILE:GLOB";
	const char *colon = strrchr(rest, ':');
	int ret = 0;

	/* Split on the last ':' so a path that contains ':' stays whole. */
	if (!colon) {
		set_err(err, errlen, "malformed probe spec '%s': expected %s", text, form);
		return -EINVAL;
	}
	if (colon == rest) {
		set_err(err, errlen, "empty FILE in probe spec '%s': expected %s", text, form);
		return -EINVAL;
	}
	ret = check_func_glob(colon + 1, text, form, err, errlen);
	if (ret)
		return ret;
	out->kind = ZT_SPEC_UPROBE;
	out->file = dup_part(rest, colon - rest, &ret);
	out->glob = dup_part(colon + 1, strlen(colon + 1), &ret);
	return ret;
}

static int parse_kprobe(const char *text, const char *rest, struct zt_probe_spec *out, char *err,
			size_t errlen)
{
	static const char form[] = "k:GLOB";
	int ret = 0;

	if (strchr(rest, ':')) {
		set_err(err, errlen, "malformed probe spec '%s': expected %s", text, form);
		return -EINVAL;
	}
	ret = check_func_glob(rest, text, form, err, errlen);
	if (ret)
		return ret;
	out->kind = ZT_SPEC_KPROBE;
	out->glob = dup_part(rest, strlen(rest), &ret);
	return ret;
}

static int parse_usdt(const char *text, const char *rest, struct zt_probe_spec *out, char *err,
		      size_t errlen)
{
	static const char form[] = "usdt:FILE:PROVIDER:NAME";
	static const char range_form[] = "usdt:FILE:PROVIDER:START..END";
	const char *name_colon, *prov_colon, *name, *dots;
	char *provider = NULL;
	int ret = 0;

	/* FILE is split off the right like u:FILE, so it may contain ':'. */
	name_colon = strrchr(rest, ':');
	prov_colon = name_colon ? memrchr(rest, ':', name_colon - rest) : NULL;
	if (!prov_colon) {
		set_err(err, errlen, "malformed probe spec '%s': expected %s", text, form);
		return -EINVAL;
	}
	if (prov_colon == rest) {
		set_err(err, errlen, "empty FILE in probe spec '%s': expected %s", text, form);
		return -EINVAL;
	}
	provider = dup_part(prov_colon + 1, name_colon - prov_colon - 1, &ret);
	if (ret)
		goto out;
	ret = check_ident(provider, "PROVIDER", text, form, err, errlen);
	if (ret)
		goto out;

	name = name_colon + 1;
	dots = strstr(name, "..");
	if (dots) {
		out->name = dup_part(name, dots - name, &ret);
		out->name_end = dup_part(dots + 2, strlen(dots + 2), &ret);
		if (ret)
			goto out;
		ret = check_ident(out->name, "START", text, range_form, err, errlen);
		if (!ret)
			ret = check_ident(out->name_end, "END", text, range_form, err, errlen);
	} else {
		out->name = dup_part(name, strlen(name), &ret);
		if (ret)
			goto out;
		ret = check_ident(out->name, "NAME", text, form, err, errlen);
	}
	if (ret)
		goto out;
	out->kind = ZT_SPEC_USDT;
	out->file = dup_part(rest, prov_colon - rest, &ret);
	out->provider = provider;
	provider = NULL;
out:
	free(provider);
	return ret;
}

static int parse_tracepoint(const char *text, const char *rest, struct zt_probe_spec *out,
			    char *err, size_t errlen)
{
	static const char form[] = "t:CATEGORY:NAME";
	const char *colon = strchr(rest, ':');
	int ret = 0;

	if (!colon || strchr(colon + 1, ':')) {
		set_err(err, errlen, "malformed probe spec '%s': expected %s", text, form);
		return -EINVAL;
	}
	out->category = dup_part(rest, colon - rest, &ret);
	out->name = dup_part(colon + 1, strlen(colon + 1), &ret);
	if (ret)
		return ret;
	ret = check_ident(out->category, "CATEGORY", text, form, err, errlen);
	if (!ret)
		ret = check_ident(out->name, "NAME", text, form, err, errlen);
	if (ret)
		return ret;
	out->kind = ZT_SPEC_TRACEPOINT;
	return 0;
}

int zt_probe_spec_parse(const char *text, struct zt_probe_spec *out, char *err, size_t errlen)
{
	const char *colon, *rest;
	size_t plen, i;
	int ret;

	memset(out, 0, sizeof(*out));
	if (err && errlen)
		err[0] = '\0';
	if (!text || !*text) {
		set_err(err, errlen, "empty probe spec: expected " ALL_FORMS);
		return -EINVAL;
	}
	/* Checked first so no later message echoes a control character to the terminal. */
	for (i = 0; text[i]; i++) {
		if (is_ctrl(text[i])) {
			set_err(
			    err, errlen,
			    "probe spec contains control character 0x%02x at byte %zu: remove it",
			    (unsigned char)text[i], i);
			return -EINVAL;
		}
	}

	colon = strchr(text, ':');
	if (!colon) {
		ret = parse_bare(text, out, err, errlen);
		goto out;
	}
	rest = colon + 1;
	plen = colon - text;
	if (plen == 1 && text[0] == 'u') {
		ret = parse_uprobe(text, rest, out, err, errlen);
	} else if (plen == 1 && text[0] == 'k') {
		ret = parse_kprobe(text, rest, out, err, errlen);
	} else if (plen == 4 && !strncmp(text, "usdt", 4)) {
		ret = parse_usdt(text, rest, out, err, errlen);
	} else if (plen == 1 && text[0] == 't') {
		ret = parse_tracepoint(text, rest, out, err, errlen);
	} else if (plen == 0) {
		set_err(err, errlen, "missing probe type in '%s': expected " ALL_FORMS, text);
		ret = -EINVAL;
	} else if (memchr(text, '/', plen)) {
		/* Most likely a path typed without its u: prefix. */
		set_err(err, errlen,
			"unknown probe type '%.*s' in '%s': use u:, k:, usdt: or t: (for functions "
			"in a file write u:%s)",
			(int)plen, text, text, text);
		ret = -EINVAL;
	} else {
		set_err(err, errlen,
			"unknown probe type '%.*s' in '%s': use u:, k:, usdt: or t:", (int)plen,
			text, text);
		ret = -EINVAL;
	}
out:
	if (!ret) {
		out->text = strdup(text);
		if (!out->text)
			ret = -ENOMEM;
	}
	if (ret == -ENOMEM)
		set_err(err, errlen, "out of memory parsing probe spec '%s'", text);
	if (ret)
		zt_probe_spec_free(out);
	return ret;
}
