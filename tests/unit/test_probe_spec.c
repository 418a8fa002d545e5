// SPDX-License-Identifier: MIT
/* Probe spec parsing: every form, and the exact message of every kind of mistake. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "probe_spec.h"

#define ERRLEN 512

struct valid_case {
	const char *text;
	enum zt_spec_kind kind;
	const char *file, *glob, *provider, *name, *name_end, *category;
};

static const struct valid_case valid[] = {
    {"handle_*", ZT_SPEC_UPROBE, NULL, "handle_*"},
    {"main", ZT_SPEC_UPROBE, NULL, "main"},
    {"foo.cold", ZT_SPEC_UPROBE, NULL, "foo.cold"},
    {"h[a-c]?_[!x]*", ZT_SPEC_UPROBE, NULL, "h[a-c]?_[!x]*"},
    {"[]x]", ZT_SPEC_UPROBE, NULL, "[]x]"},
    {"u:libc:malloc", ZT_SPEC_UPROBE, "libc", "malloc"},
    {"u:libssl.so.3:SSL_*", ZT_SPEC_UPROBE, "libssl.so.3", "SSL_*"},
    {"u:/usr/bin/x:main", ZT_SPEC_UPROBE, "/usr/bin/x", "main"},
    {"u:/opt/a:b/x:func", ZT_SPEC_UPROBE, "/opt/a:b/x", "func"},
    {"u:/opt/my app/bin:run", ZT_SPEC_UPROBE, "/opt/my app/bin", "run"},
    {"u:/x:_ZN3foo3barEv", ZT_SPEC_UPROBE, "/x", "_ZN3foo3barEv"},
    {"k:vfs_read", ZT_SPEC_KPROBE, NULL, "vfs_read"},
    {"k:tcp_*", ZT_SPEC_KPROBE, NULL, "tcp_*"},
    {"usdt:/usr/bin/python3:python:function__entry", ZT_SPEC_USDT, "/usr/bin/python3", NULL,
     "python", "function__entry"},
    {"usdt:libc:libc:setjmp", ZT_SPEC_USDT, "libc", NULL, "libc", "setjmp"},
    {"usdt:/a:b/c:prov:req_start..req_done", ZT_SPEC_USDT, "/a:b/c", NULL, "prov", "req_start",
     "req_done"},
    {"t:sched:sched_switch", ZT_SPEC_TRACEPOINT, NULL, NULL, NULL, "sched_switch", NULL, "sched"},
    {"t:syscalls:sys_enter_openat", ZT_SPEC_TRACEPOINT, NULL, NULL, NULL, "sys_enter_openat", NULL,
     "syscalls"},
};

static void assert_str_or_null(const char *got, const char *want, const char *field,
			       const char *text)
{
	if (!want)
		cr_assert_null(got, "%s of '%s' should be NULL, is '%s'", field, text, got);
	else
		cr_assert(got && !strcmp(got, want), "%s of '%s': got '%s', want '%s'", field, text,
			  got ? got : "(null)", want);
}

Test(probe_spec, valid_forms)
{
	char err[ERRLEN];

	for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
		const struct valid_case *c = &valid[i];
		struct zt_probe_spec s;
		int ret = zt_probe_spec_parse(c->text, &s, err, sizeof(err));

		cr_assert_eq(ret, 0, "'%s': %d %s", c->text, ret, err);
		cr_assert_eq(s.kind, c->kind, "kind of '%s'", c->text);
		assert_str_or_null(s.text, c->text, "text", c->text);
		assert_str_or_null(s.file, c->file, "file", c->text);
		assert_str_or_null(s.glob, c->glob, "glob", c->text);
		assert_str_or_null(s.provider, c->provider, "provider", c->text);
		assert_str_or_null(s.name, c->name, "name", c->text);
		assert_str_or_null(s.name_end, c->name_end, "name_end", c->text);
		assert_str_or_null(s.category, c->category, "category", c->text);
		zt_probe_spec_free(&s);
		cr_assert_null(s.text);
		zt_probe_spec_free(&s); /* twice is harmless */
	}
}

struct invalid_case {
	const char *text;
	const char *msg;
};

