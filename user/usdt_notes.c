// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "usdt_notes.h"

/* NT_STAPSDT: the note type of a USDT probe in a "stapsdt" note. */
#define ZT_NT_STAPSDT 3

static void note_clear(struct zt_usdt_note *note)
{
	free(note->provider);
	free(note->name);
	free(note->args);
}

void zt_usdt_notes_free(struct zt_usdt_note *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		note_clear(&v[i]);
	free(v);
}

/* Next NUL-terminated string in [*p, end), or NULL when it runs past end. */
static const char *take_str(const char **p, const char *end)
{
	const char *s = *p;
	const char *nul = memchr(s, '\0', (size_t)(end - s));

	if (!nul)
		return NULL;
	*p = nul + 1;
	return s;
}

/* Parse one note's descriptor: pc, base, semaphore (3 x 8 bytes), provider, name, args. */
static int parse_desc(const char *desc, size_t len, struct zt_usdt_note *out)
{
	const char *p = desc + 24, *end = desc + len, *prov, *name, *args;

	if (len < 24)
		return -EINVAL;
	memcpy(&out->pc, desc, 8);
	memcpy(&out->semaphore, desc + 16, 8);
	prov = take_str(&p, end);
	name = prov ? take_str(&p, end) : NULL;
	args = name ? take_str(&p, end) : NULL;
	if (!args)
		return -EINVAL;
	out->provider = strdup(prov);
	out->name = strdup(name);
	out->args = strdup(args);
	return out->provider && out->name && out->args ? 0 : -ENOMEM;
}

int zt_usdt_notes_read(const char *path, struct zt_usdt_note **out, size_t *nout)
{
	struct zt_usdt_note *v = NULL;
	size_t n = 0, cap = 0, shstrndx;
	Elf_Scn *scn = NULL;
	Elf *elf = NULL;
	int fd, ret = 0;

	*out = NULL;
	*nout = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF || elf_getshdrstrndx(elf, &shstrndx)) {
		ret = -ENOEXEC;
		goto out;
	}
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *data;
		const char *sname;
		size_t off = 0, name_off, desc_off;
		GElf_Nhdr nh;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
			continue;
		sname = elf_strptr(elf, shstrndx, sh.sh_name);
		if (!sname || strcmp(sname, ".note.stapsdt"))
			continue;
		data = elf_getdata(scn, NULL);
		while (data && (off = gelf_getnote(data, off, &nh, &name_off, &desc_off)) > 0) {
			struct zt_usdt_note note = { 0 };

			if (nh.n_type != ZT_NT_STAPSDT || nh.n_namesz != sizeof("stapsdt") ||
			    memcmp((char *)data->d_buf + name_off, "stapsdt", nh.n_namesz))
				continue;
			if (parse_desc((char *)data->d_buf + desc_off, nh.n_descsz, &note)) {
				note_clear(&note);
				continue;
			}
			if (n == cap) {
				struct zt_usdt_note *nv;

				cap = cap ? cap * 2 : 16;
				nv = realloc(v, cap * sizeof(*v));
				if (!nv) {
					note_clear(&note);
					ret = -ENOMEM;
					goto out;
				}
				v = nv;
			}
			v[n++] = note;
		}
	}
out:
	if (ret) {
		zt_usdt_notes_free(v, n);
		v = NULL;
		n = 0;
	}
	*out = v;
	*nout = n;
	elf_end(elf);
	close(fd);
	return ret;
}
