# dt — build, test, demo, bench, fuzz. Needs only a C compiler and make for
# `make test` and `make demo`; the other targets say what they need.
CC      ?= cc
CXX     ?= c++
CLANG   ?= clang
WARN    := -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion \
           -Wundef -Wstrict-prototypes -Wmissing-prototypes
CSTD    ?= -std=c99
CFLAGS  ?= -O2 -g
THREADS := -pthread
B       ?= build

TEST_SRC := $(wildcard tests/test_*.c)
HDRS     := dt.h $(wildcard dt_query.h dt_stateful.h) tests/greatest.h examples/dt_jsonl.h

.PHONY: all test demo check-warnings sanitize tsan compile-tests fuzz fuzz-smoke fuzz-regress bench bench-smoke bench-report clean

all: $(B)/dt $(B)/dt_tests $(B)/host_service

$(B):
	@mkdir -p $(B)

$(B)/dt: examples/dt_cli.c $(HDRS) | $(B)
	$(CC) $(CSTD) $(CFLAGS) $(WARN) -I. -o $@ examples/dt_cli.c

$(B)/suites.h: $(TEST_SRC) | $(B)
	@grep -ho '^SUITE([A-Za-z_0-9]*)' $(TEST_SRC) | sed 's/^SUITE(\(.*\))/X(\1)/' > $@.tmp && mv $@.tmp $@

$(B)/dt_tests: $(TEST_SRC) tests/impl.c $(HDRS) $(B)/suites.h
	$(CC) $(CSTD) $(CFLAGS) $(WARN) $(THREADS) -I. -Itests -I$(B) -o $@ $(TEST_SRC) tests/impl.c

$(B)/host_service: examples/host_service.c $(HDRS) | $(B)
	$(CC) $(CSTD) $(CFLAGS) $(WARN) $(THREADS) -I. -o $@ examples/host_service.c

# The README's test command: every unit, scenario and regression test; the
# runner's last line is "N passed, N failed".
test: $(B)/dt $(B)/dt_tests fuzz-regress
	DT_CLI=$${DT_CLI:-$(B)/dt} $(B)/dt_tests

# The README's main job: a bundled program over a bundled event stream.
demo: $(B)/dt
	@echo "== program: examples/demo/demo.dt"; cat examples/demo/demo.dt; echo
	@echo "== dt check"; $(B)/dt check examples/demo/demo.dt
	@echo "== dt replay (one JSON line per sink or action call)"
	@$(B)/dt replay examples/demo/demo.dt examples/demo/events.jsonl

# Fuzz targets replayed over their corpora as plain regression tests.
FUZZ_TARGETS := $(patsubst fuzz/fuzz_%.c,%,$(wildcard fuzz/fuzz_*.c))
fuzz-regress: $(FUZZ_TARGETS:%=$(B)/regress_%)
	@for t in $(FUZZ_TARGETS); do $(B)/regress_$$t fuzz/corpus/$$t || exit 1; done

$(B)/regress_%: fuzz/fuzz_%.c fuzz/standalone.c $(HDRS) | $(B)
	$(CC) $(CSTD) -O1 -g -I. -Iexamples -o $@ $< fuzz/standalone.c

# libFuzzer (clang + libclang-rt-14-dev): FUZZ_TIME seconds per target.
FUZZ_TIME ?= 600
$(B)/fuzz_%: fuzz/fuzz_%.c $(HDRS) | $(B)
	$(CLANG) -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -I. -Iexamples -o $@ $<

fuzz: $(FUZZ_TARGETS:%=$(B)/fuzz_%)
	@for t in $(FUZZ_TARGETS); do mkdir -p $(B)/corpus_$$t; \
	  $(B)/fuzz_$$t -max_total_time=$(FUZZ_TIME) -dict=fuzz/$$t.dict $(B)/corpus_$$t fuzz/corpus/$$t || exit 1; done

fuzz-smoke:
	$(MAKE) fuzz FUZZ_TIME=$${FUZZ_TIME:-20}

# Sanitizer builds of the whole test suite.
sanitize: $(B)/suites.h
	$(CC) $(CSTD) -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer \
	  $(THREADS) -I. -Itests -I$(B) -o $(B)/dt_tests_asan $(TEST_SRC) tests/impl.c
	$(CC) $(CSTD) -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined -I. -o $(B)/dt_asan examples/dt_cli.c
	DT_CLI=$(B)/dt_asan $(B)/dt_tests_asan

tsan: $(B)/suites.h
	$(CLANG) $(CSTD) -O1 -g -fsanitize=thread $(THREADS) -I. -Itests -I$(B) -o $(B)/dt_tests_tsan $(TEST_SRC) tests/impl.c
	TSAN_OPTIONS=halt_on_error=1 $(B)/dt_tests_tsan -s concurrency

# The whole suite built with each trim option, and with all of them.
.PHONY: test-trims
test-trims: $(B)/suites.h $(B)/dt
	sh tests/trims.sh $(B)

# Warnings as errors on gcc and clang, C99 and C11, C++, and each trim.
check-warnings compile-tests: $(B)/suites.h $(B)/dt
	sh tests/compile/run.sh

# Bench (bench/bench.c says how cases are measured and how processors add
# theirs). bench-smoke checks each case's effect, not its speed (CI);
# bench-report also runs hyperfine, jq, mlr and LTTng (bench/report.sh
# installs what is missing) and rewrites docs/performance.md and docs/img/.
BENCH_SRC := bench/bench.c bench/harness.h $(wildcard bench/cases_*.h)
$(B)/bench: $(BENCH_SRC) $(HDRS) | $(B)
	$(CC) $(CSTD) -O2 -g $(WARN) $(THREADS) -I. -o $@ bench/bench.c

