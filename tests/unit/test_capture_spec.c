// SPDX-License-Identifier: MIT
/* --capture: the parser's forms and exact messages, and how captured arguments are shown. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture_spec.h"
#include "export_json.h"
#include "otlp_attrs.h"
#include "span_args.h"

#define ERRLEN 512

struct good_case {
	const char *text, *glob;
	uint8_t int_mask, int32_mask, nstr;
	uint8_t str_arg[ZT_ARGS_MAX_STRS], str_len[ZT_ARGS_MAX_STRS];
};

static const struct good_case good[] = {
    {"process_order:arg0", "process_order", 0x01},
    {"process_*:arg0,arg1,str2/64", "process_*", 0x03, 0, 1, {2}, {64}},
    {"f:str0", "f", 0, 0, 1, {0}, {ZT_ARG_STR_DEFAULT}},
    {"f:arg5/i32,str0/1,str3", "f", 0x20, 0x20, 2, {0, 3}, {1, ZT_ARG_STR_DEFAULT}},
    {"ns::f:arg1", "ns::f", 0x02},
    {"h[a-c]?_*:arg4,arg3", "h[a-c]?_*", 0x18},
};

Test(capture_spec, good_forms)
{
	char err[ERRLEN];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		const struct good_case *c = &good[i];
		struct zt_capture_spec s;
		int ret = zt_capture_spec_parse(c->text, &s, err, sizeof(err));

		cr_assert_eq(ret, 0, "'%s': %d %s", c->text, ret, err);
		cr_assert_str_eq(s.glob, c->glob, "glob of '%s'", c->text);
		cr_assert_eq(s.args.int_mask, c->int_mask, "int_mask of '%s'", c->text);
		cr_assert_eq(s.args.int32_mask, c->int32_mask, "int32_mask of '%s'", c->text);
		cr_assert_eq(s.args.nstr, c->nstr, "nstr of '%s'", c->text);
		for (unsigned k = 0; k < c->nstr; k++) {
			cr_assert_eq(s.args.str_arg[k], c->str_arg[k], "str %u of '%s'", k,
				     c->text);
			cr_assert_eq(s.args.str_len[k], c->str_len[k], "len %u of '%s'", k,
				     c->text);
		}
		zt_capture_spec_free(&s);
		cr_assert_null(s.glob);
	}
}

struct bad_case {
	const char *text, *msg;
};

static const struct bad_case bad[] = {
    {"process_order", "bad --capture 'process_order': expected FUNC_GLOB:LIST, e.g. "
		      "'process_*:arg0,str1/64'"},
    {":arg0", "bad --capture ':arg0': no function glob before ':': expected FUNC_GLOB:LIST, "
	      "e.g. 'process_*:arg0,str1/64'"},
    {"f:", "bad --capture 'f:': empty item in the list: write argN[/i32] (an integer) or "
	   "strN[/LEN] (a string), N from 0 to 5"},
    {"f:arg0,,arg1", "bad --capture 'f:arg0,,arg1': empty item in the list: write argN[/i32] "
		     "(an integer) or strN[/LEN] (a string), N from 0 to 5"},
    {"f:ret", "bad --capture 'f:ret': unknown item 'ret': write argN[/i32] (an integer) or "
	      "strN[/LEN] (a string), N from 0 to 5"},
    {"f:arg", "bad --capture 'f:arg': unknown item 'arg': write argN[/i32] (an integer) or "
	      "strN[/LEN] (a string), N from 0 to 5"},
    {"f:argx", "bad --capture 'f:argx': unknown item 'argx': write argN[/i32] (an integer) or "
	       "strN[/LEN] (a string), N from 0 to 5"},
    {"f:arg6", "bad --capture 'f:arg6': argument 6 in 'arg6' is not a register argument: "
	       "x86-64 passes the first 6 in registers, arg0 to arg5"},
    {"f:str17/8", "bad --capture 'f:str17/8': argument 17 in 'str17/8' is not a register "
		  "argument: x86-64 passes the first 6 in registers, arg0 to arg5"},
    {"f:arg1,str1", "bad --capture 'f:arg1,str1': argument 1 is named twice: keep one item "
		    "for it"},
    {"f:arg0/i16", "bad --capture 'f:arg0/i16': unknown integer width in 'arg0/i16': write "
		   "arg0 (64-bit) or arg0/i32 (a C int)"},
    {"f:str2/", "bad --capture 'f:str2/': bad string length in 'str2/': give 1 to 64 bytes, "
		"e.g. str2/32"},
    {"f:str2/0", "bad --capture 'f:str2/0': bad string length in 'str2/0': give 1 to 64 bytes, "
		 "e.g. str2/32"},
    {"f:str2/x", "bad --capture 'f:str2/x': bad string length in 'str2/x': give 1 to 64 bytes, "
		 "e.g. str2/32"},
    {"f:str2/65", "bad --capture 'f:str2/65': string length 65 in 'str2/65' is over the "
		  "maximum of 64 bytes"},
    {"f:str2/4096", "bad --capture 'f:str2/4096': bad string length in 'str2/4096': give 1 to "
		    "64 bytes, e.g. str2/32"},
    {"f:str0,str1,str2", "bad --capture 'f:str0,str1,str2': more than 2 strings: capture at "
			 "most 2 per function"},
    {"f[:arg0", "bad --capture 'f[:arg0': unbalanced '[' in glob 'f[': close the set with ']'"},
    /* a newline typed into the spec must not break the message's one line */
    {"f\n:arg9", "bad --capture 'f?:arg9': argument 9 in 'arg9' is not a register argument: "
		 "x86-64 passes the first 6 in registers, arg0 to arg5"},
};

