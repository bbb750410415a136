# 论文精读: `make run` serves the site with its worker and scheduler; `make test` runs
# the whole suite. Both set up the virtualenv (.venv) on first use.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: help venv run test lint format superuser migrate bench messages clean

help:
	@echo "make run        set up and serve the site, worker and beat on 127.0.0.1:$(PORT)"
	@echo "make test       run the whole test suite (SQLite unless DATABASE_URL is set)"
	@echo "make lint       ruff, ruff format --check, djhtml --check"
	@echo "make superuser  create an admin account (asks for a password)"
	@echo "make bench      run the benchmarks; results go to docs/benchmarks.md"

$(STAMP): requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is needed, found " + sys.version.split()[0])'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

venv: $(STAMP)

migrate: export DJANGO_DEBUG ?= 1
migrate: $(STAMP)
	@mkdir -p var
	$(PY) manage.py migrate --noinput

# Web server, Celery worker and beat in one terminal (honcho); Ctrl-C stops all three.
run: export DJANGO_DEBUG ?= 1
run: migrate
	$(PY) manage.py load_seed
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/honcho --procfile readinglist/Procfile --app-root . start --port $(PORT)

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/djhtml --check templates

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .
	$(VENV)/bin/djhtml templates

superuser: export DJANGO_DEBUG ?= 1
superuser: migrate
	$(PY) manage.py createsuperuser

clean:
	rm -rf $(VENV) var staticfiles
