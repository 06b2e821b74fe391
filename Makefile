# The two commands a newcomer needs: `make up` (run the product) and `make test` (run the suite).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Validators that cannot share the product's environment (check-jsonschema needs a newer click than faust allows).
TOOLS ?= .venv-tools
TOOLS_STAMP := $(TOOLS)/.installed
# The real OpenID provider of the sign-in tests (Node.js, panva/oidc-provider), installed before pytest, never in it.
OIDC_PROVIDER := tests/_support/oidc
NPM_STAMP := $(OIDC_PROVIDER)/node_modules/.installed

.PHONY: install tools lock up simulate test bench lint clean

# Every dependency is pinned: requirements/constraints.txt (product and tests), requirements/tools.txt (tools).
# `make lock` refreshes both from pyproject.toml and requirements/tools.in.
CONSTRAINTS := requirements/constraints.txt
TOOLS_LOCK := requirements/tools.txt

$(STAMP): pyproject.toml $(CONSTRAINTS)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c $(CONSTRAINTS) -e '.[test]'
	touch $(STAMP)

$(TOOLS_STAMP): $(TOOLS_LOCK)
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet -r $(TOOLS_LOCK)
	touch $(TOOLS_STAMP)

$(NPM_STAMP): $(OIDC_PROVIDER)/package.json $(OIDC_PROVIDER)/package-lock.json
	cd $(OIDC_PROVIDER) && npm ci --no-audit --no-fund --loglevel=error
	touch $(NPM_STAMP)

install: $(STAMP)

tools: $(TOOLS_STAMP)

lock: $(TOOLS_STAMP)  ## Re-pin every dependency (then review the diff and run make test)
	$(TOOLS)/bin/pip-compile --quiet --upgrade --extra test --strip-extras --no-emit-index-url \
	  --no-emit-trusted-host --no-emit-find-links --output-file $(CONSTRAINTS) pyproject.toml
	$(TOOLS)/bin/pip-compile --quiet --upgrade --strip-extras --no-emit-index-url \
	  --no-emit-trusted-host --no-emit-find-links --output-file $(TOOLS_LOCK) requirements/tools.in

up: $(STAMP)  ## Start everything on the embedded defaults (Tansu broker, SQLite)
	$(BIN)/hypercare up

simulate: $(STAMP)  ## Same, with the built-in cut-over traffic generator
	$(BIN)/hypercare up --simulate

test: lint $(TOOLS_STAMP) $(NPM_STAMP)  ## Lint gates, then the whole suite against a real broker, PostgreSQL and browser
	$(BIN)/pytest

bench: $(STAMP)  ## Throughput and latency figures of the real pipeline
	$(BIN)/python benchmarks/pipeline.py

lint: $(STAMP)  ## Lint gates: ruff (lint and format), mypy strict, the import-layer contracts
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) $(TOOLS) $(OIDC_PROVIDER)/node_modules var .pytest_cache
