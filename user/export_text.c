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

void zt_text_write_span(FILE *out, const struct zt_span *s, uint64_t t0_ns)
{
	char pidtid[32], dur[32];
	double t = s->start_ns >= t0_ns ? (double)(s->start_ns - t0_ns) / 1e9 : 0;

	snprintf(pidtid, sizeof(pidtid), "%u/%u", s->pid, s->tid);
	zt_format_duration(s->end_ns - s->start_ns, dur, sizeof(dur));
	fprintf(out, "%-12.6f %-16s %-15s %10s  %*s%s", t, s->comm, pidtid, dur, 2 * s->depth, "",
		s->name ? s->name : "?");
	zt_span_args_print(out, &s->args);
	if (s->status == ZT_STATUS_INCOMPLETE)
		fputs(" (incomplete: did not return)\n", out);
	else
		fprintf(out, " = %" PRId64 "%s\n", s->ret,
			s->status == ZT_STATUS_ERROR ? "  [error]" : "");
}
