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

.PHONY: help bootstrap sync tools images lint lint-terraform test test-unit test-integration test-kind demo demo-stream cluster down clean

help: ## Show the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

bootstrap: ## Install uv through pip when it is missing
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet --user "uv==$(UV_VERSION)"

sync: bootstrap ## Create .venv from uv.lock (exactly; fails if the lock is stale)
	@$(UV) sync --locked --quiet

tools: sync ## Build the pinned Go binaries that are missing from ~/.cache/anthill
	@$(ANTHILL) dev tools build

images: tools ## Build the operator, ingest and Spark images that are missing (buildah, local Debian base)
	@$(ANTHILL) dev images build

lint: tools lint-terraform ## ruff, mypy, the import contracts, actionlint and the Terraform checks
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy
	.venv/bin/lint-imports --no-cache
	"$$($(ANTHILL) dev tools path actionlint)" -no-color

# Offline checks of terraform/ (providers cannot be fetched here; `terraform validate` runs in
# .github/workflows/terraform.yml). `tools path` builds OpenTofu and tflint, or installs checkov, when missing.
# tofu fmt reads no CLI configuration: a TF_CLI_CONFIG_FILE naming a missing file would only add a warning.
lint-terraform: sync ## tofu fmt -check, tflint (bundled Terraform rules), checkov (offline)
	env -u TF_CLI_CONFIG_FILE "$$($(ANTHILL) dev tools path tofu)" fmt -check -recursive -diff terraform
	cd terraform && "$$($(CURDIR)/$(ANTHILL) dev tools path tflint)" --recursive --config="$(CURDIR)/terraform/.tflint.hcl" --format=compact
	"$$($(ANTHILL) dev tools path checkov)" --directory terraform --config-file terraform/.checkov.yaml

test: lint images ## Lint, then every test, e2e on a real node included (kind tests skip without Docker)
	.venv/bin/pytest $(PYTEST_ARGS)

test-unit: tools ## Only the fast unit tests (the chart's run the pinned helm)
	.venv/bin/pytest tests/unit $(PYTEST_ARGS)

test-integration: tools ## Only the tests against the real local control plane
	.venv/bin/pytest -m integration $(PYTEST_ARGS)

test-kind: tools ## Only the kind tests (needs Docker)
	.venv/bin/pytest -m kind $(PYTEST_ARGS)

demo: sync ## Ingest the example feeds from the sandbox API, refine them with local Spark, print and report
	@$(ANTHILL) demo

demo-stream: sync ## Stream the example MarketStream from the sandbox for a minute, refining its ticks as they land
	@$(ANTHILL) demo --stream

cluster: tools ## Start the local control plane and print how to reach it
	@$(ANTHILL) dev cluster up

down: sync ## Stop the local control plane started by `make cluster`
	@$(ANTHILL) dev cluster down

clean: ## Remove the virtualenv and caches kept in the repository (not the tool cache)
	rm -rf .venv .mypy_cache .ruff_cache .pytest_cache
