/* SPDX-License-Identifier: MIT */
/* The JSON-lines span format of DESIGN.md ("JSON lines"): one object per line. */
#ifndef ZTRACE_EXPORT_JSON_H
#define ZTRACE_EXPORT_JSON_H

#include <stdio.h>
#include "span.h"

/* The container and Kubernetes pod a span's process runs in; NULL for what is not known. */
struct zt_json_container {
	const char *id;
	const char *k8s_pod_uid;
	const char *k8s_namespace;
	const char *k8s_pod_name;
};

/*
 * Write span as one JSON line (with the trailing newline). c (may be NULL) adds the
 * attributes container.id, k8s.pod.uid, k8s.namespace.name and k8s.pod.name, each when known.
 * Returns 0 or -EIO.
 */
int zt_json_write_span(FILE *out, const struct zt_span *span, const struct zt_json_container *c);

/* Write s as a JSON string literal (quotes included), escaping as RFC 8259 requires. */
void zt_json_write_string(FILE *out, const char *s);

/*
 * The captured arguments (--capture) as object members, the first after sep, the others after
 * a comma: "arg0":42, "arg1":"abc", and for a string
 * "arg1.truncated":true when it was cut at its limit, "arg1.unreadable":true (and no value)
 * when its pointer could not be read.
 */
void zt_json_write_args(FILE *out, const struct zt_args_part *a, const char *sep);

#endif