Test(capture_spec, bad_forms_exact_messages)
{
	char err[ERRLEN];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct zt_capture_spec s;
		int ret;

		err[0] = '\0';
		ret = zt_capture_spec_parse(bad[i].text, &s, err, sizeof(err));
		cr_assert_eq(ret, -EINVAL, "'%s' should be refused", bad[i].text);
		cr_assert_str_eq(err, bad[i].msg);
		cr_assert_null(s.glob, "nothing to free after an error");
	}
}

/* A part as the kernel fills it for 'f:arg0/i32,str1/4,arg2'. */
static struct zt_args_part sample_part(void)
{
	struct zt_args_part a = {0};

	a.spec = (struct zt_arg_spec){
	    .int_mask = 0x05, .int32_mask = 0x01, .nstr = 1, .str_arg = {1}, .str_len = {4}};
	a.regs[0] = 0xfffffff9;	  /* -7 as an int: upper half not sign-extended */
	a.regs[2] = (uint64_t)-5; /* a long */
	a.strs[0] = (struct zt_arg_str){.arg = 1, .flags = ZT_ARG_STR_TRUNCATED, .len = 4};
	memcpy(a.strs[0].text, "a\"\\\n", 4);
	return a;
}

Test(span_args, list_in_argument_order_with_int32_sign_extended)
{
	struct zt_args_part a = sample_part();
	struct zt_arg_view v[ZT_ARGS_MAX];

	cr_assert_eq(zt_span_args_check(&a), 0);
	cr_assert_eq(zt_span_args_list(&a, v), 3);
	cr_assert(!v[0].is_str && v[0].index == 0 && v[0].value == -7);
	cr_assert(v[1].is_str && v[1].index == 1 && v[1].len == 4 && v[1].truncated);
	cr_assert(!v[2].is_str && v[2].index == 2 && v[2].value == -5);
}

Test(span_args, check_refuses_bad_parts)
{
	struct zt_args_part a = sample_part();

	a.strs[0].len = ZT_ARG_STR_MAX + 1;
	cr_assert_eq(zt_span_args_check(&a), -EINVAL, "length past the limit");
	a = sample_part();
	a.strs[0].len = 2; /* the text goes on past its length */
	cr_assert_eq(zt_span_args_check(&a), -EINVAL, "text not terminated at its length");
	a = sample_part();
	a.strs[0].arg = 2; /* already an integer */
	cr_assert_eq(zt_span_args_check(&a), -EINVAL, "argument shown twice");
	a = sample_part();
	a.spec.nstr = ZT_ARGS_MAX_STRS + 1;
	cr_assert_eq(zt_span_args_check(&a), -EINVAL, "too many strings");
	a = sample_part();
	a.spec.int32_mask = 0x02;
	cr_assert_eq(zt_span_args_check(&a), -EINVAL, "int32 bit of no integer");
}

/* What f(out) wrote, NUL-terminated; the caller frees it. */
static char *capture_output(void (*f)(FILE *, const struct zt_args_part *),
			    const struct zt_args_part *a)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	cr_assert_not_null(out);
	f(out, a);
	fclose(out);
	return buf;
}

static void json_args(FILE *out, const struct zt_args_part *a)
{
	zt_json_write_args(out, a, "");
}

Test(span_args, text_and_json_forms)
{
	struct zt_args_part a = sample_part(), none = {0};
	char *text = capture_output(zt_span_args_print, &a);
	char *json = capture_output(json_args, &a);
	char *empty = capture_output(zt_span_args_print, &none);

	cr_assert_str_eq(text, "(-7, \"a\\x22\\x5c\\x0a\"..., -5)");
	cr_assert_str_eq(json, "\"arg0\":-7,\"arg1\":\"a\\\"\\\\\\n\",\"arg1.truncated\":true,"
			       "\"arg2\":-5");
	cr_assert_str_eq(empty, "");
	free(text);
	free(json);
	free(empty);
	a.strs[0] = (struct zt_arg_str){.arg = 1, .flags = ZT_ARG_STR_FAULT};
	text = capture_output(zt_span_args_print, &a);
	json = capture_output(json_args, &a);
	cr_assert_str_eq(text, "(-7, ?, -5)");
	cr_assert_str_eq(json, "\"arg0\":-7,\"arg1.unreadable\":true,\"arg2\":-5");
	free(text);
	free(json);
}

Test(span_args, otlp_attributes)
{
	struct zt_span s = {.kind = ZT_KIND_FUNCTION, .name = "f", .tid = 9};
	struct zt_otlp_attr at[ZT_OTLP_SPAN_ATTRS_MAX];
	size_t n, base;

	base = zt_otlp_span_attrs(&s, at);
	s.args = sample_part();
	n = zt_otlp_span_attrs(&s, at);
	cr_assert_eq(n, base + 4);
	cr_assert_str_eq(at[base].key, "ztrace.arg0");
	cr_assert(at[base].type == ZT_ATTR_INT && at[base].num == -7);
	cr_assert_str_eq(at[base + 1].key, "ztrace.arg1");
	cr_assert(at[base + 1].type == ZT_ATTR_STRING && at[base + 1].str_len == 4 &&
		  !memcmp(at[base + 1].str, "a\"\\\n", 4));
	cr_assert_str_eq(at[base + 2].key, "ztrace.arg1.truncated");
	cr_assert(at[base + 2].type == ZT_ATTR_BOOL && at[base + 2].num == 1);
	cr_assert_str_eq(at[base + 3].key, "ztrace.arg2");
	cr_assert(at[base + 3].type == ZT_ATTR_INT && at[base + 3].num == -5);
}
