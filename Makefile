# TeamMoa — `make run` runs it, `make test` tests it. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export TEAMMOA_PORT ?= 8000
export TEAMMOA_DATA_DIR ?= var

.PHONY: run test test-fast lint format lock clean help stack stack-down stack-status stack-restart migrate reliability seed-load bench

help:
	@echo "make run    - run TeamMoa on http://127.0.0.1:$(TEAMMOA_PORT) (SQLite, in-memory broker)"
	@echo "make test   - run the test suite (SQLite; MariaDB/Redis/Chromium parts when configured)"
	@echo "make lint   - ruff and actionlint"
	@echo "make stack  - the local multi-process stack behind real Nginx (stack-down, stack-status, stack-restart)"
	@echo "make seed-load - the load-test data set in the running stack; make bench - the whole benchmark (~20 min)"
	@echo "make reliability - faults, fuzzing and attacks against a private stack, full durations (~17 min)"

$(STAMP): requirements/app.txt requirements/dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements/dev.txt
	@touch $(STAMP)

# The real OpenID provider the sign-in tests run (tests/oidc_provider, Node's oidc-provider), pinned by its lock file.
OIDC_PROVIDER := tests/oidc_provider/node_modules/.package-lock.json
$(OIDC_PROVIDER): tests/oidc_provider/package.json tests/oidc_provider/package-lock.json
	npm ci --prefix tests/oidc_provider --no-audit --no-fund --loglevel=error

run: $(STAMP)
	$(PY) -m gateway --port $(TEAMMOA_PORT)

test: $(STAMP) $(OIDC_PROVIDER)
	$(PY) -m ruff check .
	$(PY) -m pytest $(PYTEST_ARGS)

test-fast: $(STAMP) $(OIDC_PROVIDER)
	$(PY) -m pytest -x -q -m "not browser and not stack" $(PYTEST_ARGS)

# The local multi-process stack: real Nginx, MariaDB, Redis (deploy/stack.py; data in var/stack by default).
STACK_ENV = TEAMMOA_DATA_DIR=$(if $(filter command line environment,$(origin TEAMMOA_DATA_DIR)),$(TEAMMOA_DATA_DIR),var/stack)

stack: $(STAMP)
	$(STACK_ENV) $(PY) deploy/stack.py up

stack-down: $(STAMP)
	$(STACK_ENV) $(PY) deploy/stack.py down

stack-status: $(STAMP)
	$(STACK_ENV) $(PY) deploy/stack.py status

migrate: $(STAMP)
	$(STACK_ENV) $(PY) deploy/stack.py migrate

seed-load: $(STAMP)
	$(STACK_ENV) $(PY) deploy/seed_load.py

bench: $(STAMP)
	$(PY) bench/run.py

reliability: $(STAMP)
	$(PY) deploy/reliability.py

stack-restart: $(STAMP)
	$(STACK_ENV) $(PY) deploy/rolling_restart.py

lint: $(STAMP)
	$(PY) -m ruff check .
	$(VENV)/bin/actionlint -no-color

format: $(STAMP)
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

lock: $(STAMP)
	@echo "Edit requirements/*.in, install, check with 'pip check', then pin with pip freeze into requirements/*.txt"

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
