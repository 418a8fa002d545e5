# Fault scenarios under AddressSanitizer, LeakSanitizer and UBSan (issue 8). Included by the top
# Makefile after tests/fuzz/fuzz.mk, whose sanitizer objects ($(ASAN_LIB)) it links.
#
#   make check-faults-asan    ztrace built with the sanitizers ($(ASAN_DIR)/ztrace), driven
#                             through ZT_ZTRACE by the integration tests of a crashing target,
#                             an exec mid-call, SIGINT, an OTLP endpoint that never answers, a
#                             pid exiting during attach and refused input
#
# Reports go to files, not stderr, so the tests' exact checks of ztrace's stderr still hold;
# any report fails the run, as does a failing test (a leak changes ztrace's exit code too).
FAULTS_ASAN_BIN := $(ASAN_DIR)/ztrace
FAULTS_ASAN_REPORTS := $(abspath $(ASAN_DIR))/fault-reports
FAULTS_ASAN_TESTS := \
	"$(OUTPUT)/tests/integ/test_faults --filter faults/@(exec_*|flood_does_not_*|otlp_*|pid_exits_*|reused_*|unreadable_*|bad_otlp_url|missing_*)" \
	"$(OUTPUT)/tests/integ/test_bad_input --filter bad_input/@(target_crashes_mid_call|nonexistent_pid|malformed_specs)" \
	"$(OUTPUT)/tests/integ/test_uprobe --filter uprobe/sigint_flushes_open_calls_as_incomplete"

.PHONY: check-faults-asan

$(FAULTS_ASAN_BIN): user/main.c $(ASAN_LIB)
	$(call msg,ASANLD,$@)
	$(Q)$(CC) $(ASAN_CFLAGS) $< $(ASAN_LIB) $(LDLIBS) -o $@

check-faults-asan: $(FAULTS_ASAN_BIN) all $(OUTPUT)/tests/integ/test_faults \
		   $(OUTPUT)/tests/integ/test_bad_input $(OUTPUT)/tests/integ/test_uprobe
	$(Q)rm -rf $(FAULTS_ASAN_REPORTS) && mkdir -p $(FAULTS_ASAN_REPORTS)
	$(Q)rc=0; for t in $(FAULTS_ASAN_TESTS); do \
		ZT_ZTRACE=$(FAULTS_ASAN_BIN) \
		ASAN_OPTIONS=detect_leaks=1:log_path=$(FAULTS_ASAN_REPORTS)/asan \
		UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:log_path=$(FAULTS_ASAN_REPORTS)/ubsan \
		$$t --jobs=1 >$(FAULTS_ASAN_REPORTS)/log 2>&1 || { cat $(FAULTS_ASAN_REPORTS)/log; rc=1; }; \
		grep -h '^\[====\] Synthesis' $(FAULTS_ASAN_REPORTS)/log | sed "s|^|$${t%% *}: |"; \
	done; rm -f $(FAULTS_ASAN_REPORTS)/log; \
	if [ -n "$$(ls -A $(FAULTS_ASAN_REPORTS))" ]; then \
		cat $(FAULTS_ASAN_REPORTS)/*; \
		echo "check-faults-asan: sanitizer reports above (kept in $(FAULTS_ASAN_REPORTS))"; \
		exit 1; \
	fi; exit $$rc

TEST_EXTRA += check-faults-asan
