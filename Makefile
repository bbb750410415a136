# 论文精读: `make run` serves the site with its worker and scheduler; `make test` runs
# the whole suite. Both set up the virtualenv (.venv) on first use.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: help venv run test lint format superuser migrate bench clean

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
	$(PY) manage.py first_start
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

# Page timings, the citation refresh (calls, seconds, memory) and a load test under
# gunicorn with wrk; each script prints its section with the command that reproduces
# it. Takes about 5 minutes. wrk comes from Debian: apt-get install wrk.
bench: export DJANGO_SECRET_KEY ?= bench-only-secret-key-not-for-production-use
bench: $(STAMP)
	@mkdir -p var
	@command -v wrk >/dev/null || { echo "bench needs wrk: apt-get install -y wrk"; exit 1; }
	set -e; { \
	  echo "# Benchmarks"; echo; \
	  echo "Written by \`make bench\` on $$(date -u '+%Y-%m-%d %H:%M UTC'), $$(nproc) CPUs, $$($(PY) -c 'import platform; print(platform.python_version())'). Every section names the command that reproduces it."; echo; \
	  DJANGO_DEBUG=0 $(PY) tests/bench/bench_pages.py; echo; \
	  $(PY) tests/bench/bench_refresh.py; echo; \
	  $(PY) tests/bench/bench_videos.py; echo; \
	  $(PY) tests/bench/bench_search.py; echo; \
	  $(PY) tests/bench/bench_load.py; \
	} > var/benchmarks.md
	mv var/benchmarks.md docs/benchmarks.md
	@echo "wrote docs/benchmarks.md"

clean:
	rm -rf $(VENV) var staticfiles
