// SPDX-License-Identifier: MIT
/*
 * The overhead governor's decision (cost and budget -> sampling shift, with hysteresis) and its
 * budget syntax. The measuring half runs against the kernel in tests/integ/test_governor.c.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "governor.h"
#include "ztrace/limits.h"

#define B 1000000ull /* a budget of 1 ms/s */

Test(governor, under_budget_keeps_every_call)
{
	cr_assert_eq(zt_governor_decide(0, B, 0), 0);
	cr_assert_eq(zt_governor_decide(B, B, 0), 0);
}

Test(governor, over_budget_samples_by_the_smallest_power_of_two)
{
	cr_assert_eq(zt_governor_decide(B + 1, B, 0), 1);
	cr_assert_eq(zt_governor_decide(2 * B, B, 0), 1);
	cr_assert_eq(zt_governor_decide(3 * B, B, 0), 2);
	cr_assert_eq(zt_governor_decide(4 * B, B, 0), 2);
	cr_assert_eq(zt_governor_decide(4 * B + 4, B, 0), 3);
	cr_assert_eq(zt_governor_decide(1000 * B, B, 0), 10);
	/* raised at once from any rate */
	cr_assert_eq(zt_governor_decide(1000 * B, B, 3), 10);
}

Test(governor, sampling_stops_at_the_maximum)
{
	cr_assert_eq(zt_governor_decide(UINT64_MAX, B, 0), ZT_GOVERNOR_MAX_SHIFT);
	cr_assert_eq(zt_governor_decide(UINT64_MAX, 1, ZT_GOVERNOR_MAX_SHIFT),
		     ZT_GOVERNOR_MAX_SHIFT);
}

Test(governor, relaxed_only_well_under_budget)
{
	/* sampled 1 in 8: at 3B it would need 1 in 4 but stays (3B/4 > B/4) */
	cr_assert_eq(zt_governor_decide(3 * B, B, 3), 3);
	/* 2B: 1 in 8 keeps 2B/8 = B/4, the relaxed budget: 1 in 8 is as far as it may go */
	cr_assert_eq(zt_governor_decide(2 * B, B, 3), 3);
	/* B/2: 1 in 2 keeps B/4 */
	cr_assert_eq(zt_governor_decide(B / 2, B, 3), 1);
	/* B/4 and below: lifted */
	cr_assert_eq(zt_governor_decide(B / 4, B, 3), 0);
	cr_assert_eq(zt_governor_decide(0, B, ZT_GOVERNOR_MAX_SHIFT), 0);
}

Test(governor, no_flapping_around_the_budget)
{
	/* a cost wobbling around the boundary of 1 in 4 settles and stays */
	static const uint64_t costs[] = {5 * B, 3 * B, 5 * B, 3 * B, 4 * B, 5 * B, 3 * B};
	uint32_t shift = 0;

	shift = zt_governor_decide(costs[0], B, shift);
	cr_assert_eq(shift, 3);
	for (size_t i = 1; i < sizeof(costs) / sizeof(costs[0]); i++) {
		shift = zt_governor_decide(costs[i], B, shift);
		cr_assert_eq(shift, 3, "step %zu: cost %llu -> shift %u", i,
			     (unsigned long long)costs[i], shift);
	}
}

Test(governor, tiny_budget_still_relaxes)
{
	/* budget / ZT_GOVERNOR_LIFT_FACTOR rounds to 0: counted as 1 ns/s */
	cr_assert_eq(zt_governor_decide(1, 2, 5), 0);
	cr_assert_eq(zt_governor_decide(0, 1, 5), 0);
}

Test(governor, budget_syntax)
{
	static const struct {
		const char *text;
		uint64_t ns;
	} good[] = {
	    {"2%", 20000000}, {"0.5%", 5000000},	{"100%", 1000000000},
	    {"1500", 1500},   {"999999999", 999999999},
	};
	static const char *const bad[] = {"",	 "0",	"0%",  "-1",   "+5",  "101%",	      "2%%",
					  "2 %", "1e9", "nan", "inf%", "5ms", "0.0000000001%"};
	char err[256], want[256];
	uint64_t ns;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		cr_assert_eq(zt_parse_probe_budget(good[i].text, &ns, err, sizeof(err)), 0,
			     "%s: %s", good[i].text, err);
		cr_assert_eq(ns, good[i].ns, "%s: %llu", good[i].text, (unsigned long long)ns);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(zt_parse_probe_budget(bad[i], &ns, err, sizeof(err)), -EINVAL,
			     "'%s' accepted", bad[i]);
		snprintf(want, sizeof(want),
			 "bad probe budget '%s': give a percentage of one CPU (e.g. 2%%) or "
			 "nanoseconds of BPF run time per second (1 to 999999999)",
			 bad[i]);
		cr_assert_str_eq(err, want);
	}
}
