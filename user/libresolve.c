// SPDX-License-Identifier: MIT
/*
 * Library resolution as glibc's ld.so does it (elf/dl-load.c: _dl_map_object and open_path),
 * so that `u:libfoo:GLOB` can be attached before a started program has mapped libfoo.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elf_sym.h"
#include "libresolve.h"
#include "procmaps.h"
#include "ztrace/limits.h"

#define ZT_LDCACHE_PATH "/etc/ld.so.cache"

/* The ld.so.cache formats (glibc sysdeps/generic/dl-cache.h). */
#define ZT_LDCACHE_OLD_MAGIC	 "ld.so-1.7.0"
#define ZT_LDCACHE_OLD_HDR_SIZE	 16 /* magic[11], padding, uint32 nlibs */
#define ZT_LDCACHE_OLD_ENTRY	 12 /* int32 flags, uint32 key, uint32 value */
#define ZT_LDCACHE_NEW_MAGIC	 "glibc-ld.so.cache1.1"
#define ZT_LDCACHE_NEW_HDR_SIZE	 48
#define ZT_LDCACHE_NEW_ALIGN	 8  /* alignof(struct cache_file_new): it holds uint64_t */
#define ZT_LDCACHE_NEW_ENTRY	 24 /* int32 flags, uint32 key, value, osversion; uint64 hwcap */
#define ZT_LDCACHE_NLIBS_OFF	 20
#define ZT_LDCACHE_FLAGS_OFF	 28
#define ZT_LDCACHE_ENDIAN_MASK	 3
#define ZT_LDCACHE_ENDIAN_UNSET	 0
#define ZT_LDCACHE_ENDIAN_LITTLE 2
/* FLAG_ELF_LIBC6 | FLAG_X8664_LIB64: what x86_64's ld.so accepts (_dl_cache_check_flags). */
#define ZT_LDCACHE_X86_64_LIBC6 0x0303

static const char *const default_dirs[] = {
    "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/lib", "/usr/lib",
};

struct ldcache {
	char *buf;
	size_t size;
	size_t base; /* offset of the new-format header; string offsets count from here */
	size_t nlibs;
};

/* One loaded object of the walk. */
struct object {
	char *path;   /* as found, absolute */
	char *origin; /* $ORIGIN */
	char *rpath;  /* NULL when the object has DT_RUNPATH: ld.so then ignores DT_RPATH */
	char *runpath;
	char *soname;
	char *req; /* the DT_NEEDED name it was loaded for (NULL for the executable) */
	char **needed;
	size_t n_needed;
	int loader; /* index of the object whose DT_NEEDED loaded it, -1 for the executable */
	dev_t dev;
	ino_t ino;
};

struct walk {
	struct object *objs;
	size_t n;
	const char *ld_library_path;
	struct ldcache cache;
	bool cache_loaded;
	int cache_err;
	char *interp; /* PT_INTERP of the executable: already mapped, never searched */
	char *interp_soname;
};

