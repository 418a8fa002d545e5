// SPDX-License-Identifier: MIT
#include <inttypes.h>
#include "export_text.h"
#include "latency.h"
#include "span_args.h"

void zt_text_write_header(FILE *out)
{
	fprintf(out, "%-12s %-16s %-15s %10s  %s\n", "TIME(s)", "COMM", "PID/TID", "DURATION",
		"CALL (indented by depth; a line is printed when the call returns)");
}

/* "(42, \"abc\"...)" for a span with captured arguments: ... marks a string cut at its limit,
 * ? one that could not be read. Nothing for a span without. */
static void write_args(FILE *out, const struct zt_args_part *a)
{
	struct zt_arg_view v[ZT_ARGS_MAX];
	size_t n = zt_span_args_list(a, v);
	char text[ZT_ARG_TEXT_ESCAPED_LEN];

	if (!n)
		return;
	fputc('(', out);
	for (size_t i = 0; i < n; i++) {
		if (i)
			fputs(", ", out);
		if (!v[i].is_str) {
			fprintf(out, "%" PRId64, v[i].value);
		} else if (!v[i].text) {
			fputc('?', out);
		} else {
			zt_arg_text_escape(v[i].text, v[i].len, text);
			fprintf(out, "\"%s\"%s", text, v[i].truncated ? "..." : "");
		}
	}
	fputc(')', out);
}

void zt_text_write_span(FILE *out, const struct zt_span *s, uint64_t t0_ns)
{
	char pidtid[32], dur[32];
	double t = s->start_ns >= t0_ns ? (double)(s->start_ns - t0_ns) / 1e9 : 0;

	snprintf(pidtid, sizeof(pidtid), "%u/%u", s->pid, s->tid);
	zt_format_duration(s->end_ns - s->start_ns, dur, sizeof(dur));
	fprintf(out, "%-12.6f %-16s %-15s %10s  %*s%s", t, s->comm, pidtid, dur, 2 * s->depth, "",
		s->name ? s->name : "?");
	write_args(out, &s->args);
	if (s->status == ZT_STATUS_INCOMPLETE)
		fputs(" (incomplete: did not return)\n", out);
	else
		fprintf(out, " = %" PRId64 "%s\n", s->ret,
			s->status == ZT_STATUS_ERROR ? "  [error]" : "");
}
