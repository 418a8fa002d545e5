// SPDX-License-Identifier: MIT
#include <stdio.h>
#include "span.h"

const char *zt_span_kind_name(enum zt_span_kind kind)
{
	switch (kind) {
	case ZT_KIND_FUNCTION:
		return "function";
	case ZT_KIND_SYSCALL:
		return "syscall";
	case ZT_KIND_KERNEL:
		return "kernel";
	case ZT_KIND_USDT:
		return "usdt";
	case ZT_KIND_TRACEPOINT:
		return "tracepoint";
	}
	return "unknown";
}

const char *zt_span_status_name(enum zt_span_status status)
{
	switch (status) {
	case ZT_STATUS_OK:
		return "ok";
	case ZT_STATUS_ERROR:
		return "error";
	case ZT_STATUS_INCOMPLETE:
		return "incomplete";
	}
	return "unknown";
}

void zt_trace_id_hex(const uint8_t trace_id[16], char out[33])
{
	static const char hex[] = "0123456789abcdef";

	for (int i = 0; i < 16; i++) {
		out[2 * i] = hex[trace_id[i] >> 4];
		out[2 * i + 1] = hex[trace_id[i] & 0xf];
	}
	out[32] = '\0';
}
