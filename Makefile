# elasticache-backup — see README.md. `make` lists the targets.
.DEFAULT_GOAL := help
SHELL := /bin/bash

ARCH ?= arm64
PYTHON ?= python3
CARGO ?= cargo
FUNCTIONS := create-snapshot check-snapshot export-snapshot check-export delete-snapshot
ASL := terraform/backup.asl.json
SFN_NODE := local/sfn/node_modules/.bin/node

.PHONY: help deps demo test unit e2e validate-asl fmt lint check build clean

help: ## List the targets
	@grep -hE '^[a-zA-Z0-9_%-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  %-14s %s\n", $$1, $$2}'

deps: ## Install what is missing: redis-server/redis-tools (apt), Python tools (pip), local/sfn (npm)
	@bash local/install-deps.sh

demo: deps ## Back up ~100,000 keys from a local primary + replica through the real state machine, then verify the backup
	$(CARGO) build --workspace --bins
	$(PYTHON) local/demo.py

test: deps lint unit validate-asl e2e ## Everything CI runs: fmt, clippy, Rust unit tests, asl-validator, emulator fidelity, end to end

unit: ## Rust unit tests (handlers against fakes, adapters against aws-smithy-mocks)
	$(CARGO) test --workspace

e2e: deps ## Emulator fidelity (boto3) and end-to-end tests of the state machine on the local stack
	$(CARGO) build --workspace --bins
	$(PYTHON) -m pytest local/tests -v

validate-asl: deps ## Validate terraform/backup.asl.json with asl-validator
	$(SFN_NODE) local/sfn/node_modules/.bin/asl-validator --json-path $(ASL)

fmt: ## Format the Rust code
	$(CARGO) fmt --all

lint: ## cargo fmt --check and clippy with warnings as errors
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

check: lint validate-asl ## The static gates

build: deps ## Release zips for Lambda (provided.al2023; ARCH=arm64 by default): target/lambda/<function>/bootstrap.zip
	rustup target add $(if $(filter arm64,$(ARCH)),aarch64,x86_64)-unknown-linux-gnu
	cargo lambda build --release --$(ARCH) --output-format zip $(addprefix -p ,$(FUNCTIONS))

clean: ## Remove build output and the npm install
	$(CARGO) clean
	rm -rf local/sfn/node_modules
