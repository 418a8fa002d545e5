// SPDX-License-Identifier: MIT
/* JSON lines: exact lines for fixed spans, string escaping, UTF-8 repair, write errors. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export_json.h"

static struct zt_span root_span(void)
{
	struct zt_span s = {
	    .span_id = 0x00f067aa0ba902b7ull,
	    .start_ns = 1700000000123456789ull,
	    .end_ns = 1700000000124456789ull,
	    .pid = 4242,
	    .tid = 4243,
	    .kind = ZT_KIND_FUNCTION,
	    .status = ZT_STATUS_OK,
	    .comm = "orders",
	    .name = "process_order",
	    .probe = "u:/opt/orders:process_order",
	    .binary = "/opt/orders",
	};

	for (int i = 0; i < 16; i++)
		s.trace_id[i] = 0x10 + i;
	return s;
}

/* The JSON line of s in container c (may be NULL), as a string the caller frees. */
static char *line_in(const struct zt_span *s, const struct zt_json_container *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert_not_null(f);
	cr_assert_eq(zt_json_write_span(f, s, c), 0);
	cr_assert_eq(fclose(f), 0);
	return buf;
}

/* The JSON line of s, as a string the caller frees. */
static char *line_of(const struct zt_span *s)
{
	return line_in(s, NULL);
}

/* zt_json_write_string's output for s, as a string the caller frees. */
static char *string_of(const char *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert_not_null(f);
	zt_json_write_string(f, s);
	cr_assert_eq(fclose(f), 0);
	return buf;
}

Test(export_json, root_span_line)
{
	struct zt_span s = root_span();
	char *line = line_of(&s);

	cr_assert_str_eq(line,
			 "{\"trace_id\":\"101112131415161718191a1b1c1d1e1f\","
			 "\"span_id\":\"00f067aa0ba902b7\",\"parent_span_id\":\"\","
			 "\"name\":\"process_order\",\"kind\":\"function\","
			 "\"start_ns\":1700000000123456789,\"end_ns\":1700000000124456789,"
			 "\"duration_ns\":1000000,\"pid\":4242,\"tid\":4243,\"comm\":\"orders\","
			 "\"probe\":\"u:/opt/orders:process_order\",\"ret\":0,\"status\":\"ok\","
			 "\"attributes\":{}}\n");
	free(line);
}

/* A process in a pod's container: the OTLP resource attribute names, each only when known. */
Test(export_json, container_and_pod_attributes)
{
	const struct zt_json_container pod = {
	    "9e8d7c6b5a4f", "5b2e9f3c-1a7d-4e8b-9c0d-2f6a4b8e1d3c", "shop", "orders-7d9f"};
	const struct zt_json_container container = {.id = "9e8d7c6b5a4f"}, none = {0};
	struct zt_span s = root_span();
	char *line;

	line = line_in(&s, &pod);
	cr_assert(strstr(line,
			 "\"attributes\":{\"container.id\":\"9e8d7c6b5a4f\","
			 "\"k8s.pod.uid\":\"5b2e9f3c-1a7d-4e8b-9c0d-2f6a4b8e1d3c\","
			 "\"k8s.namespace.name\":\"shop\",\"k8s.pod.name\":\"orders-7d9f\"}}\n"),
		  "%s", line);
	free(line);
	s.syscall_count = 2;
	s.syscall_ns = 300;
	line = line_in(&s, &container);
	cr_assert(strstr(line, "\"attributes\":{\"syscall_count\":2,\"syscall_ns\":300,"
			       "\"container.id\":\"9e8d7c6b5a4f\"}}\n"),
		  "%s", line);
	free(line);
	line = line_in(&s, &none);
	cr_assert(strstr(line, "\"attributes\":{\"syscall_count\":2,\"syscall_ns\":300}}\n"), "%s",
		  line);
	free(line);
}

