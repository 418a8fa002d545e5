/* SPDX-License-Identifier: MIT */
/* `ztrace report FILE` and `ztrace export FILE --format F`: reading a record file back. */
#ifndef ZTRACE_CMD_REPORT_H
#define ZTRACE_CMD_REPORT_H

#include <stddef.h>
#include <stdio.h>

/*
 * Print what the record file at path holds to out: where and when it was recorded, the
 * summary tables of `ztrace trace`, the capture accounting of its last metric snapshot, and the
 * top slowest traces as trees (none when top is 0). A file cut short (a killed writer) is
 * reported up to its last whole block with a warning naming where it stopped. Returns 0; 2 for
 * a file that cannot be read or is corrupt (what it holds before the damage is still printed),
 * with the message on stderr as "ztrace: PATH: ..."; 1 for other failures (memory, I/O).
 */
int zt_cmd_report(const char *path, size_t top, FILE *out);

/*
 * Convert the record file at path to out in format: "jsonl" (the JSON lines of `trace
 * --format json`), "otlp-json" (one OTLP/JSON ExportTraceServiceRequest per line, as the
 * OpenTelemetry Collector's file exporter writes them) or "perfetto" (Chrome trace-event JSON).
 * Exit codes as zt_cmd_report; an unknown format is 2.
 */
int zt_cmd_export(const char *path, const char *format, FILE *out);

#endif