static uint32_t get_u32(const char *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint64_t get_u64(const char *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* Read a whole file of at most MAX bytes. Returns 0 with a malloc'd *buf, or -errno. */
static int read_file(const char *path, size_t max, char **buf, size_t *size)
{
	struct stat st;
	size_t len = 0;
	ssize_t got;
	char *b = NULL;
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		err = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > max) {
		err = -EINVAL;
		goto out;
	}
	b = malloc(st.st_size ? st.st_size : 1);
	if (!b) {
		err = -ENOMEM;
		goto out;
	}
	while (len < (size_t)st.st_size) {
		got = read(fd, b + len, st.st_size - len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			err = -errno;
			goto out;
		}
		if (got == 0)
			break; /* truncated meanwhile: parse what is there */
		len += got;
	}
	*buf = b;
	*size = len;
	b = NULL;
out:
	free(b);
	close(fd);
	return err;
}

/* Load and check the header of the ld.so cache at PATH. Returns 0 or -errno. */
static int ldcache_load(const char *path, struct ldcache *c)
{
	size_t old_n, base = 0;
	int err;

	memset(c, 0, sizeof(*c));
	err = read_file(path, ZT_LDCACHE_MAX_BYTES, &c->buf, &c->size);
	if (err)
		return err;
	err = -EINVAL;
	/* glibc before 2.32 wrote the old format first and the new one after it. */
	if (c->size >= ZT_LDCACHE_OLD_HDR_SIZE &&
	    !memcmp(c->buf, ZT_LDCACHE_OLD_MAGIC, strlen(ZT_LDCACHE_OLD_MAGIC))) {
		old_n = get_u32(c->buf + strlen(ZT_LDCACHE_OLD_MAGIC) + 1);
		if (old_n > (c->size - ZT_LDCACHE_OLD_HDR_SIZE) / ZT_LDCACHE_OLD_ENTRY)
			goto fail;
		base = ZT_LDCACHE_OLD_HDR_SIZE + old_n * ZT_LDCACHE_OLD_ENTRY;
		base = (base + ZT_LDCACHE_NEW_ALIGN - 1) & ~(size_t)(ZT_LDCACHE_NEW_ALIGN - 1);
	}
	if (base > c->size || c->size - base < ZT_LDCACHE_NEW_HDR_SIZE ||
	    memcmp(c->buf + base, ZT_LDCACHE_NEW_MAGIC, strlen(ZT_LDCACHE_NEW_MAGIC)))
		goto fail;
	switch (c->buf[base + ZT_LDCACHE_FLAGS_OFF] & ZT_LDCACHE_ENDIAN_MASK) {
	case ZT_LDCACHE_ENDIAN_UNSET:
	case ZT_LDCACHE_ENDIAN_LITTLE:
		break;
	default:
		goto fail; /* written for a big-endian machine */
	}
	c->base = base;
	c->nlibs = get_u32(c->buf + base + ZT_LDCACHE_NLIBS_OFF);
	if (c->nlibs > (c->size - base - ZT_LDCACHE_NEW_HDR_SIZE) / ZT_LDCACHE_NEW_ENTRY)
		goto fail;
	return 0;
fail:
	free(c->buf);
	memset(c, 0, sizeof(*c));
	return err;
}

/* The NUL-terminated string at cache offset OFF, or NULL when it leaves the file. */
static const char *ldcache_str(const struct ldcache *c, uint32_t off)
{
	size_t at = c->base + off;

	if (off >= c->size - c->base || !memchr(c->buf + at, '\0', c->size - at))
		return NULL;
	return c->buf + at;
}

/* Find SONAME in a loaded cache. Returns 0 with *path (into C), -ENOENT or -EINVAL. */
static int ldcache_find(const struct ldcache *c, const char *soname, const char **path)
{
	const char *e, *key, *value;
	size_t i;

	for (i = 0; i < c->nlibs; i++) {
		e = c->buf + c->base + ZT_LDCACHE_NEW_HDR_SIZE + i * ZT_LDCACHE_NEW_ENTRY;
		/* A hwcap entry is an optimized variant for some CPUs; the baseline one is kept. */
		if (get_u32(e) != ZT_LDCACHE_X86_64_LIBC6 || get_u64(e + 16) != 0)
			continue;
		key = ldcache_str(c, get_u32(e + 4));
		if (!key)
			return -EINVAL;
		if (strcmp(key, soname))
			continue;
		value = ldcache_str(c, get_u32(e + 8));
		if (!value)
			return -EINVAL;
		*path = value;
		return 0;
	}
	return -ENOENT;
}

/* Copy S into OUT of OUTLEN bytes. Returns 0 or -ENAMETOOLONG. */
static int copy_out(const char *s, char *out, size_t outlen)
{
	size_t len = strlen(s);

	if (len >= outlen)
		return -ENAMETOOLONG;
	memcpy(out, s, len + 1);
	return 0;
}

int zt_ldcache_lookup(const char *cache_path, const char *soname, char *out, size_t outlen)
{
	struct ldcache c;
	const char *path;
	int err;

	err = ldcache_load(cache_path, &c);
	if (err)
		return err;
	err = ldcache_find(&c, soname, &path);
	if (!err)
		err = copy_out(path, out, outlen);
	free(c.buf);
	return err;
}

/* Duplicate S (which may be NULL). Returns false on allocation failure of a non-NULL S. */
static bool dup_opt(const char *s, char **out)
{
	*out = s ? strdup(s) : NULL;
	return !s || *out;
}

/* Make PATH absolute against the current directory into OUT (PATH_MAX). Returns 0 or -errno. */
static int make_absolute(const char *path, char *out)
{
	char cwd[PATH_MAX];

	if (path[0] == '/')
		return copy_out(path, out, PATH_MAX);
	if (!getcwd(cwd, sizeof(cwd)))
		return -errno;
	if (snprintf(out, PATH_MAX, "%s/%s", cwd, path) >= PATH_MAX)
		return -ENAMETOOLONG;
	return 0;
}

/* The directory part of absolute PATH ("/" for "/x"), malloc'd; NULL on -ENOMEM. */
static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash || slash == path)
		return strdup("/");
	return strndup(path, slash - path);
}

