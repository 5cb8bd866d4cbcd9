# SlotOptim. `make help` lists the targets; CI runs `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
RUN_STAMP := $(VENV)/.installed-run
# Every Python, SQL, template or asset file: a new one must be linked into the editable install (strict mode).
SOURCES := $(shell find api listener ml migrations sql -name '*.py' -o -name '*.sql' -o -name '*.json' -o -name '*.html' -o -name '*.css' -o -name '*.js' 2>/dev/null)

.DEFAULT_GOAL := help
.PHONY: help install install-run system-deps run test test-py lint typecheck fmt bench bench-msgraph faults ml-report clean db-stop fuzz fhir-server test-pg15

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

# `make run` installs what the service needs (the runtime dependencies); `make test` adds the dev
# and ml extras. The dev stamp implies the run stamp, so switching between the two reinstalls nothing.
# The setuptools build warnings are silenced only for the editable-install notice, which strict
# mode always prints (strict: a linked tree under build/, which mypy can follow).
PIP_INSTALL := PYTHONWARNINGS="ignore:Editable installation" $(BIN)/pip install -q --no-build-isolation --config-settings editable_mode=strict

$(VENV)/.venv:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip "setuptools>=77" wheel
	touch $@

$(RUN_STAMP): $(VENV)/.venv pyproject.toml $(SOURCES)
	$(PIP_INSTALL) -e .
	touch $@

$(STAMP): $(VENV)/.venv pyproject.toml $(SOURCES)
	$(PIP_INSTALL) -e '.[dev,ml,deploy]'
	touch $@ $(RUN_STAMP)

install: $(STAMP) ## create .venv and install SlotOptim with its dev, ml and deploy extras

install-run: $(RUN_STAMP) ## create .venv and install SlotOptim with what running it needs

system-deps: ## install the system parts the tests need (pgTAP, Chromium, axe-core) when missing
	tests/setup/system-deps.sh

run: install-run ## migrate the embedded database, load the demo practice, simulate a day and run the service
	$(BIN)/slotoptim import --demo --replace
	$(BIN)/slotoptim gaps --provider dr-chen --day tomorrow
	$(BIN)/slotoptim demo
	$(BIN)/slotoptim run --banner

test: install system-deps lint typecheck test-py test-pg15 ## set up what is missing, lint, type-check, every test (pgTAP, pytest, browser, CDK synth) on the embedded PostgreSQL 18, then the SQL and Python suites on the external PostgreSQL 15

test-py: install system-deps fhir-server
	$(BIN)/pytest -q

# The third-party FHIR server the EHR round-trip tests start (Medplum's FHIR router, pinned in
# tests/fhir_server/package-lock.json); node_modules is git-ignored.
FHIR_SERVER := tests/fhir_server
$(FHIR_SERVER)/node_modules/.installed: $(FHIR_SERVER)/package.json $(FHIR_SERVER)/package-lock.json
	cd $(FHIR_SERVER) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

fhir-server: $(FHIR_SERVER)/node_modules/.installed ## install the Medplum-based FHIR server the EHR tests use (npm)

# The machine's own PostgreSQL 15 and Redis 7 (external servers, as RDS and ElastiCache are): the
# same SQL and Python suites again, on the oldest server SlotOptim supports. The CDK synth and the
# container checks (tests/py/deploy) and the embedded read replica (test_read_replica.py) do not
# depend on the server and ran once above. It used to run about five times slower than on the
# embedded server: not the per-test clone of the template, but JIT. PostgreSQL 15 from Debian has
# LLVM JIT on, the embedded 18 has none, and the set-returning functions' cost estimates pass the
# JIT thresholds (candidate_exclusions compiled 943 functions for 50 s to run in milliseconds).
# Migration 0014 turns JIT off per database; the test clones carry that setting (tests/py/dbclone.py).
EXTERNAL_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/postgres
EXTERNAL_REDIS_URL ?= redis://127.0.0.1:6379
test-pg15: install system-deps fhir-server ## the SQL and Python suites against the external PostgreSQL 15 (EXTERNAL_DATABASE_URL; part of make test)
	@tests/setup/external-servers.sh
	@if ! $(BIN)/python -c "import psycopg, sys; psycopg.connect(sys.argv[1], connect_timeout=3).close()" "$(EXTERNAL_DATABASE_URL)" 2>/dev/null; then \
	  if [ -n "$$CI" ]; then echo "test-pg15: no server at $(EXTERNAL_DATABASE_URL)"; exit 1; fi; \
	  echo "test-pg15: skipped, no server at $(EXTERNAL_DATABASE_URL)"; exit 0; fi; \
	TEST_DATABASE_URL="$(EXTERNAL_DATABASE_URL)" TEST_REDIS_URL="$(EXTERNAL_REDIS_URL)" \
	  $(BIN)/pytest -q -p no:cacheprovider --ignore=tests/py/deploy --ignore=tests/py/scaleout/test_read_replica.py

