// SPDX-License-Identifier: MIT
/* OTLP exporter configuration: defaults, the OTEL_EXPORTER_OTLP_* variables, URL checks. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "export_otlp.h"

#define ERR_LEN 256

/* Criterion runs each test in its own process, so the variables set here do not leak. */
static void clear_env(void)
{
	static const char *const vars[] = {
	    "OTEL_EXPORTER_OTLP_ENDPOINT",    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
	    "OTEL_EXPORTER_OTLP_PROTOCOL",    "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
	    "OTEL_EXPORTER_OTLP_HEADERS",     "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
	    "OTEL_EXPORTER_OTLP_COMPRESSION", "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION",
	    "OTEL_EXPORTER_OTLP_TIMEOUT",     "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
	    "OTEL_RESOURCE_ATTRIBUTES",
	};

	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		unsetenv(vars[i]);
}

TestSuite(otlp_env, .init = clear_env);

Test(otlp_config, defaults)
{
	struct zt_otlp_config c;

	zt_otlp_config_defaults(&c);
	cr_assert_null(c.endpoint);
	cr_assert_not(c.json);
	cr_assert(c.gzip);
	cr_assert_eq(c.queue_spans, ZT_OTLP_DEFAULT_QUEUE_SPANS);
	cr_assert_eq(c.batch_spans, ZT_OTLP_DEFAULT_BATCH_SPANS);
	cr_assert_eq(c.batch_ms, ZT_OTLP_DEFAULT_BATCH_MS);
	cr_assert_eq(c.give_up_ms, ZT_OTLP_DEFAULT_GIVE_UP_MS);
	cr_assert_eq(c.timeout_ms, ZT_OTLP_DEFAULT_TIMEOUT_MS);
}

Test(otlp_env, nothing_set_changes_nothing)
{
	struct zt_otlp_config c, before;
	char err[ERR_LEN];

	zt_otlp_config_defaults(&c);
	before = c;
	cr_assert_eq(zt_otlp_config_from_env(&c, err, sizeof(err)), 0);
	cr_assert_eq(memcmp(&c, &before, sizeof(c)), 0);
}

Test(otlp_env, general_variables)
{
	struct zt_otlp_config c;
	char err[ERR_LEN];

	setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318", 1);
	setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json", 1);
	setenv("OTEL_EXPORTER_OTLP_HEADERS", "api-key=secret", 1);
	setenv("OTEL_EXPORTER_OTLP_COMPRESSION", "none", 1);
	setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "2500", 1);
	setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=prod", 1);
	zt_otlp_config_defaults(&c);
	cr_assert_eq(zt_otlp_config_from_env(&c, err, sizeof(err)), 0);
	cr_assert_str_eq(c.endpoint, "http://collector:4318");
	cr_assert_not(c.endpoint_exact);
	cr_assert(c.json);
	cr_assert_str_eq(c.headers, "api-key=secret");
	cr_assert_not(c.gzip);
	cr_assert_eq(c.timeout_ms, 2500);
	cr_assert_str_eq(c.resource_attrs, "deployment.environment=prod");
}

