// SPDX-License-Identifier: MIT
/*
 * ELF symbols for uprobes. libelf does the parsing and its accessors (gelf_getsym, elf_strptr,
 * gelf_getnote, ...) check every index and offset against the file, so a malformed file gives
 * an error, never an out-of-bounds read; the few raw reads here (PT_INTERP) check by hand.
 */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elf_sym.h"

/* .gnu.version entries: the low bits index the version, this bit marks a non-default one. */
#define ZT_VERSYM_HIDDEN  0x8000
#define ZT_VERSYM_VERSION 0x7fff

struct zt_elf {
	int fd;
	Elf *elf;
	GElf_Ehdr ehdr;
	char machine[32];
	Elf_Scn *symtab;
	Elf_Scn *dynsym;
	char **needed;
	size_t n_needed;
	const char *rpath; /* these point into libelf's copy of the file */
	const char *runpath;
	const char *soname;
	const char *interp;
	/* Address index for zt_elf_func_at(), built on first use. */
	struct zt_elf_func *by_addr;
	uint64_t *max_end; /* max_end[i]: highest end of by_addr[0..i] */
	size_t n_by_addr;
	bool by_addr_built;
};

/* A function symbol found in a table, before deduplication. */
struct zt_cand {
	char *name; /* unversioned, owned */
	uint64_t addr;
	uint64_t size;
	uint64_t offset;
	unsigned char bind;
	bool hidden;	/* a non-default version (name@VER, or VERSYM_HIDDEN in .dynsym) */
	bool versioned; /* the name carried a version */
};

struct zt_cand_vec {
	struct zt_cand *v;
	size_t n;
	size_t cap;
};

static const char *machine_name(unsigned int machine)
{
	switch (machine) {
	case EM_X86_64:
		return "x86_64";
	case EM_386:
		return "i386";
	case EM_AARCH64:
		return "aarch64";
	case EM_ARM:
		return "arm";
	case EM_RISCV:
		return "riscv";
	case EM_PPC64:
		return "ppc64";
	case EM_PPC:
		return "ppc";
	case EM_S390:
		return "s390";
	case EM_MIPS:
		return "mips";
	case EM_SPARCV9:
		return "sparc64";
#ifdef EM_LOONGARCH
	case EM_LOONGARCH:
		return "loongarch";
#endif
	default:
		return NULL;
	}
}

/* Find the first section of TYPE, or NULL. */
static Elf_Scn *find_scn(Elf *elf, GElf_Word type)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr shdr;

	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		if (gelf_getshdr(scn, &shdr) && shdr.sh_type == type)
			return scn;
	}
	return NULL;
}

/* Read the dynamic section: DT_NEEDED, DT_RPATH, DT_RUNPATH, DT_SONAME. Returns 0 or -errno. */
static int read_dynamic(struct zt_elf *e)
{
	Elf_Scn *scn = find_scn(e->elf, SHT_DYNAMIC);
	size_t i, count, cap = 0;
	GElf_Shdr shdr;
	Elf_Data *data;
	GElf_Dyn dyn;
	const char *s;
	char **grown;

	if (!scn)
		return 0;
	if (!gelf_getshdr(scn, &shdr))
		return -EINVAL;
	data = elf_getdata(scn, NULL);
	if (!data)
		return -EINVAL;
	count = data->d_size / gelf_fsize(e->elf, ELF_T_DYN, 1, EV_CURRENT);
	for (i = 0; i < count; i++) {
		if (!gelf_getdyn(data, i, &dyn))
			return -EINVAL;
		if (dyn.d_tag == DT_NULL)
			break;
		if (dyn.d_tag != DT_NEEDED && dyn.d_tag != DT_RPATH && dyn.d_tag != DT_RUNPATH &&
		    dyn.d_tag != DT_SONAME)
			continue;
		s = elf_strptr(e->elf, shdr.sh_link, dyn.d_un.d_val);
		if (!s)
			return -EINVAL;
		switch (dyn.d_tag) {
		case DT_RPATH:
			e->rpath = s;
			break;
		case DT_RUNPATH:
			e->runpath = s;
			break;
		case DT_SONAME:
			e->soname = s;
			break;
		case DT_NEEDED:
			if (e->n_needed == cap) {
				cap = cap ? 2 * cap : 8;
				grown = realloc(e->needed, cap * sizeof(*grown));
				if (!grown)
					return -ENOMEM;
				e->needed = grown;
			}
			e->needed[e->n_needed] = strdup(s);
			if (!e->needed[e->n_needed])
				return -ENOMEM;
			e->n_needed++;
			break;
		}
	}
	return 0;
}

