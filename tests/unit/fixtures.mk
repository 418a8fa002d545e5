# Fixtures of the unit tests, built into $(OUTPUT)/fixtures/. Included by the top Makefile.
# The tests find this directory from their own path ($(OUTPUT)/tests/unit/test_x ->
# $(OUTPUT)/fixtures), see tests/unit/fixtures/fixture_path.h.
FIX_SRC := tests/unit/fixtures
FIX_DIR := $(OUTPUT)/fixtures
FIX_MK := tests/unit/fixtures.mk
# -O1 with noinline: real, separate functions; --build-id: test_elf_sym reads it back.
FIX_CFLAGS := -std=gnu11 -O1 -Wall -Wextra -Wl,--build-id

# Text fixtures are copied so that every fixture lives next to the test binaries.
FIX_TEXT := $(patsubst $(FIX_SRC)/%,$(FIX_DIR)/%,$(wildcard $(FIX_SRC)/*.txt))

# ELF symbol fixtures: one source built four ways, stripped copies, an object file and a
# library for another machine.
ELF_FIXTURES := $(FIX_DIR)/sym_pie $(FIX_DIR)/sym_nopie $(FIX_DIR)/libsym.so \
		$(FIX_DIR)/sym_pie.stripped $(FIX_DIR)/libsym.so.stripped $(FIX_DIR)/symbols.o \
		$(FIX_DIR)/libsym_aarch64.so $(FIX_DIR)/libsym.so.truncated

# Library resolution fixtures: executables needing lib/libztdep.so.1 (which needs libm) through
# RUNPATH, RPATH and ${ORIGIN}, a second copy of the library in alt/ for LD_LIBRARY_PATH, and one
# for aarch64 in arm/ that the search must skip.
RESOLVE_FIXTURES := $(FIX_DIR)/lib/libztdep.so.1 $(FIX_DIR)/alt/libztdep.so.1 \
		    $(FIX_DIR)/arm/libztdep.so.1 $(FIX_DIR)/resolve_runpath \
		    $(FIX_DIR)/resolve_rpath $(FIX_DIR)/resolve_brace

UNIT_FIXTURES += $(FIX_TEXT) $(ELF_FIXTURES) $(RESOLVE_FIXTURES)

$(OUTPUT)/tests/unit/test_elf_sym: $(ELF_FIXTURES) $(FIX_TEXT)
$(OUTPUT)/tests/unit/test_procmaps: $(FIX_TEXT)
$(OUTPUT)/tests/unit/test_libresolve: $(RESOLVE_FIXTURES) $(FIX_TEXT)

$(FIX_DIR):
	$(Q)mkdir -p $@

$(FIX_DIR)/%.txt: $(FIX_SRC)/%.txt | $(FIX_DIR)
	$(Q)cp $< $@

$(FIX_DIR)/sym_pie: $(FIX_SRC)/symbols.c $(FIX_MK) | $(FIX_DIR)
	$(call msg,FIXTURE,$@)
	$(Q)$(CC) $(FIX_CFLAGS) -fPIE -pie $< -o $@

$(FIX_DIR)/sym_nopie: $(FIX_SRC)/symbols.c $(FIX_MK) | $(FIX_DIR)
	$(call msg,FIXTURE,$@)
	$(Q)$(CC) $(FIX_CFLAGS) -fno-pie -no-pie $< -o $@

$(FIX_DIR)/libsym.so: $(FIX_SRC)/symbols.c $(FIX_SRC)/symbols.map $(FIX_MK) | $(FIX_DIR)
	$(call msg,FIXTURE,$@)
	$(Q)$(CC) $(FIX_CFLAGS) -DZT_FIX_SHARED -fPIC -shared -Wl,-soname,libsym.so.1 \
		-Wl,--version-script,$(FIX_SRC)/symbols.map $< -o $@

$(FIX_DIR)/symbols.o: $(FIX_SRC)/symbols.c $(FIX_MK) | $(FIX_DIR)
	$(call msg,FIXTURE,$@)
	$(Q)$(CC) $(FIX_CFLAGS) -c $< -o $@

$(FIX_DIR)/%.stripped: $(FIX_DIR)/%
	$(call msg,STRIP,$@)
	$(Q)strip -o $@ $<

# The first 200 bytes: a valid ELF header whose section headers lie past the end of the file.
$(FIX_DIR)/libsym.so.truncated: $(FIX_DIR)/libsym.so
	$(call msg,FIXTURE,$@)
	$(Q)head -c 200 $< > $@

$(FIX_DIR)/libsym_aarch64.so: $(FIX_SRC)/ztdep.c $(FIX_MK) | $(FIX_DIR)
	$(call msg,FIXTURE,$@)
	$(Q)$(CLANG) --target=aarch64-linux-gnu -fuse-ld=lld -nostdlib -shared -fPIC $< -o $@

$(FIX_DIR)/lib/libztdep.so.1 $(FIX_DIR)/alt/libztdep.so.1: $(FIX_SRC)/ztdep.c $(FIX_MK)
	$(call msg,FIXTURE,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(FIX_CFLAGS) -fPIC -shared -Wl,-soname,libztdep.so.1 $< \
		-Wl,--no-as-needed -lm -o $@

$(FIX_DIR)/arm/libztdep.so.1: $(FIX_SRC)/ztdep.c $(FIX_MK)
	$(call msg,FIXTURE,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CLANG) --target=aarch64-linux-gnu -fuse-ld=lld -nostdlib -shared -fPIC \
		-Wl,-soname,libztdep.so.1 $< -o $@

# RUNPATH (new dtags) and RPATH (old dtags) of $ORIGIN/lib; resolve_brace spells ${ORIGIN}.
$(FIX_DIR)/resolve_runpath: $(FIX_SRC)/resolve_main.c $(FIX_DIR)/lib/libztdep.so.1 $(FIX_MK)
	$(call msg,FIXTURE,$@)
	$(Q)$(CC) $(FIX_CFLAGS) $< -L$(FIX_DIR)/lib -l:libztdep.so.1 -Wl,--enable-new-dtags \
		-Wl,-rpath,'$$ORIGIN/lib' -o $@

$(FIX_DIR)/resolve_rpath: $(FIX_SRC)/resolve_main.c $(FIX_DIR)/lib/libztdep.so.1 $(FIX_MK)
	$(call msg,FIXTURE,$@)
	$(Q)$(CC) $(FIX_CFLAGS) $< -L$(FIX_DIR)/lib -l:libztdep.so.1 -Wl,--disable-new-dtags \
		-Wl,-rpath,'$$ORIGIN/lib' -o $@

$(FIX_DIR)/resolve_brace: $(FIX_SRC)/resolve_main.c $(FIX_DIR)/lib/libztdep.so.1 $(FIX_MK)
	$(call msg,FIXTURE,$@)
	$(Q)$(CC) $(FIX_CFLAGS) $< -L$(FIX_DIR)/lib -l:libztdep.so.1 -Wl,--enable-new-dtags \
		-Wl,-rpath,'$${ORIGIN}/lib' -o $@
