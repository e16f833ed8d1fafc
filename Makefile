# Two commands do all set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_WORKERS ?= 2

.PHONY: install run test lint check-compose clean bench bench-audit backup-drill loadtest proof

$(STAMP): pyproject.toml
	@echo "==> 1/4 Creating $(VENV) and installing Concord's packages (the first time takes a few minutes)"
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --progress-bar on --upgrade pip
	$(BIN)/python -m pip install --progress-bar on ".[dev]"
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

## Install, migrate, load the demo clinic and serve it on http://$(HOST):$(PORT)/ (embedded: SQLite, no broker).
# Links in e-mails and notifications follow the address served (see CONCORD_SITE_URL).
run: export CONCORD_HOST = $(HOST)
run: export CONCORD_PORT = $(PORT)
run: install
	@echo "==> 2/4 Preparing the database in .data/ (SQLite)"
	mkdir -p .data
	$(BIN)/python manage.py migrate --no-input
	@echo "==> 3/4 Loading the demo clinic"
	$(BIN)/python manage.py seed_demo
	@echo "==> 4/4 Serving Concord at http://$(HOST):$(PORT)/ (Ctrl-C stops it; e-mail, such as invitations, is printed here)"
	# Reminders without a broker: a sweep every minute beside the web server.
	$(BIN)/python manage.py nudges --loop 60 > .data/nudges.log 2>&1 & \
	trap 'kill $$! 2>/dev/null' EXIT INT TERM; \
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports

check-compose: install
	$(BIN)/check-jsonschema --builtin-schema vendor.compose-spec docker-compose.yml

test: export CONCORD_PROFILE = test

## Install and run the whole suite: lint, layers, checks, migrations, compose, pytest (with Playwright).
test: install lint check-compose
	$(BIN)/python manage.py check --fail-level WARNING
	$(BIN)/python manage.py makemigrations --check --dry-run
	DJANGO_ALLOW_ASYNC_UNSAFE=true $(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadgroup

clean:
	rm -rf $(VENV) .data staticfiles

## Benchmarks (PostgreSQL): one table of ratios, each against its floor measured in the same run.
## The database named is emptied: its name must contain "bench"; it is created when missing.
## BENCH_AUDIT_ROWS shrinks the audit pages' 10 million rows.
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/concord_bench
bench: install
	DATABASE_URL="$(BENCH_DATABASE_URL)" $(BIN)/python bench/run.py

## The audit trail at 10 million rows against 10 thousand (PostgreSQL; about 6 minutes; empties the bench database).
bench-audit: install
	psql "$(BENCH_DATABASE_URL)" -c "SELECT 1" >/dev/null 2>&1 || createdb -h 127.0.0.1 -U postgres concord_bench
	BENCH_DATABASE_URL=$(BENCH_DATABASE_URL) $(BIN)/python bench/audit_scale.py

## Backup drill (PostgreSQL): dump, restore into a scratch database, compare, verify the audit.
backup-drill: install
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/concord} $(BIN)/python manage.py backup_drill

## Load test (PostgreSQL, Redis): 50 people for a minute against gunicorn; errors, p50/p95, lost writes, audit rows.
loadtest: install
	$(BIN)/python bench/loadtest/run.py

## The whole proof (PostgreSQL, Redis): matrix, fuzzing, concurrency, canary, backup drill, load, ruff S, pip-audit.
proof: install
	$(BIN)/python bench/proof.py