/* Find PT_INTERP and check that it is a NUL-terminated string inside the file. */
static int read_interp(struct zt_elf *e)
{
	size_t i, nphdr, fsize;
	GElf_Phdr phdr;
	const char *raw;

	if (elf_getphdrnum(e->elf, &nphdr))
		return -EINVAL;
	for (i = 0; i < nphdr; i++) {
		if (!gelf_getphdr(e->elf, i, &phdr))
			return -EINVAL;
		if (phdr.p_type != PT_INTERP)
			continue;
		raw = elf_rawfile(e->elf, &fsize);
		if (!raw || phdr.p_offset > fsize || phdr.p_filesz > fsize - phdr.p_offset ||
		    phdr.p_filesz == 0 || !memchr(raw + phdr.p_offset, '\0', phdr.p_filesz))
			return -EINVAL;
		e->interp = raw + phdr.p_offset;
		return 0;
	}
	return 0;
}

int zt_elf_open(const char *path, struct zt_elf **out)
{
	struct zt_elf *e;
	struct stat st;
	size_t shstrndx;
	int err;

	*out = NULL;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	/* O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below. */
	e->fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (e->fd < 0) {
		err = -errno;
		goto fail;
	}
	if (fstat(e->fd, &st)) {
		err = -errno;
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		err = S_ISDIR(st.st_mode) ? -EISDIR : -ENOEXEC;
		goto fail;
	}
	elf_version(EV_CURRENT);
	e->elf = elf_begin(e->fd, ELF_C_READ_MMAP, NULL);
	if (!e->elf || elf_kind(e->elf) != ELF_K_ELF) {
		err = -ENOEXEC;
		goto fail;
	}
	if (!gelf_getehdr(e->elf, &e->ehdr)) {
		err = -EINVAL;
		goto fail;
	}
	if (machine_name(e->ehdr.e_machine))
		snprintf(e->machine, sizeof(e->machine), "%s", machine_name(e->ehdr.e_machine));
	else
		snprintf(e->machine, sizeof(e->machine), "machine %u", e->ehdr.e_machine);
	/* x32 (ELFCLASS32 with EM_X86_64) is another ABI: name it so and refuse it too. */
	if (e->ehdr.e_machine == EM_X86_64 && gelf_getclass(e->elf) != ELFCLASS64)
		snprintf(e->machine, sizeof(e->machine), "x32");
	if (e->ehdr.e_machine != EM_X86_64 || gelf_getclass(e->elf) != ELFCLASS64) {
		*out = e;
		return -EXDEV;
	}
	if (e->ehdr.e_type != ET_EXEC && e->ehdr.e_type != ET_DYN) {
		err = -ENOEXEC;
		goto fail;
	}
	if (elf_getshdrstrndx(e->elf, &shstrndx)) {
		err = -EINVAL;
		goto fail;
	}
	e->symtab = find_scn(e->elf, SHT_SYMTAB);
	e->dynsym = find_scn(e->elf, SHT_DYNSYM);
	err = read_dynamic(e);
	if (!err)
		err = read_interp(e);
	if (err)
		goto fail;
	*out = e;
	return 0;
fail:
	zt_elf_close(e);
	return err;
}

void zt_elf_close(struct zt_elf *e)
{
	if (!e)
		return;
	zt_elf_funcs_free(e->by_addr, e->n_by_addr);
	free(e->max_end);
	zt_elf_needed_free(e->needed, e->n_needed);
	if (e->elf)
		elf_end(e->elf);
	if (e->fd >= 0)
		close(e->fd);
	free(e);
}

bool zt_elf_has_symtab(const struct zt_elf *e)
{
	return e->symtab != NULL;
}

bool zt_elf_is_pie(const struct zt_elf *e)
{
	return e->ehdr.e_type == ET_DYN;
}

