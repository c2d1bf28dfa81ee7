# linres: one command for each job. `make help` lists them.
SHELL := /bin/bash
CARGO ?= cargo
LINRES := target/release/linres
EXPERIMENTS := $(sort $(wildcard experiments/*.yaml))

.PHONY: help setup build test results figures check bench lint clean-results

help:
	@echo "make setup    install the system library linres needs (libopenblas-dev) when missing"
	@echo "make test     run the test suite"
	@echo "make build    build the release binary target/release/linres"
	@echo "make results  run every experiment in experiments/ (through the cache: only missing runs train)"
	@echo "make figures  make results, then draw every figure"
	@echo "make check    make results, then check every declared claim (writes results/CHECKS.md)"
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

# The declared claims against results brought up to date first (results/CHECKS.md); non-zero
# exit on any FAIL or INCOMPLETE.
check: results
	$(LINRES) check

bench: setup
	$(CARGO) bench

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets -- -D warnings
