/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the libFuzzer targets: the input as a C string, as an argv, or as a file
 * that the parsers under test open by path.
 */
#ifndef ZT_FUZZ_UTIL_H
#define ZT_FUZZ_UTIL_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/*
 * Stop the run with a message: libFuzzer treats the abort as a crash and saves the input.
 * Used for broken invariants that are not memory errors (the sanitizers catch those).
 */
#define ZT_FUZZ_CHECK(cond)                                                                        \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__,       \
				#cond);                                                            \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* A malloc'd NUL-terminated copy of DATA (embedded NULs cut it short, as in argv). */
static inline char *zt_fuzz_strdup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/*
 * A file that holds the current input, reached by path: an anonymous memory file, so the
 * fuzzer writes nothing to disk. Opened once per process; the path is /proc/self/fd/N.
 */
struct zt_fuzz_file {
	int fd;
	char path[64];
};

/* Replace the file's contents with DATA. Returns the path to open. Aborts on failure. */
static inline const char *zt_fuzz_file_set(struct zt_fuzz_file *f, const uint8_t *data, size_t size)
{
	size_t off = 0;

	if (!f->path[0]) {
		f->fd = memfd_create("zt-fuzz-input", MFD_CLOEXEC);
		if (f->fd < 0)
			abort();
		snprintf(f->path, sizeof(f->path), "/proc/self/fd/%d", f->fd);
	}
	if (ftruncate(f->fd, 0))
		abort();
	while (off < size) {
		ssize_t n = pwrite(f->fd, data + off, size - off, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			abort();
		off += (size_t)n;
	}
	return f->path;
}

#endif