/*
 * Expand $ORIGIN and ${ORIGIN} in the search path element [S, S + LEN) into OUT (PATH_MAX),
 * dropping trailing slashes as ld.so does. Returns 0 or -ENAMETOOLONG.
 */
static int expand_origin(const char *s, size_t len, const char *origin, char *out)
{
	size_t o = 0, i = 0, olen = strlen(origin), tok;

	while (i < len) {
		tok = 0;
		if (len - i >= 7 && !memcmp(s + i, "$ORIGIN", 7))
			tok = 7;
		else if (len - i >= 9 && !memcmp(s + i, "${ORIGIN}", 9))
			tok = 9;
		/* "$ORIGINX" is not the token: the name must end there. */
		if (tok == 7 && i + 7 < len &&
		    (s[i + 7] == '_' || (s[i + 7] >= 'A' && s[i + 7] <= 'Z') ||
		     (s[i + 7] >= 'a' && s[i + 7] <= 'z') || (s[i + 7] >= '0' && s[i + 7] <= '9')))
			tok = 0;
		if (tok) {
			if (o + olen >= PATH_MAX)
				return -ENAMETOOLONG;
			memcpy(out + o, origin, olen);
			o += olen;
			i += tok;
			continue;
		}
		if (o + 1 >= PATH_MAX)
			return -ENAMETOOLONG;
		out[o++] = s[i++];
	}
	while (o > 1 && out[o - 1] == '/')
		o--;
	out[o] = '\0';
	return 0;
}

/* Whether CANDIDATE can be loaded: an x86_64 ELF object. Returns the open file or NULL. */
static struct zt_elf *try_candidate(const char *candidate)
{
	struct zt_elf *e = NULL;

	if (zt_elf_open(candidate, &e)) {
		/* ld.so skips a file for another machine and goes on searching. */
		zt_elf_close(e);
		return NULL;
	}
	return e;
}

/*
 * Search NAME in the directories of search path DIRS (elements separated by any of SEPS).
 * Returns the open ELF with its path in FOUND (PATH_MAX), or NULL.
 */
static struct zt_elf *search_dirs(const char *dirs, const char *seps, const char *origin,
				  const char *name, char *found)
{
	char dir[PATH_MAX];
	struct zt_elf *e;
	const char *p = dirs;
	size_t len;

	while (*p) {
		len = strcspn(p, seps);
		if (len && !expand_origin(p, len, origin, dir) &&
		    snprintf(found, PATH_MAX, "%s/%s", strcmp(dir, "/") ? dir : "", name) <
			PATH_MAX) {
			e = try_candidate(found);
			if (e)
				return e;
		}
		p += len;
		if (*p)
			p++;
	}
	return NULL;
}

/* The ld.so cache, read on first use. Returns it or NULL when there is none usable. */
static const struct ldcache *walk_cache(struct walk *w)
{
	if (!w->cache_loaded) {
		w->cache_err = ldcache_load(ZT_LDCACHE_PATH, &w->cache);
		w->cache_loaded = true;
	}
	return w->cache_err ? NULL : &w->cache;
}

/*
 * Resolve NAME needed by object LOADER the way _dl_map_object() does. Returns the open ELF with
 * its path in FOUND (PATH_MAX), or NULL when ld.so would not find it.
 */
