# 一表通 — `make run` serves the demo district, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
BENCH_STAMP := $(VENV)/.bench-stamp
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: install run test bench lint

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# The benchmarks' own tools (gunicorn, aiohttp, psutil, py-spy for the load test), on top of dev.
$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install -q -e '.[dev,bench]'
	touch $(BENCH_STAMP)

# The demo's administrator password is the public demo password; production runs `yibiaotong init` itself.
DEMO_ADMIN_PASSWORD ?= yibiaotong

run: install
	YIBIAOTONG_ADMIN_PASSWORD=$(DEMO_ADMIN_PASSWORD) $(BIN)/yibiaotong init --quiet
	$(BIN)/yibiaotong seed --scale demo --if-empty
	$(BIN)/yibiaotong serve --host $(HOST) --port $(PORT)

test: install lint
	$(BIN)/yibiaotong check-specs
	$(BIN)/pytest -q

bench: $(BENCH_STAMP)
	$(BIN)/python bench/run.py

# Lint and formatting: both must pass; `ruff format builder runtime web tests bench` fixes the second.
lint: install
	$(BIN)/ruff check builder runtime web tests bench
	$(BIN)/ruff format --check builder runtime web tests bench
