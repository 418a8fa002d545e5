/* SPDX-License-Identifier: MIT */
/*
 * Which ELF file the kernel runs for a command: a script's "#!" line names its interpreter
 * (and "#!/usr/bin/env NAME" the program env then runs, found through PATH), so the libraries
 * a launched script's process will load are those of that interpreter.
 */
#ifndef ZTRACE_EXEC_IMAGE_H
#define ZTRACE_EXEC_IMAGE_H

#include <stddef.h>

/*
 * The ELF program that exec(path) ends up running, into out: path itself when it is not a
 * script, else its interpreter, followed through at most ZT_MAX_INTERP_DEPTH scripts as the
 * kernel does. path_env is the PATH used to find NAME in "#!/usr/bin/env NAME" (NULL: no
 * search, env itself is the answer). Returns 0; -ENOENT / -EACCES when a file cannot be
 * opened; -ELOOP past the depth; -ENOEXEC for a "#!" line naming no interpreter;
 * -ENAMETOOLONG.
 */
int zt_exec_image(const char *path, const char *path_env, char *out, size_t outlen);

#endif