static struct zt_elf *search(struct walk *w, int loader, const char *name, char *found)
{
	const struct object *ld = &w->objs[loader];
	const struct ldcache *cache;
	const char *cached;
	struct zt_elf *e = NULL;
	size_t i;
	int l;

	if (strchr(name, '/')) {
		if (expand_origin(name, strlen(name), ld->origin, found))
			return NULL;
		return try_candidate(found);
	}
	/* DT_RPATH of the needing object, then of its loader, and on up to the executable. */
	if (!ld->runpath) {
		for (l = loader; l >= 0 && !e; l = w->objs[l].loader) {
			if (w->objs[l].rpath)
				e = search_dirs(w->objs[l].rpath, ":", w->objs[l].origin, name,
						found);
		}
	}
	/* $ORIGIN in LD_LIBRARY_PATH means the executable's directory. */
	if (!e && w->ld_library_path)
		e = search_dirs(w->ld_library_path, ":;", w->objs[0].origin, name, found);
	if (!e && ld->runpath)
		e = search_dirs(ld->runpath, ":", ld->origin, name, found);
	if (!e) {
		cache = walk_cache(w);
		if (cache && !ldcache_find(cache, name, &cached) &&
		    !copy_out(cached, found, PATH_MAX))
			e = try_candidate(found);
	}
	for (i = 0; !e && i < sizeof(default_dirs) / sizeof(default_dirs[0]); i++) {
		if (snprintf(found, PATH_MAX, "%s/%s", default_dirs[i], name) < PATH_MAX)
			e = try_candidate(found);
	}
	return e;
}

/* Whether NAME is already loaded: requested under that name, its soname, or its path. */
static bool already_loaded(const struct walk *w, const char *name)
{
	const struct object *o;
	size_t i;

	for (i = 0; i < w->n; i++) {
		o = &w->objs[i];
		if ((o->req && !strcmp(o->req, name)) || (o->soname && !strcmp(o->soname, name)) ||
		    !strcmp(o->path, name))
			return true;
	}
	return false;
}

/* Whether the file (DEV, INO) is already loaded under another name. */
static bool same_file_loaded(const struct walk *w, dev_t dev, ino_t ino)
{
	size_t i;

	for (i = 0; i < w->n; i++) {
		if (w->objs[i].dev == dev && w->objs[i].ino == ino)
			return true;
	}
	return false;
}

static void object_free(struct object *o)
{
	free(o->path);
	free(o->origin);
	free(o->rpath);
	free(o->runpath);
	free(o->soname);
	free(o->req);
	zt_elf_needed_free(o->needed, o->n_needed);
}

/*
 * Append the object open as E at absolute PATH, loaded by LOADER for REQ, with $ORIGIN
 * ORIGIN. Consumes nothing. Returns 0 or -errno.
 */
static int add_object(struct walk *w, struct zt_elf *e, const char *path, const char *origin,
		      int loader, const char *req, const struct stat *st)
{
	struct object *o;

	if (w->n >= ZT_LIBRESOLVE_MAX_OBJECTS)
		return -E2BIG;
	o = &w->objs[w->n];
	memset(o, 0, sizeof(*o));
	o->loader = loader;
	o->dev = st->st_dev;
	o->ino = st->st_ino;
	/* glibc's elf_get_dynamic_info(): "If both RUNPATH and RPATH are given, the latter is
	 * ignored." */
	if (!dup_opt(path, &o->path) || !dup_opt(origin, &o->origin) ||
	    !dup_opt(zt_elf_runpath(e) ? NULL : zt_elf_rpath(e), &o->rpath) ||
	    !dup_opt(zt_elf_runpath(e), &o->runpath) || !dup_opt(zt_elf_soname(e), &o->soname) ||
	    !dup_opt(req, &o->req) || zt_elf_needed(e, &o->needed, &o->n_needed)) {
		object_free(o);
		return -ENOMEM;
	}
	w->n++;
	return 0;
}

/*
 * Whether LIBNAME names PATH as found or the file it resolves to; on a match write the real
 * path (what /proc/PID/maps will show once it is mapped) into OUT. Returns 1 on a match, 0, or
 * -ENAMETOOLONG.
 */
