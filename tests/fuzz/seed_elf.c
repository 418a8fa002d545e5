// SPDX-License-Identifier: MIT
/*
 * Source of the ELF seeds of the elf_sym fuzzer (built by fuzz.mk, never run): a few functions
 * of different sizes and bindings, an alias, an IFUNC and a versioned pair in the shared
 * build, so the seeds hold every kind of symbol elf_sym.c sorts out. -nostdlib keeps the
 * files a few kilobytes.
 */
#define SEED_FN __attribute__((noinline, used))

static long counter;

/* A file-local function: only in .symtab. */
static SEED_FN long seed_local(long x)
{
	counter += x;
	return counter;
}

SEED_FN long seed_global(long x)
{
	return seed_local(x) * 3;
}

/* A weak function and an alias of seed_global at the same address. */
__attribute__((weak)) SEED_FN long seed_weak(long x)
{
	return x - 1;
}

extern long seed_alias(long x) __attribute__((alias("seed_global")));

/* An STT_GNU_IFUNC: its resolver picks seed_weak. */
static long (*seed_resolver(void))(long)
{
	return seed_weak;
}

long seed_ifunc(long x) __attribute__((ifunc("seed_resolver")));

#ifdef SEED_SHARED
/* Two versions of one name: seed_versioned@SEED_1 (hidden) and seed_versioned@@SEED_2. */
SEED_FN long seed_versioned_v1(long x)
{
	return x;
}

SEED_FN long seed_versioned_v2(long x)
{
	return x + 1;
}

__asm__(".symver seed_versioned_v1, seed_versioned@SEED_1");
__asm__(".symver seed_versioned_v2, seed_versioned@@SEED_2");
#else
/* The entry point of the executables (never run). */
SEED_FN void _start(void)
{
	seed_global(1);
	seed_weak(2);
	for (;;)
		;
}
#endif
