// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: zt_procmaps_parse() on any text, then every lookup on what it parsed.
 * Checks the contract of procmaps.h: mappings in address order, file paths absolute, lookups
 * answering from the parsed table.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_util.h"
#include "procmaps.h"

/* Library names of every form zt_libname_matches() knows (see procmaps.h). */
static const char *const libnames[] = {
    "libc", "libssl.so.3", "libpricing.so", "/usr/lib/x86_64-linux-gnu/libc.so.6", "l", "",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = zt_fuzz_strdup(data, size);
	struct zt_maps m;
	size_t i, j;
	int ret;

	memset(&m, 0x5a, sizeof(m));
	ret = zt_procmaps_parse(text, &m);
	ZT_FUZZ_CHECK(ret == 0 || ret == -EINVAL || ret == -ENOMEM);
	if (ret) {
		free(text);
		return 0;
	}
	ZT_FUZZ_CHECK(m.n == 0 || m.v);
	for (i = 0; i < m.n; i++) {
		const struct zt_map *map = &m.v[i];
		const struct zt_map *found;

		ZT_FUZZ_CHECK(map->start <= map->end);
		if (i > 0)
			ZT_FUZZ_CHECK(m.v[i - 1].start <= map->start);
		if (map->path)
			(void)strlen(map->path);
		if (zt_map_is_file(map))
			ZT_FUZZ_CHECK(map->path && map->path[0] == '/');
		if (map->start < map->end) {
			found = zt_procmaps_find_addr(&m, map->start);
			ZT_FUZZ_CHECK(found && found->start <= map->start &&
				      map->start < found->end);
			found = zt_procmaps_find_addr(&m, map->end - 1);
			ZT_FUZZ_CHECK(found && found->start <= map->end - 1 &&
				      map->end - 1 < found->end);
		}
		for (j = 0; j < sizeof(libnames) / sizeof(libnames[0]) && map->path; j++)
			(void)zt_libname_matches(libnames[j], map->path);
	}
	for (j = 0; j < sizeof(libnames) / sizeof(libnames[0]); j++) {
		const struct zt_map *lib = zt_procmaps_find_lib_map(&m, libnames[j]);
		const char *path = zt_procmaps_find_lib(&m, libnames[j]);

		ZT_FUZZ_CHECK((lib == NULL) == (path == NULL));
		if (lib)
			ZT_FUZZ_CHECK(zt_map_is_file(lib) && lib->path == path);
	}
	(void)zt_procmaps_find_addr(&m, 0);
	(void)zt_procmaps_find_addr(&m, UINT64_MAX);
	zt_procmaps_free(&m);
	ZT_FUZZ_CHECK(m.v == NULL && m.n == 0);
	free(text);
	return 0;
}
