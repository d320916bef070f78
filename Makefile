# Every target bootstraps .venv from the pins when it is missing or older than them.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PATH := $(abspath $(BIN)):$(PATH)
export ANSIBLE_CONFIG := $(abspath ansible.cfg)
SANDBOX_PORT ?= 4566
PYTEST_ARGS ?=

.PHONY: help setup demo test test-unit test-sandbox lint sanity units syntax bench docs lock clean sandbox-start sandbox-stop ee-context

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

# The instrument uploader (uploader/) is installed editable: its console script lands in .venv/bin and
# the tests and a developer run the working tree's code, which the stamp (rebuilt only when the pins or
# the uploader's metadata change) would otherwise leave stale. --no-deps: its pins are in requirements.txt.
$(STAMP): requirements.txt constraints.txt uploader/pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements.txt -c constraints.txt
	$(BIN)/python -m pip install --quiet --no-deps -e ./uploader
	@touch $(STAMP)

setup: $(STAMP) ## Create or refresh .venv from the pinned requirements

demo: $(STAMP) ## Converge the demo tenant on the local sandbox
	@bash scripts/demo.sh

sanity: $(STAMP) ## ansible-test sanity on the built collection (scripts/ansible_test.sh)
	bash scripts/ansible_test.sh sanity

units: $(STAMP) ## ansible-test units on the built collection (its tests/unit)
	bash scripts/ansible_test.sh units

lint: $(STAMP) sanity ## ansible-test sanity, ruff, yamllint, ansible-lint (production profile)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/yamllint --strict .
	$(BIN)/ansible-lint --profile production --offline

syntax: $(STAMP) ## ansible-playbook --syntax-check on every playbook
	@set -e; for p in site.yml playbooks/*.yml playbooks/ops/*.yml; do \
	  [ -e "$$p" ] || continue; \
	  $(BIN)/ansible-playbook --syntax-check -i inventories/demo "$$p" >/dev/null && echo "syntax ok: $$p"; \
	done

test-sandbox: $(STAMP) ## The sandbox's own tests (tests/sandbox)
	$(BIN)/python -m pytest tests/sandbox $(PYTEST_PARALLEL) $(PYTEST_ARGS)

test-unit: $(STAMP) ## Unit tests only
	$(BIN)/python -m pytest tests/unit $(PYTEST_ARGS)

# Two workers, each with its own sandbox; a test file stays on one worker (module-scoped fixtures).
PYTEST_PARALLEL ?= -n 2 --dist loadfile

test: $(STAMP) lint syntax units ## Lint, syntax checks, ansible-test units, unit and integration tests (CI adds test-slow)
	$(BIN)/python -m pytest tests uploader/tests -m "not slow" $(PYTEST_PARALLEL) $(PYTEST_ARGS)

test-slow: $(STAMP) ## The long reliability and molecule cases (CI runs them too)
	$(BIN)/python -m pytest tests uploader/tests -m slow $(PYTEST_PARALLEL) $(PYTEST_ARGS) || [ $$? -eq 5 ]  # 5: none selected

bench: $(STAMP) ## Benchmarks; JSON results in bench/results/
	$(BIN)/python -m bench

docs: $(STAMP) ## Regenerate docs/modules/, docs/roles/ and docs/tenant-definition.md from their sources
	$(BIN)/python -m scripts.docs

lock: ## Regenerate constraints.txt from a fresh venv
	rm -rf /tmp/lock-venv && $(PYTHON) -m venv /tmp/lock-venv
	/tmp/lock-venv/bin/pip install --quiet -r requirements.txt
	{ echo '# Full transitive lock for requirements.txt (pip freeze of a fresh .venv). Used as -c.'; \
	  /tmp/lock-venv/bin/pip freeze; } > constraints.txt

ee-context: $(STAMP) ## The execution environment's build context in context/, from the collection built into dist/
	$(BIN)/ansible-galaxy collection build --force --output-path dist/
	$(BIN)/ansible-builder create -f execution-environment.yml --context context/ --output-filename Containerfile

clean: ## Remove the venv and generated files
	rm -rf $(VENV) .pytest_cache .ruff_cache reports/ dist/ context/
