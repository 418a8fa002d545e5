/* SPDX-License-Identifier: MIT */
/* The API of libpricing.so, the shared library the orders target calls into. */
#ifndef ZT_TARGET_PRICING_H
#define ZT_TARGET_PRICING_H

/* Base price of order @id in cents: 1000 + (id % 7) * 125. */
long price_lookup(long id);
/* @price reduced by @pct percent (integer cents, rounded down). */
long apply_discount(long price, long pct);

#endif
