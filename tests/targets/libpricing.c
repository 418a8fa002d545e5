/* SPDX-License-Identifier: MIT */
/*
 * libpricing.so: the shared library the orders target calls through the PLT. It is linked with
 * -nostartfiles so its symbol table holds exactly the functions below (no crt helpers such as
 * frame_dummy or _fini), which lets tests count the spans of 'u:libpricing.so:*' exactly.
 */
#include "pricing.h"
#include "target_util.h"

/* Cents added per distinct price step. */
#define PRICE_STEP_CENTS 125
/* Number of distinct price steps. */
#define PRICE_STEPS 7
/* Price of the cheapest item in cents. */
#define PRICE_BASE_CENTS 1000
/* Percent scale of apply_discount(). */
#define PERCENT 100

/* Returns the base price in cents of order @id; never negative for id >= 0. */
ZT_TARGET_FN long price_lookup(long id)
{
	return PRICE_BASE_CENTS + (id % PRICE_STEPS) * PRICE_STEP_CENTS;
}

/* Returns @price minus @pct percent of it, rounded down to whole cents. */
ZT_TARGET_FN long apply_discount(long price, long pct)
{
	return price - price * pct / PERCENT;
}