Test(otlp_env, traces_variables_win)
{
	struct zt_otlp_config c;
	char err[ERR_LEN];

	setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://general:4318", 1);
	setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://traces:9999/custom", 1);
	setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json", 1);
	setenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/protobuf", 1);
	setenv("OTEL_EXPORTER_OTLP_HEADERS", "a=1", 1);
	setenv("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "b=2", 1);
	setenv("OTEL_EXPORTER_OTLP_COMPRESSION", "none", 1);
	setenv("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "gzip", 1);
	zt_otlp_config_defaults(&c);
	cr_assert_eq(zt_otlp_config_from_env(&c, err, sizeof(err)), 0);
	cr_assert_str_eq(c.endpoint, "http://traces:9999/custom");
	cr_assert(c.endpoint_exact);
	cr_assert_not(c.json);
	cr_assert_str_eq(c.headers, "b=2");
	cr_assert(c.gzip);
}

Test(otlp_env, bad_values)
{
	struct zt_otlp_config c;
	char err[ERR_LEN];

	zt_otlp_config_defaults(&c);
	setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc", 1);
	cr_assert_eq(zt_otlp_config_from_env(&c, err, sizeof(err)), -EINVAL);
	cr_assert_str_eq(err, "OTEL_EXPORTER_OTLP_PROTOCOL: OTLP protocol 'grpc' is not supported: "
			      "ztrace speaks OTLP/HTTP; use http/protobuf or http/json (collectors "
			      "take it on port 4318)");
	unsetenv("OTEL_EXPORTER_OTLP_PROTOCOL");
	setenv("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "zstd", 1);
	cr_assert_eq(zt_otlp_config_from_env(&c, err, sizeof(err)), -EINVAL);
	cr_assert_str_eq(
	    err, "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION=zstd is not supported: use gzip or none");
	unsetenv("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION");
	setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "10s", 1);
	cr_assert_eq(zt_otlp_config_from_env(&c, err, sizeof(err)), -EINVAL);
	cr_assert_str_eq(err, "OTEL_EXPORTER_OTLP_TIMEOUT=10s is not a timeout: give milliseconds, "
			      "a positive integer");
}

Test(otlp_config, protocol_names)
{
	char err[ERR_LEN];
	bool json = true;

	cr_assert_eq(zt_otlp_parse_protocol("http/protobuf", &json, err, sizeof(err)), 0);
	cr_assert_not(json);
	cr_assert_eq(zt_otlp_parse_protocol("http/json", &json, err, sizeof(err)), 0);
	cr_assert(json);
	cr_assert_eq(zt_otlp_parse_protocol("json", &json, err, sizeof(err)), -EINVAL);
	cr_assert_str_eq(err, "unknown OTLP protocol 'json': use http/protobuf or http/json");
}

Test(otlp_config, check_url)
{
	char err[ERR_LEN];

	cr_assert_eq(zt_otlp_check_url("http://127.0.0.1:4318", err, sizeof(err)), 0);
	cr_assert_eq(zt_otlp_check_url("https://otel.example.com/v1/traces", err, sizeof(err)), 0);
	cr_assert_eq(zt_otlp_check_url("http://[::1]:4318", err, sizeof(err)), 0);

	cr_assert_eq(zt_otlp_check_url("localhost:4318", err, sizeof(err)), -EINVAL);
	cr_assert_str_eq(err, "OTLP endpoint 'localhost:4318' has no scheme: write "
			      "http://localhost:4318");
	cr_assert_eq(zt_otlp_check_url("grpc://collector:4317", err, sizeof(err)), -EINVAL);
	cr_assert_str_eq(err, "OTLP endpoint 'grpc://collector:4317': scheme 'grpc' is not "
			      "supported: ztrace sends OTLP/HTTP, use http:// or https://");
	cr_assert_eq(zt_otlp_check_url("", err, sizeof(err)), -EINVAL);
	cr_assert_str_eq(err, "OTLP endpoint is empty: give a URL like http://localhost:4318");
	cr_assert_eq(zt_otlp_check_url(NULL, err, sizeof(err)), -EINVAL);
	cr_assert_eq(zt_otlp_check_url("http://", err, sizeof(err)), -EINVAL);
	cr_assert_eq(strncmp(err, "OTLP endpoint 'http://' is not a valid URL (", 44), 0, "%s",
		     err);
	cr_assert_eq(zt_otlp_check_url("http://host:99999", err, sizeof(err)), -EINVAL);
	cr_assert_eq(strncmp(err, "OTLP endpoint 'http://host:99999' is not a valid URL (", 54), 0,
		     "%s", err);
}

static void expect_traces_url(const char *endpoint, bool exact, const char *want)
{
	char *url = zt_otlp_traces_url(endpoint, exact);

	cr_assert_not_null(url);
	cr_expect_str_eq(url, want, "%s -> %s, want %s", endpoint, url, want);
	free(url);
}

Test(otlp_config, traces_url)
{
	expect_traces_url("http://h:4318", false, "http://h:4318/v1/traces");
	expect_traces_url("http://h:4318/", false, "http://h:4318/v1/traces");
	expect_traces_url("http://h:4318/v1/traces", false, "http://h:4318/v1/traces");
	expect_traces_url("http://h/otlp//", false, "http://h/otlp/v1/traces");
	expect_traces_url("http://h:4318?tenant=a", false, "http://h:4318/v1/traces?tenant=a");
	expect_traces_url("https://h/base/?x=1#f", false, "https://h/base/v1/traces?x=1#f");
	expect_traces_url("http://h/custom", true, "http://h/custom");
	expect_traces_url("http://h:4318", true, "http://h:4318");
}