static const struct invalid_case invalid[] = {
    {"", "empty probe spec: expected GLOB, u:FILE:GLOB, k:GLOB, usdt:FILE:PROVIDER:NAME or "
	 "t:CATEGORY:NAME"},
    {"u:libc", "malformed probe spec 'u:libc': expected u:FILE:GLOB"},
    {"u:libc:", "empty function glob in probe spec 'u:libc:': expected u:FILE:GLOB"},
    {"u::malloc", "empty FILE in probe spec 'u::malloc': expected u:FILE:GLOB"},
    {"u:", "malformed probe spec 'u:': expected u:FILE:GLOB"},
    {"u:libc: malloc",
     "invalid character ' ' in function glob ' malloc' of probe spec 'u:libc: malloc': "
     "remove it"},
    {"u:libc:h[ab",
     "unbalanced '[' in glob 'h[ab' of probe spec 'u:libc:h[ab': close the set with ']'"},
    {"u:libc:a\\", "glob 'a\\' of probe spec 'u:libc:a\\' ends with '\\': remove it or write "
		   "'\\\\' for a backslash"},
    {"x:foo", "unknown probe type 'x' in 'x:foo': use u:, k:, usdt: or t:"},
    {"uprobe:/bin/x:main", "unknown probe type 'uprobe' in 'uprobe:/bin/x:main': use u:, k:, "
			   "usdt: or t:"},
    {"/bin/x:main", "unknown probe type '/bin/x' in '/bin/x:main': use u:, k:, usdt: or t: "
		    "(for functions in a file write u:/bin/x:main)"},
    {":main", "missing probe type in ':main': expected GLOB, u:FILE:GLOB, k:GLOB, "
	      "usdt:FILE:PROVIDER:NAME or t:CATEGORY:NAME"},
    {"k:", "empty function glob in probe spec 'k:': expected k:GLOB"},
    {"k:mod:func", "malformed probe spec 'k:mod:func': expected k:GLOB"},
    {"k:tcp_[", "unbalanced '[' in glob 'tcp_[' of probe spec 'k:tcp_[': close the set with "
		"']'"},
    {"usdt:x:y", "malformed probe spec 'usdt:x:y': expected usdt:FILE:PROVIDER:NAME"},
    {"usdt:", "malformed probe spec 'usdt:': expected usdt:FILE:PROVIDER:NAME"},
    {"usdt::p:n", "empty FILE in probe spec 'usdt::p:n': expected usdt:FILE:PROVIDER:NAME"},
    {"usdt:/x::n", "empty PROVIDER in probe spec 'usdt:/x::n': expected "
		   "usdt:FILE:PROVIDER:NAME"},
    {"usdt:/x:p:", "empty NAME in probe spec 'usdt:/x:p:': expected usdt:FILE:PROVIDER:NAME"},
    {"usdt:/x:my-prov:n", "invalid PROVIDER 'my-prov' in probe spec 'usdt:/x:my-prov:n': use "
			  "only letters, digits and '_'"},
    {"usdt:/x:p:a*", "invalid NAME 'a*' in probe spec 'usdt:/x:p:a*': use only letters, "
		     "digits and '_'"},
    {"usdt:/x:p:a..", "empty END in probe spec 'usdt:/x:p:a..': expected "
		      "usdt:FILE:PROVIDER:START..END"},
    {"usdt:/x:p:..b", "empty START in probe spec 'usdt:/x:p:..b': expected "
		      "usdt:FILE:PROVIDER:START..END"},
    {"usdt:/x:p:a..b..c", "invalid END 'b..c' in probe spec 'usdt:/x:p:a..b..c': use only "
			  "letters, digits and '_'"},
    {"t:sched", "malformed probe spec 't:sched': expected t:CATEGORY:NAME"},
    {"t:a:b:c", "malformed probe spec 't:a:b:c': expected t:CATEGORY:NAME"},
    {"t::x", "empty CATEGORY in probe spec 't::x': expected t:CATEGORY:NAME"},
    {"t:sched:", "empty NAME in probe spec 't:sched:': expected t:CATEGORY:NAME"},
    {"t:sched-x:foo", "invalid CATEGORY 'sched-x' in probe spec 't:sched-x:foo': use only "
		      "letters, digits and '_'"},
    {"t:sched:sched_*", "invalid NAME 'sched_*' in probe spec 't:sched:sched_*': use only "
			"letters, digits and '_'"},
    {"/usr/bin/x", "'/usr/bin/x' is not a function glob: to trace functions in a file write "
		   "u:/usr/bin/x:GLOB"},
    {"foo bar", "invalid character ' ' in function glob 'foo bar': use letters, digits, '_', "
		"'.' and * ? [ ] ! ^ -, or write u:FILE:GLOB"},
    {"foo$", "invalid character '$' in function glob 'foo$': use letters, digits, '_', '.' "
	     "and * ? [ ] ! ^ -, or write u:FILE:GLOB"},
    {"handle_[", "unbalanced '[' in glob 'handle_[': close the set with ']'"},
    {"[!]", "unbalanced '[' in glob '[!]': close the set with ']'"},
    {"main\n", "probe spec contains control character 0x0a at byte 4: remove it"},
    {"u:/x\t:main", "probe spec contains control character 0x09 at byte 4: remove it"},
    {"u:/x:ma\x7fin", "probe spec contains control character 0x7f at byte 7: remove it"},
};

