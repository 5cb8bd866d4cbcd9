# SlotOptim. `make help` lists the targets; CI runs `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Every Python or SQL file: a new one must be linked into the editable install (strict mode).
SOURCES := $(shell find infra api listener ml migrations sql -name '*.py' -o -name '*.sql' -o -name '*.json' 2>/dev/null)

.DEFAULT_GOAL := help
.PHONY: help install run test test-py test-pg15 lint typecheck fmt bench ml-report clean db-stop fuzz

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml $(SOURCES)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip "setuptools>=75" wheel
	$(BIN)/pip install -q --no-build-isolation -e '.[dev,ml,deploy]' --config-settings editable_mode=strict
	touch $(STAMP)

install: $(STAMP) ## create .venv and install SlotOptim with its dev, ml and deploy extras

run: install ## migrate the embedded database, load the demo practice and run the service
	$(BIN)/slotoptim import --demo --replace
	$(BIN)/slotoptim gaps --provider dr-chen --start "$$(date -d 'tomorrow 00:00' -Iseconds)" --end "$$(date -d 'tomorrow 23:59' -Iseconds)"
	$(BIN)/slotoptim demo
	$(BIN)/slotoptim import --demo --replace
	$(BIN)/slotoptim run

test: install lint typecheck test-py test-pg15 ## lint, type-check, every test (pgTAP, pytest, CDK synth), then again on PostgreSQL 15

test-py: install
	$(BIN)/pytest -q

# The machine's own PostgreSQL 15 and Redis 7 (external servers, as RDS and ElastiCache are):
# the SQL and Python suites again, on the oldest server SlotOptim supports. The CDK synth, the
# container checks and the embedded read replica do not depend on the server and run once above.
EXTERNAL_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/postgres
EXTERNAL_REDIS_URL ?= redis://127.0.0.1:6379
test-pg15: install ## the SQL and Python suites against the external PostgreSQL 15 (EXTERNAL_DATABASE_URL)
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

typecheck: install ## mypy --strict on the slotoptim packages
	$(BIN)/mypy -p slotoptim

fmt: install ## format the Python sources
	$(BIN)/ruff format infra api listener ml migrations sql tests
	$(BIN)/ruff check --fix infra api listener ml migrations sql tests

bench: install ## benchmarks; prints medians and ratios against naive baselines
	PYTHONPATH=tests/py $(BIN)/python tests/bench/gaps_bench.py
	PYTHONPATH=tests/py $(BIN)/python tests/bench/fill_bench.py
	PYTHONPATH=tests/py $(BIN)/python tests/bench/api_bench.py
	PYTHONPATH=tests/py $(BIN)/python tests/bench/scaleout_bench.py

SHARED_DATA ?= ../shared/data
ml-report: install ## full-size learning runs on the real data sets in ../shared/data
	SLOTOPTIM_SHARED_DATA=$(SHARED_DATA) $(BIN)/slotoptim ml evaluate --data $(SHARED_DATA)/noshow/noshow_train.csv --split-date 2016-05-09
	SLOTOPTIM_SHARED_DATA=$(SHARED_DATA) $(BIN)/slotoptim ml buffers --hangu
	SLOTOPTIM_SHARED_DATA=$(SHARED_DATA) $(BIN)/slotoptim ml forecast --noshow-csv $(SHARED_DATA)/noshow/noshow_train.csv

db-stop: install ## stop the embedded PostgreSQL
	$(BIN)/slotoptim db stop

clean: ## remove the virtualenv and build files
	rm -rf $(VENV) build *.egg-info
