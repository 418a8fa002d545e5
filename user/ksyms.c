// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "ksyms.h"
#include "loader.h"

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void zt_ksyms_free(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* The function name on one line, into buf: "name", "name [module]" or "ffff... t name [mod]". */
static bool line_name(const char *line, char *buf, size_t len)
{
	char a[256], b[16], c[256];
	int n = sscanf(line, "%255s %15s %255s", a, b, c);

	if (n >= 3 && strlen(b) == 1) { /* kallsyms: only text symbols are functions */
		if (b[0] != 't' && b[0] != 'T')
			return false;
		snprintf(buf, len, "%s", c);
		return true;
	}
	if (n < 1)
		return false;
	snprintf(buf, len, "%s", a);
	return true;
}

int zt_ksyms_parse(const char *text, const char *glob, char ***out, size_t *nout)
{
	char **v = NULL;
	size_t n = 0, cap = 0, k = 0;
	const char *p = text;

	while (p && *p) {
		const char *end = strchr(p, '\n');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		char line[600], name[256];

		snprintf(line, sizeof(line), "%.*s",
			 (int)(len < sizeof(line) ? len : sizeof(line) - 1), p);
		p = end ? end + 1 : NULL;
		if (!line_name(line, name, sizeof(name)) || fnmatch(glob, name, 0))
			continue;
		if (n == cap) {
			char **nv;

			cap = cap ? cap * 2 : 64;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv)
				goto nomem;
			v = nv;
		}
		v[n] = strdup(name);
		if (!v[n])
			goto nomem;
		n++;
	}
	if (n)
		qsort(v, n, sizeof(*v), cmp_str);
	/* the same name appears once per module or static copy: keep one */
	for (size_t i = 0; i < n; i++) {
		if (k && strcmp(v[k - 1], v[i]) == 0) {
			free(v[i]);
			continue;
		}
		v[k++] = v[i];
	}
	*out = v;
	*nout = k;
	return 0;
nomem:
	zt_ksyms_free(v, n);
	return -ENOMEM;
}

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0;
	FILE *mem;
	char chunk[65536];
	size_t got;

	if (!f)
		return NULL;
	mem = open_memstream(&buf, &len);
	if (!mem) {
		fclose(f);
		return NULL;
	}
	while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0)
		fwrite(chunk, 1, got, mem);
	fclose(f);
	fclose(mem);
	return buf;
}

int zt_ksyms_match(const char *glob, char ***names, size_t *n)
{
	char *text;
	int ret;

	zt_tracefs_ensure();
	text = read_all("/sys/kernel/tracing/available_filter_functions");
	if (!text || !*text) {
		free(text);
		text = read_all("/proc/kallsyms");
	}
	if (!text)
		return -errno;
	ret = zt_ksyms_parse(text, glob, names, n);
	free(text);
	return ret;
}

bool zt_kernel_has_kprobes(void)
{
	zt_tracefs_ensure();
	return access("/sys/bus/event_source/devices/kprobe/type", F_OK) == 0 ||
	       access("/sys/kernel/tracing/kprobe_events", F_OK) == 0;
}