const char *zt_elf_machine_name(const struct zt_elf *e)
{
	return e ? e->machine : "unknown";
}

const char *zt_elf_rpath(struct zt_elf *e)
{
	return e->rpath;
}

const char *zt_elf_runpath(struct zt_elf *e)
{
	return e->runpath;
}

const char *zt_elf_soname(struct zt_elf *e)
{
	return e->soname;
}

const char *zt_elf_interp(struct zt_elf *e)
{
	return e->interp;
}

void zt_elf_needed_free(char **names, size_t n)
{
	size_t i;

	if (!names)
		return;
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

int zt_elf_needed(struct zt_elf *e, char ***names, size_t *n)
{
	char **v = NULL;
	size_t i;

	*names = NULL;
	*n = 0;
	if (!e->n_needed)
		return 0;
	v = calloc(e->n_needed, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (i = 0; i < e->n_needed; i++) {
		v[i] = strdup(e->needed[i]);
		if (!v[i]) {
			zt_elf_needed_free(v, i);
			return -ENOMEM;
		}
	}
	*names = v;
	*n = e->n_needed;
	return 0;
}

void zt_elf_funcs_free(struct zt_elf_func *f, size_t n)
{
	size_t i;

	if (!f)
		return;
	for (i = 0; i < n; i++)
		free(f[i].name);
	free(f);
}

static void cands_free(struct zt_cand_vec *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		free(c->v[i].name);
	free(c->v);
	c->v = NULL;
	c->n = c->cap = 0;
}

/* The SHT_SYMTAB_SHNDX data that extends symbol table SYMSCN, or NULL when it has none. */
static Elf_Data *find_xindex(Elf *elf, Elf_Scn *symscn)
{
	size_t symndx = elf_ndxscn(symscn);
	Elf_Scn *scn = NULL;
	GElf_Shdr shdr;

	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		if (gelf_getshdr(scn, &shdr) && shdr.sh_type == SHT_SYMTAB_SHNDX &&
		    shdr.sh_link == symndx)
			return elf_getdata(scn, NULL);
	}
	return NULL;
}

/*
 * Add the function symbols of table SYMSCN whose unversioned name matches PATTERN (an fnmatch
 * glob, or an exact name when EXACT; NULL matches all) to C. Symbols that cannot be probed (no
 * section, outside their section, unreadable name) are skipped. Returns 0 or -errno.
 */
static int collect(struct zt_elf *e, Elf_Scn *symscn, const char *pattern, bool exact,
		   struct zt_cand_vec *c)
{
	Elf_Data *data, *xdata, *verdata = NULL;
	Elf_Scn *verscn, *scn;
	size_t i, count;
	GElf_Shdr symshdr, shdr;
	GElf_Versym vs;
	GElf_Word shndx;
	GElf_Sym sym;
	const char *raw, *at;
	struct zt_cand *cand;
	unsigned char type;
	bool hidden, versioned;

	if (!gelf_getshdr(symscn, &symshdr))
		return -EINVAL;
	data = elf_getdata(symscn, NULL);
	if (!data)
		return -EINVAL;
	xdata = find_xindex(e->elf, symscn);
	if (symshdr.sh_type == SHT_DYNSYM) {
		verscn = find_scn(e->elf, SHT_GNU_versym);
		if (verscn)
			verdata = elf_getdata(verscn, NULL);
	}
	count = data->d_size / gelf_fsize(e->elf, ELF_T_SYM, 1, EV_CURRENT);
	for (i = 0; i < count; i++) {
		if (!gelf_getsymshndx(data, xdata, i, &sym, &shndx))
			return -EINVAL;
		type = GELF_ST_TYPE(sym.st_info);
		if ((type != STT_FUNC && type != STT_GNU_IFUNC) || sym.st_value == 0)
			continue;
		if (sym.st_shndx != SHN_XINDEX)
			shndx = sym.st_shndx;
		else if (!xdata)
			continue;
		/* SHN_UNDEF is an import; SHN_ABS and friends have no bytes in the file. */
		if (shndx == SHN_UNDEF || (shndx >= SHN_LORESERVE && sym.st_shndx != SHN_XINDEX))
			continue;
		scn = elf_getscn(e->elf, shndx);
		if (!scn || !gelf_getshdr(scn, &shdr) || shdr.sh_type == SHT_NOBITS)
			continue;
		if (sym.st_value < shdr.sh_addr || sym.st_value - shdr.sh_addr >= shdr.sh_size)
			continue;
		raw = elf_strptr(e->elf, symshdr.sh_link, sym.st_name);
		if (!raw || !*raw)
			continue;

		/* .symtab spells versions into the name: "name@@VER" is the default one. */
		at = strchr(raw, '@');
		versioned = at != NULL;
		hidden = at && at[1] != '@';
		/* .dynsym keeps them in .gnu.version, index for index. */
		if (verdata && gelf_getversym(verdata, i, &vs)) {
			if ((vs & ZT_VERSYM_VERSION) > VER_NDX_GLOBAL)
				versioned = true;
			if (vs & ZT_VERSYM_HIDDEN)
				hidden = true;
		}
		if (c->n == c->cap) {
			size_t cap = c->cap ? 2 * c->cap : 64;
			struct zt_cand *grown = realloc(c->v, cap * sizeof(*grown));

			if (!grown)
				return -ENOMEM;
			c->v = grown;
			c->cap = cap;
		}
		cand = &c->v[c->n];
		cand->name = at ? strndup(raw, at - raw) : strdup(raw);
		if (!cand->name)
			return -ENOMEM;
		if (pattern && (exact ? strcmp(pattern, cand->name) != 0
				      : fnmatch(pattern, cand->name, 0) != 0)) {
			free(cand->name);
			continue;
		}
		cand->addr = sym.st_value;
		cand->size = sym.st_size;
		/*
		 * A uprobe attaches at a file offset, st_value is a virtual address: the section
		 * holding the symbol maps one to the other.
		 */
		cand->offset = sym.st_value - shdr.sh_addr + shdr.sh_offset;
		cand->bind = GELF_ST_BIND(sym.st_info);
		cand->hidden = hidden;
		cand->versioned = versioned;
		c->n++;
	}
	return 0;
}

/* Gather candidates from .dynsym and .symtab. Returns 0 or -errno (C is freed then). */
static int collect_all(struct zt_elf *e, const char *pattern, bool exact, struct zt_cand_vec *c)
{
	int err = 0;

	if (e->dynsym)
		err = collect(e, e->dynsym, pattern, exact, c);
	if (!err && e->symtab)
		err = collect(e, e->symtab, pattern, exact, c);
	if (err)
		cands_free(c);
	return err;
}

static int bind_rank(unsigned char bind)
{
	switch (bind) {
	case STB_GLOBAL:
	case STB_GNU_UNIQUE:
		return 0;
	case STB_WEAK:
		return 1;
	default:
		return 2;
	}
}

static size_t leading_underscores(const char *s)
{
	return strspn(s, "_");
}

/* <0 when A is the better name for a shared address: default version, global, plain, short. */
static int cand_better(const struct zt_cand *a, const struct zt_cand *b)
{
	size_t la, lb;

	if (a->hidden != b->hidden)
		return a->hidden ? 1 : -1;
	if (bind_rank(a->bind) != bind_rank(b->bind))
		return bind_rank(a->bind) - bind_rank(b->bind);
	if (a->versioned != b->versioned)
		return a->versioned ? 1 : -1;
	la = leading_underscores(a->name);
	lb = leading_underscores(b->name);
	if (la != lb)
		return la < lb ? -1 : 1;
	la = strlen(a->name);
	lb = strlen(b->name);
	if (la != lb)
		return la < lb ? -1 : 1;
	return strcmp(a->name, b->name);
}

static int cmp_name_addr(const void *pa, const void *pb)
{
	const struct zt_cand *a = pa, *b = pb;
	int r = strcmp(a->name, b->name);

	if (r)
		return r;
	if (a->addr != b->addr)
		return a->addr < b->addr ? -1 : 1;
	return 0;
}

/* By address, the best name first within one address. */
static int cmp_addr_rank(const void *pa, const void *pb)
{
	const struct zt_cand *a = pa, *b = pb;

	if (a->addr != b->addr)
		return a->addr < b->addr ? -1 : 1;
	return cand_better(a, b);
}

/* Keep the entries of C for which KEEP[i]; free the others. */
static void cands_compact(struct zt_cand_vec *c, const bool *keep)
{
	size_t i, j = 0;

	for (i = 0; i < c->n; i++) {
		if (keep[i])
			c->v[j++] = c->v[i];
		else
			free(c->v[i].name);
	}
	c->n = j;
}

/*
 * Apply the version and alias rules to C: drop hidden versions of a name that has a default
 * definition (when DROP_HIDDEN), then keep the best name per address. Leaves C sorted by
 * address. Returns 0 or -ENOMEM.
 */
static int cands_dedup(struct zt_cand_vec *c, bool drop_hidden)
{
	size_t i, j, start;
	bool *keep, any_default;

	if (!c->n)
		return 0;
	keep = malloc(c->n * sizeof(*keep));
	if (!keep)
		return -ENOMEM;
	if (drop_hidden) {
		qsort(c->v, c->n, sizeof(*c->v), cmp_name_addr);
		for (start = 0; start < c->n; start = i) {
			any_default = false;
			for (i = start; i < c->n && !strcmp(c->v[i].name, c->v[start].name); i++)
				any_default |= !c->v[i].hidden;
			for (j = start; j < i; j++)
				keep[j] = !any_default || !c->v[j].hidden;
		}
		cands_compact(c, keep);
	}
	qsort(c->v, c->n, sizeof(*c->v), cmp_addr_rank);
	for (i = 0; i < c->n; i++)
		keep[i] = i == 0 || c->v[i].addr != c->v[i - 1].addr;
	cands_compact(c, keep);
	free(keep);
	return 0;
}

/* Move candidate CAND into the public form. */
static void cand_to_func(struct zt_cand *cand, struct zt_elf_func *f)
{
	f->name = cand->name;
	f->addr = cand->addr;
	f->size = cand->size;
	f->offset = cand->offset;
	cand->name = NULL;
}

int zt_elf_match_funcs(struct zt_elf *e, const char *glob, struct zt_elf_func **out, size_t *n)
{
	struct zt_cand_vec c = {0};
	struct zt_elf_func *f = NULL;
	size_t i;
	int err;

	*out = NULL;
	*n = 0;
	err = collect_all(e, glob, false, &c);
	if (err)
		return err;
	err = cands_dedup(&c, true);
	if (err)
		goto out;
	if (!c.n)
		goto out;
	qsort(c.v, c.n, sizeof(*c.v), cmp_name_addr);
	f = calloc(c.n, sizeof(*f));
	if (!f) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < c.n; i++)
		cand_to_func(&c.v[i], &f[i]);
	*out = f;
	*n = c.n;
out:
	cands_free(&c);
	return err;
}

