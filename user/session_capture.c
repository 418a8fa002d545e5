// SPDX-License-Identifier: MIT
/* --capture: which of the session's functions capture which arguments. */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>
#include "session.h"

/* The first of specs whose glob matches function probe p, or NULL. */
static const struct zt_capture_spec *capture_for(const struct zt_capture_spec *specs, size_t n,
						 const struct zt_probe *p)
{
	if (p->kind != ZT_KIND_FUNCTION)
		return NULL;
	for (size_t c = 0; c < n; c++)
		if (!fnmatch(specs[c].glob, p->name, 0))
			return &specs[c];
	return NULL;
}

int zt_session_check_captures(struct zt_session *t)
{
	for (size_t c = 0; c < t->opts->ncaptures; c++) {
		const char *glob = t->opts->captures[c].glob;
		bool found = false;

		for (size_t i = 0; i < t->probes.n && !found; i++)
			found = t->probes.v[i].kind == ZT_KIND_FUNCTION &&
				!fnmatch(glob, t->probes.v[i].name, 0);
		if (!found) {
			snprintf(t->err, sizeof(t->err),
				 "--capture glob '%s' matches none of the traced functions: name "
				 "functions that a u: or GLOB probe spec traces",
				 glob);
			return -ENOENT;
		}
	}
	return 0;
}

int zt_session_apply_capture_specs(struct zt_session *t, const struct zt_capture_spec *specs,
				   size_t n, const uint8_t *only)
{
	for (size_t i = 0; i < t->probes.n; i++) {
		const struct zt_capture_spec *c;
		int ret;

		if (only && !only[i])
			continue;
		c = capture_for(specs, n, &t->probes.v[i]);
		if (!c)
			continue;
		ret = zt_loader_set_args(t->loader, (uint32_t)i, &c->args);
		if (ret) {
			snprintf(t->err, sizeof(t->err),
				 "cannot set up argument capture for %s: %s", t->probes.v[i].name,
				 strerror(-ret));
			return ret;
		}
	}
	return 0;
}

int zt_session_apply_captures(struct zt_session *t)
{
	return zt_session_apply_capture_specs(t, t->opts->captures, t->opts->ncaptures, NULL);
}