static int match_out(const char *libname, const char *path, char *out, size_t outlen)
{
	char real[PATH_MAX];
	bool have_real = realpath(path, real) != NULL;

	if (!zt_libname_matches(libname, path) && !(have_real && zt_libname_matches(libname, real)))
		return 0;
	return copy_out(have_real ? real : path, out, outlen) ?: 1;
}

/* Record the executable's interpreter, which ld.so has mapped before any search. */
static int note_interp(struct walk *w, struct zt_elf *exe)
{
	struct zt_elf *ie;

	if (!zt_elf_interp(exe))
		return 0;
	w->interp = strdup(zt_elf_interp(exe));
	if (!w->interp)
		return -ENOMEM;
	ie = try_candidate(w->interp);
	if (ie) {
		if (!dup_opt(zt_elf_soname(ie), &w->interp_soname)) {
			zt_elf_close(ie);
			return -ENOMEM;
		}
		zt_elf_close(ie);
	}
	return 0;
}

/* Whether NAME is the already mapped interpreter (by soname or path). */
static bool is_interp(const struct walk *w, const char *name)
{
	return w->interp &&
	       (!strcmp(name, w->interp) || (w->interp_soname && !strcmp(name, w->interp_soname)));
}

int zt_libresolve(const char *exe_path, const char *libname, const char *ld_library_path, char *out,
		  size_t outlen)
{
	char path[PATH_MAX], found[PATH_MAX], real[PATH_MAX];
	struct walk w = {.ld_library_path = ld_library_path};
	struct zt_elf *e = NULL;
	bool interp_seen = false;
	struct stat st;
	char *origin = NULL;
	size_t i, j;
	int err;

	w.objs = calloc(ZT_LIBRESOLVE_MAX_OBJECTS, sizeof(*w.objs));
	if (!w.objs)
		return -ENOMEM;
	err = zt_elf_open(exe_path, &e);
	if (err)
		goto out;
	/* ld.so takes the executable's $ORIGIN from /proc/self/exe, which has symlinks resolved. */
	if (!realpath(exe_path, real) || stat(real, &st)) {
		err = -errno;
		goto out;
	}
	err = make_absolute(exe_path, path);
	if (err)
		goto out;
	origin = dir_of(real);
	err = origin ? note_interp(&w, e) : -ENOMEM;
	if (!err)
		err = add_object(&w, e, path, origin, -1, NULL, &st);
	zt_elf_close(e);
	e = NULL;
	free(origin);
	origin = NULL;
	if (err)
		goto out;

	/* Breadth-first, the order in which _dl_map_object_deps() loads. */
	for (i = 0; i < w.n; i++) {
		for (j = 0; j < w.objs[i].n_needed; j++) {
			const char *name = w.objs[i].needed[j];

			if (is_interp(&w, name)) {
				err = interp_seen ? 0 : match_out(libname, w.interp, out, outlen);
				if (err)
					goto out;
				interp_seen = true;
				continue;
			}
			if (already_loaded(&w, name))
				continue;
			e = search(&w, i, name, found);
			if (!e)
				continue; /* ld.so would fail here; other names may still match */
			err = make_absolute(found, path);
			if (!err && stat(path, &st))
				err = -errno;
			if (err)
				goto out;
			if (same_file_loaded(&w, st.st_dev, st.st_ino)) {
				zt_elf_close(e);
				e = NULL;
				continue;
			}
			origin = dir_of(path);
			err = origin ? add_object(&w, e, path, origin, i, name, &st) : -ENOMEM;
			free(origin);
			origin = NULL;
			zt_elf_close(e);
			e = NULL;
			if (err)
				goto out;
			err = match_out(libname, path, out, outlen);
			if (err)
				goto out;
		}
	}
	err = -ENOENT;
out:
	if (err == 1)
		err = 0;
	zt_elf_close(e);
	for (i = 0; i < w.n; i++)
		object_free(&w.objs[i]);
	free(w.objs);
	free(w.cache.buf);
	free(w.interp);
	free(w.interp_soname);
	return err;
}
