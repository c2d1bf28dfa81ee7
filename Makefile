# linres: one command for each job. `make help` lists them.
SHELL := /bin/bash
CARGO ?= cargo
LINRES := target/release/linres
EXPERIMENTS := $(sort $(wildcard experiments/*.yaml))

.PHONY: help setup build test results figures report check reproduce bench lint clean-results

help:
	@echo "make setup    install the system library linres needs (libopenblas-dev) when missing"
	@echo "make test     run the test suite"
	@echo "make build    build the release binary target/release/linres"
	@echo "make results  run every experiment in experiments/ (through the cache: only missing runs train)"
	@echo "make figures  make results, then draw every figure"
	@echo "make report   make figures, then write the HTML report (report/index.html)"
	@echo "make check    make results, then check every declared claim (writes results/CHECKS.md)"
	@echo "make reproduce  every experiment from scratch in a temporary directory, compared with the"
	@echo "               committed results (linres diff), then every check on the fresh results"
	@echo "make bench    run the criterion benchmarks"
	@echo "make lint     cargo fmt --check and cargo clippy"

setup:
	@if dpkg -s libopenblas-dev >/dev/null 2>&1; then \
		echo "libopenblas-dev is installed"; \
	else \
		SUDO=""; [ "$$(id -u)" -eq 0 ] || SUDO="sudo"; \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq libopenblas-dev; \
	fi

build: setup
	$(CARGO) build --release

test: setup
	$(CARGO) test

# Every experiment through the cache (a second run trains nothing).
results: build
	@for spec in $(EXPERIMENTS); do \
		$(LINRES) run $$spec || exit 1; \
	done

# Every figure, from results brought up to date first.
figures: results
	@for spec in $(EXPERIMENTS); do \
		$(LINRES) plot $$spec > /dev/null || exit 1; \
	done
	@echo "figures written under figures/"

# The HTML report of every experiment (figures, checks, runs, each run beside its theory), after
# the figures; open report/index.html in a browser (beside results/, never inside it).
report: figures
	$(LINRES) report

# The declared claims against results brought up to date first (results/CHECKS.md); non-zero
# exit on any FAIL or INCOMPLETE.
check: results
	$(LINRES) check

# The committed results were computed with these OpenBLAS kernels; a reproduction pins them so that
# it can agree digit for digit (`make reproduce REPRODUCE_CORETYPE=` uses the machine's own kernels:
# runs near a saddle then differ in their last digits, see README "Reproducing").
REPRODUCE_CORETYPE ?= Cooperlake

# Every experiment from scratch into a temporary directory, compared with the committed results
# (`linres diff`: same runs and statuses, numbers within 1e-9), then every check on the fresh results.
reproduce: build
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	export OPENBLAS_CORETYPE=$(REPRODUCE_CORETYPE); unset OPENBLAS_L2_SIZE; \
	[ -n "$$OPENBLAS_CORETYPE" ] || unset OPENBLAS_CORETYPE; \
	echo "reproducing every experiment in $$tmp (OpenBLAS kernels: $${OPENBLAS_CORETYPE:-chosen by OpenBLAS})"; \
	for spec in $(EXPERIMENTS); do \
		$(LINRES) run -q --results "$$tmp" $$spec || exit 1; \
	done; \
	$(LINRES) diff results "$$tmp" && \
	$(LINRES) check -q --results "$$tmp" --out "$$tmp/CHECKS.md" && \
	echo "reproduced: every experiment agrees with the committed results and every gating check passes"

bench: setup
	$(CARGO) bench

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets -- -D warnings