bench: $(B)/bench
	$(B)/bench

bench-smoke: $(B)/bench
	$(B)/bench --quick

bench-report: $(B)/bench $(B)/dt
	B=$(B) sh bench/report.sh

clean:
	rm -rf $(B)

# Line and branch coverage of the headers over the whole suite (unit and
# scenario tests, fuzz corpora), with clang's source-based coverage; needs
# llvm-profdata and llvm-cov. Prints one line per header; the table is in
# $(B)/coverage/report.txt, dt.h line by line in $(B)/coverage/dt.h.txt.
# A failing test still gives the report, then fails the target.
.PHONY: coverage
LLVM_COV      ?= llvm-cov
LLVM_PROFDATA ?= llvm-profdata
COV_DIR   := $(B)/coverage
COV_FLAGS := $(CSTD) -O0 -g -fprofile-instr-generate -fcoverage-mapping
COV_HDRS  := dt.h $(wildcard dt_query.h dt_stateful.h) examples/dt_jsonl.h
COV_BINS  := dt $(FUZZ_TARGETS:%=regress_%)
coverage: $(B)/suites.h
	@rm -rf $(COV_DIR) && mkdir -p $(COV_DIR)
	$(CLANG) $(COV_FLAGS) $(THREADS) -I. -Itests -I$(B) -o $(COV_DIR)/dt_tests $(TEST_SRC) tests/impl.c
	$(CLANG) $(COV_FLAGS) -I. -o $(COV_DIR)/dt examples/dt_cli.c
	@for t in $(FUZZ_TARGETS); do \
	  $(CLANG) $(COV_FLAGS) -I. -Iexamples -o $(COV_DIR)/regress_$$t fuzz/fuzz_$$t.c fuzz/standalone.c || exit 1; done
	@export LLVM_PROFILE_FILE=$(abspath $(COV_DIR))/%p-%m.profraw; \
	  DT_CLI=$(abspath $(COV_DIR))/dt $(COV_DIR)/dt_tests > $(COV_DIR)/tests.log 2>&1; echo $$? > $(COV_DIR)/status; \
	  for t in $(FUZZ_TARGETS); do $(COV_DIR)/regress_$$t fuzz/corpus/$$t > /dev/null 2>&1 || \
	    { echo 1 > $(COV_DIR)/status; echo "FAIL fuzz corpus $$t" >> $(COV_DIR)/fuzz.log; }; done
	@$(LLVM_PROFDATA) merge -o $(COV_DIR)/all.profdata $(COV_DIR)/*.profraw 2>/dev/null && rm -f $(COV_DIR)/*.profraw
	@$(LLVM_COV) show $(COV_DIR)/dt_tests $(COV_BINS:%=-object $(COV_DIR)/%) -instr-profile $(COV_DIR)/all.profdata \
	  -show-branches=count dt.h > $(COV_DIR)/dt.h.txt
	@$(LLVM_COV) report $(COV_DIR)/dt_tests $(COV_BINS:%=-object $(COV_DIR)/%) -instr-profile $(COV_DIR)/all.profdata \
	  $(COV_HDRS) > $(COV_DIR)/report.txt 2>/dev/null
	@awk '$$1 ~ /\.h$$/ { printf "coverage: %-20s lines %7s (%d of %d)  branches %7s (%d of %d)\n", \
	  $$1, $$10, $$8 - $$9, $$8, $$13, $$11 - $$12, $$11 }' $(COV_DIR)/report.txt
	@tail -n 1 $(COV_DIR)/tests.log
	@test "$$(cat $(COV_DIR)/status)" = 0 || { cat $(COV_DIR)/fuzz.log 2>/dev/null; grep -a '^FAIL' $(COV_DIR)/tests.log; \
	  echo "coverage: the suite failed"; exit 1; }

# Soak (bench/soak.c): SOAK_EVENTS events through a program with every
# processor kind; the engine's heap, the RSS and every counter's growth per
# interval must stay flat after warm-up. soak-smoke is CI's short run.
.PHONY: soak soak-smoke
SOAK_EVENTS ?= 100000000
$(B)/soak: bench/soak.c tests/reliability.h $(HDRS) | $(B)
	$(CC) $(CSTD) -O2 -g $(WARN) $(THREADS) -I. -Itests -o $@ bench/soak.c
soak: $(B)/soak
	$(B)/soak --events $(SOAK_EVENTS)
soak-smoke: $(B)/soak
	$(B)/soak --events 3000000

# Adoption examples (docs/adoption.md): the hosts and the reload demo run
# with virtual clocks; their output must match the .expected files.
ADOPT_HDRS := $(HDRS) examples/hosts/host_common.h examples/probes/dt_probe.h
$(B)/hash_service $(B)/work_queue: $(B)/%: examples/hosts/%.c $(ADOPT_HDRS) | $(B)
	$(CC) $(CSTD) $(CFLAGS) $(WARN) $(THREADS) -I. -o $@ $<
$(B)/reload: examples/reload/reload.c $(HDRS) | $(B)
	$(CC) $(CSTD) $(CFLAGS) $(WARN) -I. -o $@ $<

.PHONY: examples-check
examples-check: $(B)/hash_service $(B)/work_queue $(B)/reload
	@for h in hash_service work_queue; do \
	  $(B)/$$h > $(B)/$$h.out && diff -u examples/hosts/$$h.expected $(B)/$$h.out || exit 1; echo "ok: $$h"; done
	@mkdir -p $(B)/reload_demo && $(B)/reload --demo $(B)/reload_demo > $(B)/reload.out && \
	  diff -u examples/reload/reload.expected $(B)/reload.out && echo "ok: reload"
