# Fuzzing and sanitizer runs. Included by the top Makefile (tests/*/*.mk).
#
#   make fuzz            each libFuzzer target for FUZZ_SECONDS (default 60) seconds
#   make fuzz-smoke      each for FUZZ_SMOKE_SECONDS (10), the newer targets for
#                        FUZZ_SMOKE_SHORT_SECONDS (4): the short run `make test` does
#   make fuzz-build      just build them, into $(OUTPUT)/fuzz/
#   make check-sanitize  the unit tests built with ASan + UBSan, into $(OUTPUT)/asan/
#
# The fuzzers are built with clang from the user/*.c sources they test, instrumented for
# libFuzzer, AddressSanitizer and UndefinedBehaviorSanitizer (libztrace.a is gcc-built without
# them). A fuzzer starts from its committed seeds (tests/fuzz/corpus/TARGET/) and the seeds
# built here (real ELF and record files, $(OUTPUT)/fuzz/seeds/TARGET/), first replays the
# inputs that once crashed it (tests/fuzz/regressions/TARGET/), and keeps what it learns in
# $(OUTPUT)/fuzz/corpus/TARGET/. A crashing input is saved under $(OUTPUT)/fuzz/artifacts/.

FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 10
FUZZ_SMOKE_SHORT_SECONDS ?= 4
FUZZ_SRC := tests/fuzz
FUZZ_DIR := $(OUTPUT)/fuzz
FUZZ_MK := tests/fuzz/fuzz.mk
FUZZ_NAMES := probe_spec procmaps elf_sym store error_rule cli
# Smoke-run for the shorter time, to keep `make test` short: small parsers that need few seconds.
FUZZ_SHORT_NAMES := agent_config capture_spec identity
FUZZ_BINS := $(patsubst %,$(FUZZ_DIR)/fuzz_%,$(FUZZ_NAMES) $(FUZZ_SHORT_NAMES))

# Sanitizer findings abort (no recovery), so libFuzzer stops and saves the input.
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS := -g -O1 -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Wno-unused-parameter \
	       -Wno-missing-field-initializers -Iinclude -Iuser -I$(OUTPUT) $(PKG_CFLAGS) \
	       -MMD -MP $(FUZZ_SAN)
# The modules under test, the record-file writer for the seeds, and what they call (an
# "undefined reference" when linking a fuzzer means one more belongs here).
FUZZ_MODULES := probe_spec procmaps elf_sym store_read store procinfo span error_rule cli log \
		span_args capture_spec agent_config agent_rule units yaml_schema http_server otlp_config \
		syscall_names k8s_pod proc_identity metrics metrics_render prom_text
FUZZ_OBJS := $(patsubst %,$(FUZZ_DIR)/obj/%.o,$(FUZZ_MODULES))
FUZZ_LIB := $(FUZZ_DIR)/libztrace-fuzz.a

# Seeds built from real files: small ELF files of every kind elf_sym.c reads, and record files
# written by the real writer (tests/fuzz/gen_store_seeds.c).
FUZZ_ELF_SEEDS := $(FUZZ_DIR)/seeds/elf_sym/exe_static $(FUZZ_DIR)/seeds/elf_sym/pie_needed \
		  $(FUZZ_DIR)/seeds/elf_sym/lib_versioned.so $(FUZZ_DIR)/seeds/elf_sym/pie_stripped
FUZZ_SEED_CFLAGS := -O1 -nostdlib -fno-asynchronous-unwind-tables -Wl,--build-id \
		    -Wl,-z,norelro -Wl,-z,noseparate-code
FUZZ_STORE_STAMP := $(FUZZ_DIR)/seeds/store.stamp

.PHONY: fuzz fuzz-smoke fuzz-build check-sanitize

fuzz-build: $(FUZZ_BINS) $(FUZZ_ELF_SEEDS) $(FUZZ_STORE_STAMP)

fuzz: fuzz-build
	$(Q)$(FUZZ_SRC)/run-fuzz.sh $(FUZZ_DIR) $(FUZZ_SECONDS) $(FUZZ_NAMES) $(FUZZ_SHORT_NAMES)

fuzz-smoke: fuzz-build
	$(Q)$(FUZZ_SRC)/run-fuzz.sh $(FUZZ_DIR) $(FUZZ_SMOKE_SECONDS) $(FUZZ_NAMES) \
		$(patsubst %,%:$(FUZZ_SMOKE_SHORT_SECONDS),$(FUZZ_SHORT_NAMES))

