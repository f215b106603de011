SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ENV ?= dev

.PHONY: demo test test-all lint plan docs venv venv-policy venv-serving venv-scan scan clean

# The venv is rebuilt only when pyproject.toml changes; later runs reuse it.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m pip check
	@touch $(STAMP)

venv: $(STAMP)

# The policy pack's own venv (pulumi-policy needs protobuf 5, kfp needs 6: policies/README.md).
POLICY_VENV := .venv-policy
POLICY_STAMP := $(POLICY_VENV)/.installed

$(POLICY_STAMP): policies/requirements.txt
	@test -x $(POLICY_VENV)/bin/python || $(PYTHON) -m venv $(POLICY_VENV)
	$(POLICY_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(POLICY_VENV)/bin/python -m pip install --quiet -r policies/requirements.txt 'pytest>=8,<10'
	$(POLICY_VENV)/bin/python -m pip check
	@touch $(POLICY_STAMP)

venv-policy: $(POLICY_STAMP)

# Local model serving's own venv (MLServer pins FastAPI/Starlette below MLflow's; its ML
# libraries are pinned to the main venv's). `mlops local up` also creates it on first use.
SERVING_VENV := .venv-serving
SERVING_STAMP := $(SERVING_VENV)/.installed

$(SERVING_STAMP): mlops/local/serving-requirements.txt $(STAMP)
	$(BIN)/python -m mlops.local.serving_venv $(SERVING_VENV)

venv-serving: $(SERVING_STAMP)

# The scanner's own venv: checkov pins old boto3 and much else (scan/requirements.txt).
SCAN_VENV := .venv-scan
SCAN_STAMP := $(SCAN_VENV)/.installed

$(SCAN_STAMP): scan/requirements.txt
	@test -x $(SCAN_VENV)/bin/python || $(PYTHON) -m venv $(SCAN_VENV)
	$(SCAN_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(SCAN_VENV)/bin/python -m pip install --quiet -r scan/requirements.txt
	$(SCAN_VENV)/bin/python -m pip check
	@touch $(SCAN_STAMP)

venv-scan: $(SCAN_STAMP)

# Plans carry the policy results, so everything that plans needs the pack's venv.
demo: $(STAMP) $(POLICY_STAMP)
	$(BIN)/mlops demo

# The everyday tier: every module, every real-server integration at least once (<= 5 min
# on 2 cores). test-all adds the long runs: end-to-end pipelines on both backends,
# concurrent promotions across processes, servers killed and restarted. Both use two
# workers; the tests that need real servers share one (tests/conftest.py).
PYTEST := $(BIN)/python -m pytest -q -n 2 --dist loadgroup

test: $(STAMP) $(POLICY_STAMP) $(SERVING_STAMP) $(SCAN_STAMP)
	$(PYTEST) -m "not long"
	$(POLICY_VENV)/bin/python -m pytest -q tests/policies

test-all: $(STAMP) $(POLICY_STAMP) $(SERVING_STAMP) $(SCAN_STAMP)
	$(PYTEST)
	$(POLICY_VENV)/bin/python -m pytest -q tests/policies

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/mypy infra mlops mlops_runtime pipelines

plan: $(STAMP) $(POLICY_STAMP)
	$(BIN)/mlops plan $(ENV)

# checkov on every environment's plan (as Terraform plan JSON) and manifests (docs/scan.md)
scan: $(STAMP) $(POLICY_STAMP) $(SCAN_STAMP)
	$(BIN)/mlops scan dev staging prod

docs: $(STAMP) $(POLICY_STAMP)
	$(BIN)/python -m mlops.readme

clean:
	rm -rf $(VENV) .venv-* .mlops build *.egg-info
