// SPDX-License-Identifier: MIT
/* JSON lines: one span per line, fields in the order DESIGN.md lists them. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include "export_json.h"
#include "span_args.h"

/*
 * Length of the well-formed UTF-8 sequence at s (1 to 4), or 0 if the bytes there are not one
 * (stray continuation byte, overlong form, surrogate, beyond U+10FFFF, cut short).
 */
static int utf8_seq_len(const unsigned char *s)
{
	unsigned char c = s[0];
	int len;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, cp = c & 0x07;
	else
		return 0;
	for (int i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80) /* also stops at the NUL */
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

void zt_json_write_string(FILE *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");

	fputc('"', out);
	while (*p) {
		int len;

		switch (*p) {
		case '"':
			fputs("\\\"", out);
			break;
		case '\\':
			fputs("\\\\", out);
			break;
		case '\b':
			fputs("\\b", out);
			break;
		case '\f':
			fputs("\\f", out);
			break;
		case '\n':
			fputs("\\n", out);
			break;
		case '\r':
			fputs("\\r", out);
			break;
		case '\t':
			fputs("\\t", out);
			break;
		default:
			/* DEL is legal JSON but would reach a terminal raw; escape it too. */
			if (*p < 0x20 || *p == 0x7f) {
				fprintf(out, "\\u%04x", *p);
				break;
			}
			len = utf8_seq_len(p);
			if (!len) {
				/* JSON text must be UTF-8: a comm or symbol with stray bytes
				 * becomes U+FFFD rather than an unparsable line. */
				fputs("\\ufffd", out);
				break;
			}
			fwrite(p, 1, len, out);
			p += len;
			continue;
		}
		p++;
	}
	fputc('"', out);
}

void zt_json_write_args(FILE *out, const struct zt_args_part *a, const char *sep)
{
	struct zt_arg_view v[ZT_ARGS_MAX];
	size_t n = zt_span_args_list(a, v);

	for (size_t i = 0; i < n; i++, sep = ",") {
		if (!v[i].is_str) {
			fprintf(out, "%s\"arg%u\":%" PRId64, sep, v[i].index, v[i].value);
		} else if (!v[i].text) {
			fprintf(out, "%s\"arg%u.unreadable\":true", sep, v[i].index);
		} else {
			fprintf(out, "%s\"arg%u\":", sep, v[i].index);
			zt_json_write_string(out, v[i].text);
			if (v[i].truncated)
				fprintf(out, ",\"arg%u.truncated\":true", v[i].index);
		}
	}
}

/* Add "key":"value" to an attributes object unless value is NULL; *sep says what comes first. */
static void write_attr(FILE *out, const char *key, const char *value, const char **sep)
{
	if (!value)
		return;
	fprintf(out, "%s\"%s\":", *sep, key);
	zt_json_write_string(out, value);
	*sep = ",";
}

int zt_json_write_span(FILE *out, const struct zt_span *span, const struct zt_json_container *c)
{
	const char *sep = "";
	char trace_id[33];
	char comm[ZT_COMM_LEN + 1];
	uint64_t duration = span->end_ns > span->start_ns ? span->end_ns - span->start_ns : 0;

	/* comm need not be terminated when it fills the array */
	snprintf(comm, sizeof(comm), "%.*s", ZT_COMM_LEN, span->comm);
	zt_trace_id_hex(span->trace_id, trace_id);
	fprintf(out, "{\"trace_id\":\"%s\",\"span_id\":\"%016" PRIx64 "\",\"parent_span_id\":\"",
		trace_id, span->span_id);
	if (span->parent_span_id)
		fprintf(out, "%016" PRIx64, span->parent_span_id);
	fputs("\",\"name\":", out);
	zt_json_write_string(out, span->name);
	fprintf(out,
		",\"kind\":\"%s\",\"start_ns\":%" PRIu64 ",\"end_ns\":%" PRIu64
		",\"duration_ns\":%" PRIu64 ",\"pid\":%" PRIu32 ",\"tid\":%" PRIu32 ",\"comm\":",
		zt_span_kind_name(span->kind), span->start_ns, span->end_ns, duration, span->pid,
		span->tid);
	zt_json_write_string(out, comm);
	fputs(",\"probe\":", out);
	zt_json_write_string(out, span->probe);
	fprintf(out, ",\"ret\":%" PRId64 ",\"status\":\"%s\",\"attributes\":{", span->ret,
		zt_span_status_name(span->status));
	if (span->syscall_count) {
		fprintf(out, "\"syscall_count\":%" PRIu32 ",\"syscall_ns\":%" PRIu64,
			span->syscall_count, span->syscall_ns);
		sep = ",";
	}
	/* the names of the OTLP resource attributes (OpenTelemetry semantic conventions) */
	if (c) {
		write_attr(out, "container.id", c->id, &sep);
		write_attr(out, "k8s.pod.uid", c->k8s_pod_uid, &sep);
		write_attr(out, "k8s.namespace.name", c->k8s_namespace, &sep);
		write_attr(out, "k8s.pod.name", c->k8s_pod_name, &sep);
	}
	zt_json_write_args(out, &span->args, sep);
	fputs("}}\n", out);
	return ferror(out) ? -EIO : 0;
}