Test(export_json, child_syscall_with_attributes)
{
	struct zt_span s = root_span();
	char *line;

	s.parent_span_id = 0x00f067aa0ba902b7ull;
	s.span_id = 0x1;
	s.kind = ZT_KIND_SYSCALL;
	s.name = "openat";
	s.probe = "syscall:openat";
	s.binary = NULL;
	s.ret = -2;
	s.status = ZT_STATUS_ERROR;
	s.syscall_count = 3;
	s.syscall_ns = 4500;
	s.end_ns = s.start_ns + 812;
	line = line_of(&s);
	cr_assert_str_eq(line,
			 "{\"trace_id\":\"101112131415161718191a1b1c1d1e1f\","
			 "\"span_id\":\"0000000000000001\",\"parent_span_id\":\"00f067aa0ba902b7\","
			 "\"name\":\"openat\",\"kind\":\"syscall\","
			 "\"start_ns\":1700000000123456789,\"end_ns\":1700000000123457601,"
			 "\"duration_ns\":812,\"pid\":4242,\"tid\":4243,\"comm\":\"orders\","
			 "\"probe\":\"syscall:openat\",\"ret\":-2,\"status\":\"error\","
			 "\"attributes\":{\"syscall_count\":3,\"syscall_ns\":4500}}\n");
	free(line);
}

Test(export_json, escapes_names_and_fills_comm)
{
	struct zt_span s = root_span();
	char *line;

	s.name = "say \"hi\"\\\n\t\x01";
	s.probe = NULL;
	memcpy(s.comm, "abcdefghijklmnop", ZT_COMM_LEN); /* 16 bytes, no NUL */
	s.status = ZT_STATUS_INCOMPLETE;
	s.ret = INT64_MIN;
	s.end_ns = s.start_ns - 1; /* an end before the start gives duration 0, never a wrap */
	line = line_of(&s);
	cr_assert_str_eq(line, "{\"trace_id\":\"101112131415161718191a1b1c1d1e1f\","
			       "\"span_id\":\"00f067aa0ba902b7\",\"parent_span_id\":\"\","
			       "\"name\":\"say \\\"hi\\\"\\\\\\n\\t\\u0001\",\"kind\":\"function\","
			       "\"start_ns\":1700000000123456789,\"end_ns\":1700000000123456788,"
			       "\"duration_ns\":0,\"pid\":4242,\"tid\":4243,"
			       "\"comm\":\"abcdefghijklmnop\",\"probe\":\"\","
			       "\"ret\":-9223372036854775808,\"status\":\"incomplete\","
			       "\"attributes\":{}}\n");
	free(line);
}

Test(export_json, string_escapes)
{
	static const struct {
		const char *in;
		const char *out;
	} cases[] = {
	    {NULL, "\"\""},
	    {"", "\"\""},
	    {"plain/path:fn", "\"plain/path:fn\""},
	    {"\b\f\r\x1f\x7f", "\"\\b\\f\\r\\u001f\\u007f\""},
	    /* valid UTF-8 passes through: é (2 bytes), € (3), 😀 (4) */
	    {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
	     "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\""},
	    /* stray, overlong, surrogate and cut-short sequences become U+FFFD one byte each */
	    {"a\xff"
	     "b",
	     "\"a\\ufffdb\""},
	    {"\xc0\xaf", "\"\\ufffd\\ufffd\""},
	    {"\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\""},
	    {"\xe2\x82", "\"\\ufffd\\ufffd\""},
	    {"\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\""},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = string_of(cases[i].in);

		cr_assert_str_eq(got, cases[i].out, "case %zu", i);
		free(got);
	}
}

Test(export_json, write_error_is_eio)
{
	struct zt_span s = root_span();
	FILE *f = fopen("/dev/null", "r"); /* writes to a read-only stream fail */

	cr_assert_not_null(f);
	cr_assert_eq(zt_json_write_span(f, &s, NULL), -EIO);
	fclose(f);
}