$(FUZZ_DIR)/obj/%.o: user/%.c $(FUZZ_MK)
	$(call msg,FUZZCC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_LIB): $(FUZZ_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(FUZZ_DIR)/fuzz_%: $(FUZZ_SRC)/fuzz_%.c $(FUZZ_SRC)/fuzz_util.h $(FUZZ_LIB)
	$(call msg,FUZZ,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer $< $(FUZZ_LIB) $(LDLIBS) -o $@

$(FUZZ_DIR)/seeds/elf_sym:
	$(Q)mkdir -p $@

# ET_EXEC with .symtab only; a PIE with .dynsym, DT_NEEDED, RUNPATH and PT_INTERP; a library
# with symbol versions; the PIE stripped to its .dynsym.
$(FUZZ_DIR)/seeds/elf_sym/exe_static: $(FUZZ_SRC)/seed_elf.c $(FUZZ_MK) | $(FUZZ_DIR)/seeds/elf_sym
	$(call msg,SEED,$@)
	$(Q)$(CLANG) $(FUZZ_SEED_CFLAGS) -static -fno-pie $< -o $@

$(FUZZ_DIR)/seeds/elf_sym/pie_needed: $(FUZZ_SRC)/seed_elf.c $(FUZZ_MK) | $(FUZZ_DIR)/seeds/elf_sym
	$(call msg,SEED,$@)
	$(Q)$(CLANG) $(FUZZ_SEED_CFLAGS) -fPIE -pie -Wl,--no-as-needed -lc -Wl,--enable-new-dtags \
		-Wl,-rpath,'$$ORIGIN/lib' -Wl,--export-dynamic $< -o $@

$(FUZZ_DIR)/seeds/elf_sym/lib_versioned.so: $(FUZZ_SRC)/seed_elf.c $(FUZZ_SRC)/seed_elf.map \
		$(FUZZ_MK) | $(FUZZ_DIR)/seeds/elf_sym
	$(call msg,SEED,$@)
	$(Q)$(CLANG) $(FUZZ_SEED_CFLAGS) -DSEED_SHARED -fPIC -shared -Wl,-soname,libseed.so.1 \
		-Wl,--version-script,$(FUZZ_SRC)/seed_elf.map $< -o $@

$(FUZZ_DIR)/seeds/elf_sym/pie_stripped: $(FUZZ_DIR)/seeds/elf_sym/pie_needed
	$(call msg,STRIP,$@)
	$(Q)strip -o $@ $<

# Record files: a generator links the real writer (store.c) and writes whole, cut-short and
# framed-payload seeds (see the generator's header comment).
$(FUZZ_DIR)/gen_store_seeds: $(FUZZ_SRC)/gen_store_seeds.c $(FUZZ_LIB)
	$(call msg,CC,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -Itests $< $(FUZZ_LIB) $(LDLIBS) -o $@

$(FUZZ_STORE_STAMP): $(FUZZ_DIR)/gen_store_seeds
	$(call msg,SEED,$(FUZZ_DIR)/seeds/store)
	$(Q)rm -rf $(FUZZ_DIR)/seeds/store && mkdir -p $(FUZZ_DIR)/seeds/store
	$(Q)$< $(FUZZ_DIR)/seeds/store
	$(Q)touch $@

# ---- unit tests under AddressSanitizer + UndefinedBehaviorSanitizer ----

ASAN_DIR := $(OUTPUT)/asan
ASAN_CFLAGS := $(filter-out -O2,$(CFLAGS)) -O1 -fsanitize=address,undefined \
	       -fno-omit-frame-pointer
ASAN_OBJS := $(patsubst user/%.c,$(ASAN_DIR)/user/%.o,$(USER_SRCS))
ASAN_LIB := $(ASAN_DIR)/libztrace.a
ASAN_UNIT_BINS := $(patsubst tests/unit/%.c,$(ASAN_DIR)/tests/unit/%,$(UNIT_SRCS))

$(ASAN_DIR)/user/%.o: user/%.c $(SKELS) $(FUZZ_MK)
	$(call msg,ASANCC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ASAN_CFLAGS) -c $< -o $@

$(ASAN_LIB): $(ASAN_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

# The unit tests find their fixtures next to their own directory (fixture_path.h):
# $(ASAN_DIR)/fixtures is a link to the fixtures the normal build made.
$(ASAN_DIR)/fixtures:
	$(Q)mkdir -p $(@D)
	$(Q)ln -sfn ../fixtures $@

$(ASAN_DIR)/tests/unit/%: tests/unit/%.c $(TEST_HELPERS) $(ASAN_LIB) | $(ASAN_DIR)/fixtures
	$(call msg,ASANCC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ASAN_CFLAGS) -Itests $< $(TEST_HELPERS) $(ASAN_LIB) $(LDLIBS) -lcriterion -o $@

# Criterion judges a test by its result, not by its exit code, so a leak LeakSanitizer reports
# as a test process exits would pass unseen: ASan and LSan write their reports into files, and
# any report fails the run. The first undefined behaviour stops its test with a stack trace.
ASAN_REPORTS := $(abspath $(ASAN_DIR))/reports

check-sanitize: $(ASAN_UNIT_BINS) $(UNIT_FIXTURES)
	$(Q)rm -rf $(ASAN_REPORTS) && mkdir -p $(ASAN_REPORTS)
	$(Q)ASAN_OPTIONS=detect_leaks=1:log_path=$(ASAN_REPORTS)/asan \
		UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		scripts/run-tests.sh asan $(ASAN_UNIT_BINS); rc=$$?; \
	if [ -n "$$(ls -A $(ASAN_REPORTS))" ]; then \
		cat $(ASAN_REPORTS)/*; \
		echo "check-sanitize: sanitizer reports above (kept in $(ASAN_REPORTS))"; \
		exit 1; \
	fi; exit $$rc

TEST_EXTRA += fuzz-smoke check-sanitize

# The top Makefile includes the dependency files two levels below $(OUTPUT); these are three.
-include $(wildcard $(ASAN_DIR)/tests/unit/*.d)
