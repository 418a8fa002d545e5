/* SPDX-License-Identifier: MIT */
/* Test helper: function address in a process and the bytes there. */
#include "procmem.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Longest /proc/PID/maps line read (the path can be PATH_MAX long). */
#define ZT_MAPS_LINE_MAX (PATH_MAX + 256)

/* True when [off, off + len) lies inside a file of @size bytes. */
static int in_file(size_t size, unsigned long off, unsigned long len)
{
	return off <= size && len <= size - off;
}

/*
 * Looks @name up among the FUNC symbols of symbol table section @symtab of the ELF image
 * @img (@size bytes). Returns 0 with *@off set, -ENOENT, or -ENOEXEC for a malformed file.
 */
static int find_in_symtab(const unsigned char *img, size_t size, const Elf64_Shdr *shdrs,
			  unsigned int shnum, const Elf64_Shdr *symtab, const char *name,
			  unsigned long *off)
{
	const Elf64_Shdr *strtab;
	const Elf64_Sym *syms;
	size_t i, count;

	if (symtab->sh_link >= shnum || symtab->sh_entsize != sizeof(Elf64_Sym) ||
	    !in_file(size, symtab->sh_offset, symtab->sh_size))
		return -ENOEXEC;
	strtab = &shdrs[symtab->sh_link];
	if (!in_file(size, strtab->sh_offset, strtab->sh_size) || !strtab->sh_size ||
	    img[strtab->sh_offset + strtab->sh_size - 1] != '\0')
		return -ENOEXEC;
	syms = (const Elf64_Sym *)(img + symtab->sh_offset);
	count = symtab->sh_size / sizeof(Elf64_Sym);
	for (i = 0; i < count; i++) {
		const Elf64_Shdr *sec;

		if (ELF64_ST_TYPE(syms[i].st_info) != STT_FUNC || syms[i].st_shndx == SHN_UNDEF ||
		    syms[i].st_shndx >= shnum || syms[i].st_name >= strtab->sh_size)
			continue;
		if (strcmp((const char *)img + strtab->sh_offset + syms[i].st_name, name))
			continue;
		/* st_value is a virtual address; the section maps it back to the file. */
		sec = &shdrs[syms[i].st_shndx];
		*off = syms[i].st_value - sec->sh_addr + sec->sh_offset;
		return 0;
	}
	return -ENOENT;
}

int zt_elf_func_offset(const char *path, const char *name, unsigned long *off)
{
	const unsigned char *img = MAP_FAILED;
	const Elf64_Ehdr *eh;
	const Elf64_Shdr *shdrs;
	static const unsigned int kinds[] = {SHT_SYMTAB, SHT_DYNSYM};
	unsigned int k, i;
	struct stat st;
	int fd, ret = -ENOEXEC;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		ret = -errno;
		goto out;
	}
	if ((size_t)st.st_size < sizeof(*eh))
		goto out;
	img = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (img == MAP_FAILED) {
		ret = -errno;
		goto out;
	}
	eh = (const Elf64_Ehdr *)img;
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_shentsize != sizeof(Elf64_Shdr) ||
	    !in_file(st.st_size, eh->e_shoff, (unsigned long)eh->e_shnum * sizeof(Elf64_Shdr)))
		goto out;
	shdrs = (const Elf64_Shdr *)(img + eh->e_shoff);
	ret = -ENOENT;
	for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]) && ret == -ENOENT; k++) {
		for (i = 0; i < eh->e_shnum && ret == -ENOENT; i++) {
			if (shdrs[i].sh_type == kinds[k])
				ret = find_in_symtab(img, st.st_size, shdrs, eh->e_shnum, &shdrs[i],
						     name, off);
		}
	}
out:
	if (img != MAP_FAILED)
		munmap((void *)img, st.st_size);
	close(fd);
	return ret;
}

int zt_proc_func_addr(pid_t pid, const char *path, const char *name, unsigned long *addr)
{
	char maps[64], real[PATH_MAX], line[ZT_MAPS_LINE_MAX];
	unsigned long off, start, end, pgoff;
	int ret, pos;
	FILE *f;

	if (!realpath(path, real))
		return -errno;
	ret = zt_elf_func_offset(real, name, &off);
	if (ret)
		return ret;
	snprintf(maps, sizeof(maps), "/proc/%d/maps", (int)pid);
	f = fopen(maps, "re");
	if (!f)
		return -errno;
	ret = -ENOENT;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		/* start-end perms offset dev inode path */
		if (sscanf(line, "%lx-%lx %*s %lx %*s %*s %n", &start, &end, &pgoff, &pos) != 3)
			continue;
		if (strcmp(line + pos, real) || off < pgoff || off - pgoff >= end - start)
			continue;
		*addr = start + (off - pgoff);
		ret = 0;
		break;
	}
	fclose(f);
	return ret;
}

int zt_proc_peek(pid_t pid, unsigned long addr, void *buf, size_t len)
{
	char mem[64];
	ssize_t n;
	int fd, ret = 0;

	snprintf(mem, sizeof(mem), "/proc/%d/mem", (int)pid);
	fd = open(mem, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = pread(fd, buf, len, (off_t)addr);
	if (n < 0)
		ret = -errno;
	else if ((size_t)n != len)
		ret = -EIO;
	close(fd);
	return ret;
}
