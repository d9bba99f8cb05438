# TeamMoa — `make run` runs it, `make test` tests it. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export TEAMMOA_PORT ?= 8000
export TEAMMOA_DATA_DIR ?= var

.PHONY: monitoring monitoring-down monitoring-status backup restore
.PHONY: run test test-fast lint format lock clean help stack stack-down stack-status stack-restart migrate reliability seed-load bench screenshots

help:
	@echo "make run    - run TeamMoa on http://127.0.0.1:$(TEAMMOA_PORT) (SQLite, in-memory broker)"
	@echo "make test   - run the test suite (SQLite; MariaDB/Redis/Chromium parts when configured)"
	@echo "make lint   - ruff check, ruff format --check, mypy --strict and actionlint"
	@echo "make lock   - upgrade every pin to the newest release (requirements/*.in), install them, run the tests"
	@echo "make stack  - the local multi-process stack behind real Nginx (stack-down, stack-status, stack-restart)"
	@echo "make monitoring - Prometheus and exporters beside the stack (monitoring-down, monitoring-status)"
	@echo "make backup - dump the stack's databases and files; make restore BACKUP=<dir> loads one"
	@echo "make seed-load - the load-test data set in the running stack; make bench - the whole benchmark (~20 min)"
	@echo "make reliability - faults, fuzzing and attacks against a private stack, full durations (~17 min)"
	@echo "make screenshots - seed a demo team in a private TeamMoa and write docs/screenshots/*.png (Chromium)"

$(STAMP): requirements/app.txt requirements/dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements/dev.txt
	@touch $(STAMP)

# The real OpenID provider the sign-in tests run (tests/oidc_provider, Node's oidc-provider), pinned by its lock file.
OIDC_PROVIDER := tests/oidc_provider/node_modules/.package-lock.json
$(OIDC_PROVIDER): tests/oidc_provider/package.json tests/oidc_provider/package-lock.json
	@if command -v npm >/dev/null 2>&1; then npm ci --prefix tests/oidc_provider --no-audit --no-fund --loglevel=error; \
	else echo "npm not found: the sign-in provider tests will skip (apt-get install nodejs npm)"; fi

run: $(STAMP)
	$(PY) -m gateway --port $(TEAMMOA_PORT)

# Pictures for the README: a private embedded TeamMoa (temporary data), a seeded demo team, Debian's Chromium.
screenshots: $(STAMP)
	$(PY) -m tests.browser.screenshots $(SCREENSHOTS_ARGS)

# Ruff first, so style slips show before a long run; coverage of services/ and gateway/ is printed at the end.
test: $(STAMP) $(OIDC_PROVIDER)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m pytest --cov --cov-report= $(PYTEST_ARGS)
	@echo "coverage: $$($(PY) -m coverage report --format=total)% of the lines in services/ and gateway/ (in-process)"

test-fast: $(STAMP) $(OIDC_PROVIDER)
	$(PY) -m pytest -x -q -m "not browser and not stack" $(PYTEST_ARGS)

# The local multi-process stack: real Nginx, MariaDB, Redis (python -m tools.stack; data in var/stack by default).
STACK_ENV = TEAMMOA_DATA_DIR=$(if $(filter command line environment,$(origin TEAMMOA_DATA_DIR)),$(TEAMMOA_DATA_DIR),var/stack)

stack: $(STAMP)
	$(STACK_ENV) $(PY) -m tools.stack up

stack-down: $(STAMP)
	$(STACK_ENV) $(PY) -m tools.stack down

stack-status: $(STAMP)
	$(STACK_ENV) $(PY) -m tools.stack status

migrate: $(STAMP)
	$(STACK_ENV) $(PY) -m tools.stack migrate

seed-load: $(STAMP)
	$(STACK_ENV) $(PY) -m tools.seed

bench: $(STAMP)
	$(PY) -m tools.bench

reliability: $(STAMP)
	$(PY) -m tools.reliability

# Prometheus and the exporters beside a running stack (tools/monitor.py; Debian's prometheus package).
monitoring: $(STAMP)
	$(STACK_ENV) $(PY) -m tools.monitor up

monitoring-down: $(STAMP)
	$(STACK_ENV) $(PY) -m tools.monitor down

monitoring-status: $(STAMP)
	$(STACK_ENV) $(PY) -m tools.monitor status

# The stack's databases and uploaded files (tools/backup.py): make backup; make restore BACKUP=<dir>
# (into the stack's own databases, which must be empty unless RESTORE_ARGS=--replace; stop the stack first).
backup: $(STAMP)
	$(STACK_ENV) $(PY) -m tools.backup backup

restore: $(STAMP)
	@test -n "$(BACKUP)" || (echo "usage: make restore BACKUP=var/stack/backups/<time> [RESTORE_ARGS=--replace]"; exit 2)
	$(STACK_ENV) $(PY) -m tools.backup restore $(BACKUP) $(RESTORE_ARGS)

stack-restart: $(STAMP)
	$(STACK_ENV) $(PY) -m tools.stack.rolling_restart

# Ruff, the format check, strict mypy over services/ and gateway/ (config in pyproject.toml), actionlint.
lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy
	$(VENV)/bin/actionlint -no-color

format: $(STAMP)
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

# Upgrade every pin to the newest release the index offers (requirements/app.in, dev.in; tools/lock.py),
# install the new set and run the tests. Review `git diff requirements/`, then commit.
lock:
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) tools/lock.py
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements/dev.txt
	@touch $(STAMP)
	$(MAKE) test

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .coverage
