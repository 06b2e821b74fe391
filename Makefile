# The two commands a newcomer needs: `make up` (run the product) and `make test` (run the suite).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Validators that cannot share the product's environment (check-jsonschema needs a newer click than faust allows).
TOOLS ?= .venv-tools
TOOLS_STAMP := $(TOOLS)/.installed

.PHONY: install tools up simulate test bench lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

$(TOOLS_STAMP):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet kubernetes-validate check-jsonschema
	touch $(TOOLS_STAMP)

install: $(STAMP)

tools: $(TOOLS_STAMP)

up: $(STAMP)  ## Start everything on the embedded defaults (Tansu broker, SQLite)
	$(BIN)/hypercare up

simulate: $(STAMP)  ## Same, with the built-in cut-over traffic generator
	$(BIN)/hypercare up --simulate

test: lint $(TOOLS_STAMP)  ## Lint gates, then the whole suite against a real broker, PostgreSQL and browser
	$(BIN)/pytest

bench: $(STAMP)  ## Throughput and latency figures of the real pipeline
	$(BIN)/python benchmarks/pipeline.py

lint: $(STAMP)  ## Lint gates: ruff (lint and format), mypy strict, the import-layer contracts
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) $(TOOLS) var .pytest_cache
