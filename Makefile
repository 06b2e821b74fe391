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

test: $(STAMP) $(TOOLS_STAMP)  ## The whole suite, against a real broker, a real PostgreSQL and a real browser
	$(BIN)/pytest

bench: $(STAMP)  ## Throughput and latency figures of the real pipeline
	$(BIN)/python benchmarks/pipeline.py

lint: $(STAMP)  ## Static typing of the product code
	$(BIN)/mypy hypercare services streams

clean:
	rm -rf $(VENV) $(TOOLS) var .pytest_cache