FUZZ_EXAMPLES ?= 300
fuzz: install ## a longer schemathesis run against the API's OpenAPI (FUZZ_EXAMPLES per operation)
	SLOTOPTIM_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/pytest -q -p no:cacheprovider tests/py/api/test_openapi_fuzz.py

lint: install ## ruff
	$(BIN)/ruff check infra api listener ml migrations sql tests
	$(BIN)/ruff format --check infra api listener ml migrations sql tests

typecheck: install ## mypy --strict on the slotoptim packages (pyproject [tool.mypy] packages)
	$(BIN)/mypy

fmt: install ## format the Python sources
	$(BIN)/ruff format infra api listener ml migrations sql tests
	$(BIN)/ruff check --fix infra api listener ml migrations sql tests

bench: install fhir-server ## benchmarks; prints medians and ratios against naive baselines
	SLOTOPTIM_BENCH_DEPS=1 tests/setup/system-deps.sh
	PYTHONPATH=tests/py $(BIN)/python tests/bench/gaps_bench.py
	PYTHONPATH=tests/py $(BIN)/python tests/bench/fill_bench.py
	PYTHONPATH=tests/py $(BIN)/python tests/bench/claim_bench.py
	PYTHONPATH=tests/py $(BIN)/python tests/bench/api_bench.py
	PYTHONPATH=tests/py $(BIN)/python tests/bench/fhir_bench.py
	PYTHONPATH=tests/py $(BIN)/python tests/bench/calendar_bench.py
	PYTHONPATH=tests/py $(BIN)/python tests/bench/queue_bench.py
	$(BIN)/slotoptim queue evaluate --history-sessions 120 --test-sessions 100
	PYTHONPATH=tests/py $(BIN)/python tests/bench/scaleout_bench.py
	$(MAKE) bench-msgraph

# msgraph-sdk is measured, not used (docs/calendar.md): it gets a venv of its own so that its ~17
# distributions never enter SlotOptim's.
MSGRAPH_VENV := .venv-msgraph
bench-msgraph: ## Microsoft Graph delta pages through msgraph-sdk vs our httpx client (own venv)
	test -x $(MSGRAPH_VENV)/bin/python || python3 -m venv $(MSGRAPH_VENV)
	$(MSGRAPH_VENV)/bin/python -c "import msgraph" 2>/dev/null || $(MSGRAPH_VENV)/bin/pip install -q httpx msgraph-sdk
	# slotoptim.listener is the listener/ directory (pyproject's package-dir), not a path on disk:
	# a one-link tree gives this venv that package without installing SlotOptim's dependencies.
	mkdir -p $(MSGRAPH_VENV)/src/slotoptim
	ln -sfn $(CURDIR)/listener $(MSGRAPH_VENV)/src/slotoptim/listener
	PYTHONPATH=$(MSGRAPH_VENV)/src:tests/py $(MSGRAPH_VENV)/bin/python tests/bench/msgraph_bench.py

FAULT_ROUNDS ?= 80
faults: install ## fault runs at full size, printing their figures: a Twilio outage of 5,000 texts, 3 x kill -9, a database restart, claims racing staff bookings (FAULT_ROUNDS rounds)
	PYTHONPATH=tests/py $(BIN)/python tests/faults/run_faults.py 2> $(VENV)/faults.log && echo "(service logs: $(VENV)/faults.log)"
	SLOTOPTIM_FAULT_ROUNDS=$(FAULT_ROUNDS) $(BIN)/pytest -q -s -p no:cacheprovider tests/py/api/test_claim_deadlock.py -k never_deadlock

SHARED_DATA ?= ../shared/data
ml-report: install ## full-size learning runs on the real data sets in ../shared/data
	SLOTOPTIM_SHARED_DATA=$(SHARED_DATA) $(BIN)/slotoptim ml evaluate --data $(SHARED_DATA)/noshow/noshow_train.csv --split-date 2016-05-09
	SLOTOPTIM_SHARED_DATA=$(SHARED_DATA) $(BIN)/slotoptim ml buffers --hangu
	SLOTOPTIM_SHARED_DATA=$(SHARED_DATA) $(BIN)/slotoptim ml forecast --noshow-csv $(SHARED_DATA)/noshow/noshow_train.csv

db-stop: install ## stop the embedded PostgreSQL
	$(BIN)/slotoptim db stop

clean: ## remove the virtualenv and build files
	rm -rf $(VENV) build *.egg-info