int zt_elf_find_func(struct zt_elf *e, const char *name, struct zt_elf_func *out)
{
	struct zt_cand_vec c = {0};
	int err;

	memset(out, 0, sizeof(*out));
	err = collect_all(e, name, true, &c);
	if (err)
		return err;
	err = cands_dedup(&c, true);
	if (err)
		goto out;
	if (c.n == 0)
		err = -ENOENT;
	else if (c.n > 1)
		err = -ENOTUNIQ;
	else
		cand_to_func(&c.v[0], out);
out:
	cands_free(&c);
	return err;
}

/* Build the address index of all functions for zt_elf_func_at(). Returns 0 or -errno. */
static int build_addr_index(struct zt_elf *e)
{
	struct zt_cand_vec c = {0};
	uint64_t end, max = 0;
	size_t i;
	int err;

	err = collect_all(e, NULL, false, &c);
	if (err)
		return err;
	/* Hidden versions stay: they are real code that old callers run. */
	err = cands_dedup(&c, false);
	if (err)
		goto out;
	if (c.n) {
		e->by_addr = calloc(c.n, sizeof(*e->by_addr));
		e->max_end = calloc(c.n, sizeof(*e->max_end));
		if (!e->by_addr || !e->max_end) {
			free(e->by_addr);
			free(e->max_end);
			e->by_addr = NULL;
			e->max_end = NULL;
			err = -ENOMEM;
			goto out;
		}
	}
	for (i = 0; i < c.n; i++) {
		cand_to_func(&c.v[i], &e->by_addr[i]);
		/* A size-0 symbol covers its own address only; saturate a bogus huge size. */
		end = c.v[i].addr + (c.v[i].size ? c.v[i].size : 1);
		if (end < c.v[i].addr)
			end = UINT64_MAX;
		if (end > max)
			max = end;
		e->max_end[i] = max;
	}
	e->n_by_addr = c.n;
	e->by_addr_built = true;
out:
	cands_free(&c);
	return err;
}

