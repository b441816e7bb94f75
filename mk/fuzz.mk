# libFuzzer targets (issue 7.1): tests/fuzz/fuzz_*.c, built with clang
# -fsanitize=fuzzer,address,undefined against the library compiled the same way in $(FUZZ_B)/.
#
#   make fuzz                    every target for FUZZ_SECONDS (default 20) each, FUZZ_JOBS (2)
#                                at a time. CI: make fuzz FUZZ_SECONDS=60
#   make fuzz-build              build them only
#   make fuzz-regress            run each over its seed corpus once (seconds)
#   make fuzz-run-config         one target (names: FUZZ_TARGETS)
#
# Seeds are tests/fuzz/corpus/<target>/ (read-only here); what a run discovers goes to
# $(FUZZ_B)/corpus/<target>/, crashes to $(FUZZ_B)/artifacts/<target>/ (reproduce with
# $(FUZZ_B)/fuzz_<target> FILE). tests/fuzz/README.md says more.
.PHONY: fuzz fuzz-build fuzz-regress

FUZZ_SECONDS ?= 20
FUZZ_JOBS    ?= 2
FUZZ_B       := $(B)/fuzz
FUZZ_CC      ?= clang
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS  := -O1 -g -std=c11 $(WARN) $(FUZZ_SAN) -fsanitize=fuzzer-no-link
FUZZ_CPPFLAGS = $(filter-out -D_FORTIFY_SOURCE=%,$(CPPFLAGS))
FUZZ_TARGETS := config json token_response tokens_json jwt envset redact sts awscreds credserver \
                okta_proxy
FUZZ_BINS    := $(FUZZ_TARGETS:%=$(FUZZ_B)/fuzz_%)
FUZZ_LIB_OBJS := $(LIB_SRCS:%.c=$(FUZZ_B)/%.o)
# Every run: the same limits, quiet unless something is found.
FUZZ_FLAGS   := -timeout=10 -rss_limit_mb=2048 -max_len=8192 -print_final_stats=1
# Dictionaries: the syntax and field names each parser looks for.
FUZZ_DICT_config         := tests/fuzz/config.dict
FUZZ_DICT_json           := tests/fuzz/json.dict
FUZZ_DICT_token_response := tests/fuzz/json.dict
FUZZ_DICT_tokens_json    := tests/fuzz/json.dict
FUZZ_DICT_jwt            := tests/fuzz/json.dict
FUZZ_DICT_envset         := tests/fuzz/envset.dict
FUZZ_DICT_redact         := tests/fuzz/redact.dict
FUZZ_DICT_sts            := tests/fuzz/sts.dict
FUZZ_DICT_awscreds       := tests/fuzz/json.dict
FUZZ_DICT_credserver     := tests/fuzz/credserver.dict
FUZZ_DICT_okta_proxy     := tests/fuzz/okta_proxy.dict
FUZZ_ENV     := ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
                UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

fuzz-build: $(FUZZ_BINS)

$(FUZZ_B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CPPFLAGS) $(FUZZ_CFLAGS) -MMD -MP -c -o $@ $<

$(FUZZ_B)/liboktacred.a: $(FUZZ_LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(FUZZ_B)/fuzz_%: $(FUZZ_B)/tests/fuzz/fuzz_%.o $(FUZZ_B)/liboktacred.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $(LDFLAGS) -o $@ $^ $(LDLIBS)

-include $(FUZZ_LIB_OBJS:.o=.d) $(FUZZ_TARGETS:%=$(FUZZ_B)/tests/fuzz/fuzz_%.d)

# FUZZ_JOBS targets at a time, whatever -j make was given; all of them even when one fails.
fuzz:
	@$(MAKE) --no-print-directory -j$(FUZZ_JOBS) fuzz-build
	@$(MAKE) --no-print-directory -k -j$(FUZZ_JOBS) $(FUZZ_TARGETS:%=fuzz-run-%)

# One target for FUZZ_SECONDS; its output in $(FUZZ_B)/logs/<target>.log, shown when it
# fails.
fuzz-run-%: $(FUZZ_B)/fuzz_%
	@mkdir -p $(FUZZ_B)/corpus/$* $(FUZZ_B)/artifacts/$* $(FUZZ_B)/logs
	@echo "fuzz $*: $(FUZZ_SECONDS) s"
	@$(FUZZ_ENV) $< $(FUZZ_FLAGS) -max_total_time=$(FUZZ_SECONDS) \
		-artifact_prefix=$(FUZZ_B)/artifacts/$*/ \
		-dict=$(FUZZ_DICT_$*) \
		$(FUZZ_B)/corpus/$* tests/fuzz/corpus/$* > $(FUZZ_B)/logs/$*.log 2>&1 || { \
		tail -n 60 $(FUZZ_B)/logs/$*.log; \
		echo "fuzz $*: FAILED; the input is in $(FUZZ_B)/artifacts/$*/"; exit 1; }
	@grep -E 'stat::number_of_executed_units|cov: ' $(FUZZ_B)/logs/$*.log | tail -n 2 | \
		sed 's/^/fuzz $*: /'

# Every seed once, as a quick regression check (no new inputs are searched for).
fuzz-regress: $(FUZZ_BINS)
	@for t in $(FUZZ_TARGETS); do \
		$(FUZZ_ENV) $(FUZZ_B)/fuzz_$$t -runs=0 tests/fuzz/corpus/$$t \
			> $(FUZZ_B)/regress-$$t.log 2>&1 || { \
			tail -n 60 $(FUZZ_B)/regress-$$t.log; echo "fuzz-regress $$t: FAILED"; exit 1; }; \
		echo "fuzz-regress $$t: $$(ls tests/fuzz/corpus/$$t | wc -l) seeds ok"; \
	done

# Built through pattern rules: keep the objects and binaries make would see as intermediate.
.SECONDARY: $(FUZZ_BINS) $(FUZZ_TARGETS:%=$(FUZZ_B)/tests/fuzz/fuzz_%.o)
