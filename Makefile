SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ENV ?= dev

.PHONY: demo test lint plan docs venv clean

# The venv is rebuilt only when pyproject.toml changes; later runs reuse it.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m pip check
	@touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/mlops demo

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy infra components mlops

plan: $(STAMP)
	$(BIN)/mlops plan $(ENV)

docs: $(STAMP)
	$(BIN)/python -m mlops.readme

clean:
	rm -rf $(VENV) .venv-* .mlops build *.egg-info