int zt_elf_func_at(struct zt_elf *e, uint64_t addr, struct zt_elf_func *out)
{
	const struct zt_elf_func *f;
	size_t lo = 0, hi, i;
	uint64_t end;
	int err;

	memset(out, 0, sizeof(*out));
	if (!e->by_addr_built) {
		err = build_addr_index(e);
		if (err)
			return err;
	}
	/* lo = number of functions starting at or below addr. */
	hi = e->n_by_addr;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (e->by_addr[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* Walk back over functions that may still reach addr (nested or overlapping symbols). */
	for (i = lo; i > 0 && e->max_end[i - 1] > addr; i--) {
		f = &e->by_addr[i - 1];
		end = f->addr + (f->size ? f->size : 1);
		if (end < f->addr)
			end = UINT64_MAX;
		if (addr >= f->addr && addr < end) {
			*out = *f;
			out->name = strdup(f->name);
			return out->name ? 0 : -ENOMEM;
		}
	}
	return -ENOENT;
}

int zt_elf_offset_to_vaddr(struct zt_elf *e, uint64_t offset, uint64_t *vaddr)
{
	size_t i, nphdr;
	GElf_Phdr phdr;

	if (elf_getphdrnum(e->elf, &nphdr))
		return -EINVAL;
	for (i = 0; i < nphdr; i++) {
		if (!gelf_getphdr(e->elf, i, &phdr) || phdr.p_type != PT_LOAD)
			continue;
		if (offset >= phdr.p_offset && offset - phdr.p_offset < phdr.p_filesz) {
			*vaddr = offset - phdr.p_offset + phdr.p_vaddr;
			return 0;
		}
	}
	return -ENOENT;
}

/* Look for the GNU build-id note in one note section's data. Returns 0, -ENOENT, -EINVAL. */
static int build_id_in(Elf_Data *data, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t off = 0, next, name_off, desc_off, i;
	const unsigned char *desc;
	GElf_Nhdr nhdr;

	while ((next = gelf_getnote(data, off, &nhdr, &name_off, &desc_off)) > 0) {
		off = next;
		if (nhdr.n_type != NT_GNU_BUILD_ID || nhdr.n_namesz != sizeof(ELF_NOTE_GNU) ||
		    memcmp((const char *)data->d_buf + name_off, ELF_NOTE_GNU,
			   sizeof(ELF_NOTE_GNU)))
			continue;
		if (nhdr.n_descsz == 0 || nhdr.n_descsz > ZT_BUILD_ID_MAX_BYTES)
			return -EINVAL;
		desc = (const unsigned char *)data->d_buf + desc_off;
		for (i = 0; i < nhdr.n_descsz; i++) {
			out[2 * i] = hex[desc[i] >> 4];
			out[2 * i + 1] = hex[desc[i] & 0xf];
		}
		out[2 * i] = '\0';
		return 0;
	}
	return -ENOENT;
}

int zt_elf_build_id(struct zt_elf *e, char out[ZT_ELF_BUILD_ID_HEX_SIZE])
{
	Elf_Scn *scn = NULL;
	GElf_Shdr shdr;
	Elf_Data *data;
	int err;

	out[0] = '\0';
	while ((scn = elf_nextscn(e->elf, scn)) != NULL) {
		if (!gelf_getshdr(scn, &shdr) || shdr.sh_type != SHT_NOTE)
			continue;
		data = elf_getdata(scn, NULL);
		if (!data)
			continue;
		err = build_id_in(data, out);
		if (err != -ENOENT)
			return err;
	}
	return -ENOENT;
}
