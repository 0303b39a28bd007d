# One-command set-up: `make run` starts the dashboard, `make test` runs every test.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STORE  ?= data/journeyops.duckdb
PORT   ?= 8501
DEMO_ARGS ?=

.PHONY: run test lint bench demo clean screenshots

$(VENV)/.runtime: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt requirements-spark.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -r requirements-spark.txt
	touch $@

$(STORE): | $(VENV)/.runtime
	$(PY) -m core demo --store $(STORE) $(DEMO_ARGS)

demo: $(VENV)/.runtime
	$(PY) -m core demo --store $(STORE)

run: $(VENV)/.runtime $(STORE)
	JOURNEYOPS_STORE=$(STORE) $(VENV)/bin/streamlit run app.py --server.headless true \
		--server.address 127.0.0.1 --server.port $(PORT) --browser.gatherUsageStats false

test: $(VENV)/.dev
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy
	$(PY) -m pytest -q

lint: $(VENV)/.dev
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

bench: $(VENV)/.dev
	$(PY) -m bench

# The README's screenshots from the default demo store (headless Chromium, as admin).
screenshots: $(VENV)/.dev $(STORE)
	$(PY) -m tests.browser.screenshots --store $(STORE) --out docs/screenshots

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache

# The serving API (uvicorn) beside the dashboard: get a token with `python -m core token create --role reader`.
# OpenMP on one thread: a request scores a row or two, and spinning OpenMP workers fight the other requests.
API_PORT ?= 8000

.PHONY: api
api: $(VENV)/.runtime $(STORE)
	JOURNEYOPS_STORE=$(STORE) OMP_NUM_THREADS=1 $(VENV)/bin/uvicorn --factory api.main:create_app \
		--host 127.0.0.1 --port $(API_PORT)