Test(probe_spec, invalid_forms_have_exact_messages)
{
	char err[ERRLEN];

	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		const struct invalid_case *c = &invalid[i];
		struct zt_probe_spec s;
		int ret;

		memset(&s, 0xa5, sizeof(s));
		ret = zt_probe_spec_parse(c->text, &s, err, sizeof(err));
		cr_assert_eq(ret, -EINVAL, "'%s' should be refused, got %d", c->text, ret);
		cr_assert_str_eq(err, c->msg, "message for '%s'", c->text);
		cr_assert_null(strchr(err, '\n'), "message is one line");
		/* Nothing is left to free on error. */
		cr_assert_null(s.text);
		cr_assert_null(s.file);
		cr_assert_null(s.glob);
		cr_assert_null(s.provider);
		cr_assert_null(s.name);
		cr_assert_null(s.name_end);
		cr_assert_null(s.category);
	}
}

Test(probe_spec, null_text_is_refused)
{
	struct zt_probe_spec s;
	char err[ERRLEN];

	cr_assert_eq(zt_probe_spec_parse(NULL, &s, err, sizeof(err)), -EINVAL);
	cr_assert(!strncmp(err, "empty probe spec", 16), "%s", err);
}

Test(probe_spec, message_is_optional_and_truncated)
{
	struct zt_probe_spec s;
	char small[12];

	cr_assert_eq(zt_probe_spec_parse("x:foo", &s, NULL, 0), -EINVAL);
	cr_assert_eq(zt_probe_spec_parse("x:foo", &s, small, sizeof(small)), -EINVAL);
	cr_assert_str_eq(small, "unknown pro");
	cr_assert_eq(zt_probe_spec_parse("main", &s, small, sizeof(small)), 0);
	cr_assert_str_eq(small, "", "success clears the message");
	zt_probe_spec_free(&s);
}

Test(probe_spec, glob_validity)
{
	char err[ERRLEN];

	cr_assert(zt_glob_is_valid("*", err, sizeof(err)));
	cr_assert(zt_glob_is_valid("a[bc]d", err, sizeof(err)));
	cr_assert(zt_glob_is_valid("a[^]]", err, sizeof(err)));
	cr_assert(zt_glob_is_valid("a\\[", err, sizeof(err)), "an escaped '[' is a literal");
	cr_assert(zt_glob_is_valid("a]", err, sizeof(err)), "a lone ']' is a literal");
	cr_assert(zt_glob_is_valid("[[:alpha:]]*", err, sizeof(err)));

	cr_assert_not(zt_glob_is_valid("", err, sizeof(err)));
	cr_assert_str_eq(err, "empty glob: write a function name or a pattern such as 'handle_*'");
	cr_assert_not(zt_glob_is_valid(NULL, err, sizeof(err)));
	cr_assert_not(zt_glob_is_valid("a[b", err, sizeof(err)));
	cr_assert_str_eq(err, "unbalanced '[' in glob 'a[b': close the set with ']'");
	cr_assert_not(zt_glob_is_valid("a[b\\]", err, sizeof(err)), "escaped ']' does not close");
	cr_assert_not(zt_glob_is_valid("ab\\", err, sizeof(err)));
	cr_assert_str_eq(err,
			 "glob 'ab\\' ends with '\\': remove it or write '\\\\' for a backslash");
	cr_assert_not(zt_glob_is_valid("a\tb", err, sizeof(err)));
	cr_assert_str_eq(err, "glob contains control character 0x09 at byte 1: remove it");
	cr_assert_not(zt_glob_is_valid("a[", NULL, 0));
}

Test(probe_spec, kind_prefixes)
{
	cr_assert_str_eq(zt_spec_kind_prefix(ZT_SPEC_UPROBE), "u");
	cr_assert_str_eq(zt_spec_kind_prefix(ZT_SPEC_KPROBE), "k");
	cr_assert_str_eq(zt_spec_kind_prefix(ZT_SPEC_USDT), "usdt");
	cr_assert_str_eq(zt_spec_kind_prefix(ZT_SPEC_TRACEPOINT), "t");
}
