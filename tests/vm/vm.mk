# The VM suite (included by the top Makefile): the core integration suite, plus the tests that
# need a kernel this machine lacks (kprobes, fentry), run as root inside a QEMU guest that boots
# Debian 12's own 6.1 kernel with the host's / as its root (scripts/vmtest.sh).
#
#   make test-vm                  install what is missing, build, boot, run, print the synthesis
#   make test-vm VMTEST_FLAGS=--verbose      show the guest kernel's boot log
#
# Other tests/*/*.mk files add to the suite with
#   VM_TEST_BINS += $(OUTPUT)/tests/kern/test_kprobe     Criterion binaries, built first
#   VM_TEST_CMDS += --cmd '$(BIN) probes -k vfs_read'    shell commands, exit 0 = ok
# They are expanded in the recipe, so the order in which the .mk files are read does not matter.
#
# Under TCG the guest runs CPU-bound code about 15-25x slower than the host (measured: a Python
# loop, ztrace's BTF parsing and BPF verification). ZT_TIME_SCALE tells the tests by how much to
# stretch their deadlines.
VM_TIME_SCALE ?= 20
VMTEST_FLAGS ?=
VM_TEST_BINS ?=
VM_TEST_CMDS ?=

.PHONY: test-vm vm-kernel

# What runs in the guest: the kernel-function tests (k: through fentry and kprobes, which this
# host's kernel lacks; ZT_REQUIRE_KPROBES makes a skip there a failure) and the core suites.
VM_INTEG_BINS := $(OUTPUT)/tests/integ/test_events $(OUTPUT)/tests/integ/test_syscalls \
		 $(OUTPUT)/tests/integ/test_uprobe

test-vm: deps
	$(Q)$(MAKE) --no-print-directory all $(VM_INTEG_BINS) $(VM_TEST_BINS)
	$(Q)ZT_OUTPUT=$(OUTPUT) ZT_TIME_SCALE=$(VM_TIME_SCALE) ZT_REQUIRE_KPROBES=1 \
		scripts/vmtest.sh $(VMTEST_FLAGS) -- \
		scripts/vm/suite.sh $(VM_TEST_CMDS) $(VM_INTEG_BINS) $(VM_TEST_BINS)

TEST_EXTRA += test-vm

# Fetch and unpack the guest kernel (done by test-vm on first use; CI can cache .output/vm).
vm-kernel:
	$(Q)scripts/vm/fetch-kernel.sh >/dev/null
