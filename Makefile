# Anthill developer entry points. `make demo` and `make test` do all set-up on a fresh machine:
# install uv if missing, sync the locked workspace, build the pinned control-plane binaries once.
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
UV_VERSION := 0.13.8
# uv never downloads interpreters here: the machine's Python 3.11+ is the one to use.
export UV_PYTHON_DOWNLOADS := never
UV := $(shell command -v uv 2>/dev/null || echo "$(PYTHON) -m uv")
ANTHILL := .venv/bin/anthill
PYTEST_ARGS ?=

.PHONY: help bootstrap sync tools lint test test-unit test-integration test-kind demo down clean

help: ## Show the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

bootstrap: ## Install uv through pip when it is missing
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet --user "uv==$(UV_VERSION)"

sync: bootstrap ## Create .venv from uv.lock (exactly; fails if the lock is stale)
	@$(UV) sync --locked --quiet

tools: sync ## Build the pinned Go binaries that are missing from ~/.cache/anthill
	@$(ANTHILL) dev tools build

lint: tools ## ruff, mypy and actionlint
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy
	"$$($(ANTHILL) dev tools path actionlint)" -no-color

test: lint ## Lint, then every test (kind tests skip with a reason when Docker is absent)
	.venv/bin/pytest $(PYTEST_ARGS)

test-unit: sync ## Only the fast unit tests
	.venv/bin/pytest tests/unit $(PYTEST_ARGS)

test-integration: tools ## Only the tests against the real local control plane
	.venv/bin/pytest -m integration $(PYTEST_ARGS)

test-kind: tools ## Only the kind tests (needs Docker)
	.venv/bin/pytest -m kind $(PYTEST_ARGS)

demo: tools ## Start the local control plane and print how to reach it
	@$(ANTHILL) dev cluster up

down: sync ## Stop the local control plane started by `make demo`
	@$(ANTHILL) dev cluster down

clean: ## Remove the virtualenv and caches kept in the repository (not the tool cache)
	rm -rf .venv .mypy_cache .ruff_cache .pytest_cache
