# Anfang gateway: `make run` starts the demo site, `make test` runs every test.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
RUN_STAMP := $(VENV)/.installed-run

# CHECK:PACKAGE pairs for .ci/system-deps.sh: what the gateway needs, and what only tests need
# (real peers and checkers the tests run).
SYSTEM_DEPS := py-venv:python3-venv
TEST_SYSTEM_DEPS := systemd-analyze:systemd curl:curl openssl:openssl mosquitto:mosquitto socat:socat

.PHONY: all deps test-deps venv run test lint typecheck pytest bench docs clean

all: test

deps:
	@PYTHON=$(PYTHON) .ci/system-deps.sh $(SYSTEM_DEPS)

# `make run` needs only the gateway; `make test` adds the test and bench tools.
$(RUN_STAMP): pyproject.toml | deps
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e .
	touch $(RUN_STAMP)

test-deps:
	@PYTHON=$(PYTHON) .ci/system-deps.sh $(TEST_SYSTEM_DEPS)

$(STAMP): $(RUN_STAMP) | test-deps
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

run: $(RUN_STAMP)
	$(BIN)/anfang run --show-events

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP) test-deps
	$(BIN)/python -m pytest

test: lint typecheck pytest

bench: $(STAMP)
	$(BIN)/python bench/journal.py --quick
	$(BIN)/python bench/dc09_ingest.py --quick
	$(BIN)/python bench/api.py --quick
	$(BIN)/python bench/modbus_poll.py --quick
	$(BIN)/python bench/rules.py --quick
	$(BIN)/python bench/linkage.py --quick
	$(BIN)/python bench/dc09_forward.py --quick
	$(BIN)/python bench/mqtt.py --quick

docs: $(STAMP)
	$(BIN)/python -m gateway.model.docgen

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
