# ztrace build. Everything is built into .output/; V=1 shows the commands.
#   make            the agent (.output/ztrace) and the test targets
#   make test       unit + integration tests (integration needs root)
#   make check      unit tests only
#   make bench      benchmarks (scripts/bench/)
#   make demo       trace the bundled demo program
OUTPUT := .output
CLANG ?= clang
CC ?= gcc
BPFTOOL ?= bpftool
ARCH := x86

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

PKGS := libbpf libelf zlib libmicrohttpd libcurl yaml-0.1
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

CFLAGS ?= -g -O2
override CFLAGS += -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers \
	  -Iinclude -Iuser -I$(OUTPUT) $(PKG_CFLAGS) -MMD -MP
LDLIBS := $(PKG_LIBS) -lpthread -lm $(LDFLAGS)
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Iinclude -I$(OUTPUT) -Ibpf \
	      -I/usr/include/$(shell uname -m)-linux-gnu \
	      -Wall -Wno-unused-function -Wno-compare-distinct-pointer-types

BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(OUTPUT)/bpf/%.bpf.o,$(BPF_SRCS))
SKELS := $(patsubst bpf/%.bpf.c,$(OUTPUT)/%.skel.h,$(BPF_SRCS))

USER_SRCS := $(filter-out user/main.c,$(wildcard user/*.c))
USER_OBJS := $(patsubst user/%.c,$(OUTPUT)/user/%.o,$(USER_SRCS))
LIB := $(OUTPUT)/libztrace.a
BIN := $(OUTPUT)/ztrace

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(OUTPUT)/tests/unit/%,$(UNIT_SRCS))
INTEG_SRCS := $(wildcard tests/integ/test_*.c)
INTEG_BINS := $(patsubst tests/integ/%.c,$(OUTPUT)/tests/integ/%,$(INTEG_SRCS))
TEST_HELPERS := $(wildcard tests/common/*.c)

.DELETE_ON_ERROR:
.SECONDARY: $(BPF_OBJS) $(SKELS)
.PHONY: all test check integ bench demo install clean targets format deps run-test run-demo peers

all: $(BIN) targets

$(OUTPUT) $(OUTPUT)/bpf $(OUTPUT)/user $(OUTPUT)/tests/unit $(OUTPUT)/tests/integ:
	$(Q)mkdir -p $@

$(OUTPUT)/vmlinux.h: | $(OUTPUT)
	$(call msg,GEN,$@)
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@

$(OUTPUT)/bpf/%.bpf.o: bpf/%.bpf.c $(OUTPUT)/vmlinux.h | $(OUTPUT)/bpf
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -MMD -MP -MF $(@:.o=.d) -MT $@ -c $< -o $@.tmp
	$(Q)$(BPFTOOL) gen object $@ $@.tmp && rm -f $@.tmp

$(OUTPUT)/%.skel.h: $(OUTPUT)/bpf/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@

$(OUTPUT)/user/%.o: user/%.c $(SKELS) | $(OUTPUT)/user
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(LIB): $(USER_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BIN): $(OUTPUT)/user/main.o $(LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

# Test targets and fixtures (tests/*/*.mk define targets: and UNIT_FIXTURES).
-include $(wildcard tests/*/*.mk)

# Test programs: unit tests link the agent's modules; integration tests drive the binary.
$(OUTPUT)/tests/unit/%: tests/unit/%.c $(TEST_HELPERS) $(LIB) $(UNIT_FIXTURES) | $(OUTPUT)/tests/unit
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itests $< $(TEST_HELPERS) $(LIB) $(LDLIBS) -lcriterion -o $@

$(OUTPUT)/tests/integ/%: tests/integ/%.c $(TEST_HELPERS) $(LIB) | $(OUTPUT)/tests/integ
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itests $< $(TEST_HELPERS) $(LIB) $(LDLIBS) -lcriterion -o $@

# Benchmark helpers (scripts/bench/*.c): linked like the agent.
BENCH_SRCS := $(wildcard scripts/bench/*.c)
BENCH_BINS := $(patsubst scripts/bench/%.c,$(OUTPUT)/bench/%,$(BENCH_SRCS))

$(OUTPUT)/bench/%: scripts/bench/%.c $(LIB) $(SKELS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $< $(LIB) $(LDLIBS) -o $@

# Independent peers the tests talk to (the OTLP receiver's pinned npm packages).
peers:
	$(Q)tests/peers/otlp-receiver/setup.sh

check: $(UNIT_BINS) targets peers
	$(Q)scripts/run-tests.sh unit $(UNIT_BINS)

integ: $(BIN) targets peers $(INTEG_BINS)
	$(Q)scripts/run-tests.sh integ $(INTEG_BINS)

# test and demo first install what is missing, then build in a fresh make that sees the
# libraries pkg-config now finds.
deps:
	$(Q)scripts/install-deps.sh

test: deps
	$(Q)$(MAKE) --no-print-directory run-test

# tests/*/*.mk may add phony targets to TEST_EXTRA (sanitizer and fuzz runs, the VM suite);
# they run after the main suite, each failing the build on its own.
run-test: all peers $(UNIT_BINS) $(INTEG_BINS)
	$(Q)scripts/run-tests.sh all $(UNIT_BINS) $(INTEG_BINS)
	$(Q)$(if $(TEST_EXTRA),$(MAKE) --no-print-directory $(TEST_EXTRA))

demo: deps
	$(Q)$(MAKE) --no-print-directory run-demo

run-demo: all
	$(Q)scripts/demo.sh $(OUTPUT)

bench: all $(BENCH_BINS)
	$(Q)scripts/bench/run.sh $(OUTPUT)

install: $(BIN)
	install -D -m 0755 $(BIN) $(DESTDIR)/usr/local/sbin/ztrace

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(OUTPUT)

-include $(wildcard $(OUTPUT)/*/*.d $(OUTPUT)/*/*/*.d)
