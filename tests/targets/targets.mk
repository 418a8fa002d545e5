# Programs that the tests trace, built into $(OUTPUT)/targets/. Included by the top Makefile.
#
# Built so every function is a clean probe site whose first instruction is `push %rbp`, which the
# kernel emulates instead of single-stepping (~10x cheaper, see DESIGN.md). They are built with
# clang because gcc 12 omits the frame pointer in leaf functions (and shrink-wraps the prologue
# behind fast paths) even with -fno-omit-frame-pointer; clang keeps it everywhere.
# -fcf-protection=none keeps endbr64 out of the way, and -fno-inline / -fno-optimize-sibling-calls
# (which also stops clang's tail-recursion elimination in fib) plus noinline on each function
# keep every call a real call, so span counts and parent chains match the source.
TARGET_CC := $(CLANG)
TARGET_DIR := $(OUTPUT)/targets
TARGET_CFLAGS := -std=gnu11 -O1 -g -fno-omit-frame-pointer -fno-inline -fno-optimize-sibling-calls \
		 -fcf-protection=none -Wall -Wextra -MMD -MP
TARGET_BINS := $(TARGET_DIR)/libpricing.so $(TARGET_DIR)/orders $(TARGET_DIR)/spin \
	       $(TARGET_DIR)/dlopener $(TARGET_DIR)/sysload $(TARGET_DIR)/usdt_app $(TARGET_DIR)/crasher \
	       $(TARGET_DIR)/recurse $(TARGET_DIR)/threads $(TARGET_DIR)/args_app \
	       $(TARGET_DIR)/execer \
	       $(TARGET_DIR)/hotcold
# Rebuild the targets when their flags change.
TARGET_MK := tests/targets/targets.mk

targets: $(TARGET_BINS)

$(TARGET_DIR):
	$(Q)mkdir -p $@

# -nostartfiles: no crt objects, so the library's functions are exactly those in libpricing.c.
$(TARGET_DIR)/libpricing.so: tests/targets/libpricing.c $(TARGET_MK) | $(TARGET_DIR)
	$(call msg,CC,$@)
	$(Q)$(TARGET_CC) $(TARGET_CFLAGS) -fPIC -shared -nostartfiles -Wl,-soname,libpricing.so $< -o $@

# RUNPATH=$ORIGIN: orders finds libpricing.so next to itself from any working directory.
$(TARGET_DIR)/orders: tests/targets/orders.c $(TARGET_DIR)/libpricing.so $(TARGET_MK) | $(TARGET_DIR)
	$(call msg,CC,$@)
	$(Q)$(TARGET_CC) $(TARGET_CFLAGS) $< -L$(TARGET_DIR) -lpricing -Wl,--enable-new-dtags \
		-Wl,-rpath,'$$ORIGIN' -lpthread -o $@

$(TARGET_DIR)/spin: tests/targets/spin.c $(TARGET_MK) | $(TARGET_DIR)
	$(call msg,CC,$@)
	$(Q)$(TARGET_CC) $(TARGET_CFLAGS) $< -o $@

$(TARGET_DIR)/hotcold: tests/targets/hotcold.c $(TARGET_MK) | $(TARGET_DIR)
	$(call msg,CC,$@)
	$(Q)$(TARGET_CC) $(TARGET_CFLAGS) $< -o $@

$(TARGET_DIR)/dlopener: tests/targets/dlopener.c $(TARGET_MK) | $(TARGET_DIR)
	$(call msg,CC,$@)
	$(Q)$(TARGET_CC) $(TARGET_CFLAGS) $< -ldl -o $@

$(TARGET_DIR)/sysload: tests/targets/sysload.c $(TARGET_MK) | $(TARGET_DIR)
	$(call msg,CC,$@)
	$(Q)$(TARGET_CC) $(TARGET_CFLAGS) $< -o $@

$(TARGET_DIR)/crasher: tests/targets/crasher.c $(TARGET_MK) | $(TARGET_DIR)
	$(call msg,CC,$@)
	$(Q)$(TARGET_CC) $(TARGET_CFLAGS) $< -o $@

$(TARGET_DIR)/recurse: tests/targets/recurse.c $(TARGET_MK) | $(TARGET_DIR)
	$(call msg,CC,$@)
	$(Q)$(TARGET_CC) $(TARGET_CFLAGS) $< -o $@

$(TARGET_DIR)/args_app: tests/targets/args_app.c $(TARGET_MK) | $(TARGET_DIR)
	$(call msg,CC,$@)
	$(Q)$(TARGET_CC) $(TARGET_CFLAGS) $< -o $@

$(TARGET_DIR)/execer: tests/targets/execer.c $(TARGET_MK) | $(TARGET_DIR)
	$(call msg,CC,$@)
	$(Q)$(TARGET_CC) $(TARGET_CFLAGS) $< -o $@

$(TARGET_DIR)/threads: tests/targets/threads.c $(TARGET_MK) | $(TARGET_DIR)
	$(call msg,CC,$@)
	$(Q)$(TARGET_CC) $(TARGET_CFLAGS) $< -lpthread -o $@

# Benchmark targets (make bench, scripts/bench/). bench_many's source is generated: 1000
# functions, the attach-time benchmark's largest set.
BENCH_MANY_FUNCTIONS := 1000
BENCH_TARGET_BINS := $(TARGET_DIR)/bench_call $(TARGET_DIR)/bench_syscall \
		     $(TARGET_DIR)/bench_producer $(TARGET_DIR)/bench_many
TARGET_BINS += $(BENCH_TARGET_BINS)
targets: $(BENCH_TARGET_BINS)

$(TARGET_DIR)/bench_call: tests/targets/bench_call.c $(TARGET_MK) | $(TARGET_DIR)
	$(call msg,CC,$@)
	$(Q)$(TARGET_CC) $(TARGET_CFLAGS) $< -o $@

$(TARGET_DIR)/bench_syscall: tests/targets/bench_syscall.c $(TARGET_MK) | $(TARGET_DIR)
	$(call msg,CC,$@)
	$(Q)$(TARGET_CC) $(TARGET_CFLAGS) $< -o $@

$(TARGET_DIR)/bench_producer: tests/targets/bench_producer.c $(TARGET_MK) | $(TARGET_DIR)
	$(call msg,CC,$@)
	$(Q)$(TARGET_CC) $(TARGET_CFLAGS) $< -lpthread -o $@

$(TARGET_DIR)/bench_many.c: scripts/bench/gen-many-funcs.sh $(TARGET_MK) | $(TARGET_DIR)
	$(call msg,GEN,$@)
	$(Q)scripts/bench/gen-many-funcs.sh $(BENCH_MANY_FUNCTIONS) > $@

$(TARGET_DIR)/bench_many: $(TARGET_DIR)/bench_many.c $(TARGET_MK) | $(TARGET_DIR)
	$(call msg,CC,$@)
	$(Q)$(TARGET_CC) $(TARGET_CFLAGS) -Itests/targets $< -o $@

$(TARGET_DIR)/usdt_app: tests/targets/usdt_app.c $(TARGET_MK) | $(TARGET_DIR)
	$(call msg,CC,$@)
	$(Q)$(TARGET_CC) $(TARGET_CFLAGS) $< -o $@
