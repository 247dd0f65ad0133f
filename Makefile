# elasticache-backup — see README.md. `make` lists the targets.
.DEFAULT_GOAL := help
SHELL := /bin/bash

ARCH ?= arm64
CARGO ?= cargo
# Python tools live in project-local virtual environments (`make deps`), never in the machine's Python.
SYSTEM_PYTHON ?= python3
VENV := .venv
PYTHON := $(VENV)/bin/python
CHECKOV := .venv-checkov/bin/checkov
export SYSTEM_PYTHON
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
# Every crate under functions/ is a Lambda (libraries live in crates/).
FUNCTIONS := $(notdir $(patsubst %/,%,$(dir $(wildcard functions/*/Cargo.toml))))
ASL := $(wildcard terraform/*.asl.json)
SFN_DIR := local/standins/sfn
SFN_NODE := $(SFN_DIR)/node_modules/.bin/node
# cargo-lambda's flag and rustup's target for ARCH (arm64 | x86_64).
LAMBDA_ARCH_FLAG := $(if $(filter x86_64,$(ARCH)),--x86-64,$(if $(filter arm64,$(ARCH)),--arm64,$(error ARCH must be arm64 or x86_64, got $(ARCH))))
RUST_TARGET := $(if $(filter x86_64,$(ARCH)),x86_64,aarch64)-unknown-linux-gnu
EVENT ?= $(firstword $(wildcard events/$*/*.json))

TF_DIR ?= terraform/examples/complete
# Offline, Terraform uses a provider mirror (`-plugin-dir`, the directory holding registry.terraform.io/): set
# TF_PLUGIN_DIR, or let this find one on the machine; with none, `terraform init` uses the registry.
ifeq ($(origin TF_PLUGIN_DIR), undefined)
TF_PLUGIN_DIR := $(shell d=$$(find / -maxdepth 5 -type d -path '*registry.terraform.io/hashicorp/aws' 2>/dev/null | head -n 1); [ -n "$$d" ] && dirname "$$(dirname "$$(dirname "$$d")")")
endif
TF_INIT := terraform init -input=false -backend=false $(if $(TF_PLUGIN_DIR),-plugin-dir=$(TF_PLUGIN_DIR))

.PHONY: shape docs publish-artifacts bench bench-cost fuzz help deps deps-checks demo demo-serverless test unit test-arm64 e2e validate-asl fmt lint contracts machete check build clean tf-fmt tf-validate tf-test checkov plan deploy

help: ## List the targets
	@grep -hE '^[a-zA-Z0-9_%-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  %-14s %s\n", $$1, $$2}'

deps: ## Install what the demo needs: redis-server/redis-tools (apt), Python tools into .venv, local/standins/sfn (npm)
	@bash local/tools/install-deps.sh

deps-checks: ## Also what make test needs: checkov into .venv-checkov, cargo-machete, qemu-user and the aarch64 cross toolchain; checks Terraform is there
	@bash local/tools/install-deps.sh --checks

demo: deps ## Back up ~100,000 keys through the real state machine, prove it sound, restore it, put back a lost prefix (CLUSTER_MODE=enabled: 3 shards)
	$(CARGO) build --workspace --bins
	$(PYTHON) local/harness/demo.py $(if $(filter enabled,$(CLUSTER_MODE)),--cluster-mode-enabled)

demo-serverless: deps ## Back up an ElastiCache Serverless cache (~100,000 keys) through the real state machine and prove it sound
	$(CARGO) build --workspace --bins
	$(PYTHON) local/harness/demo_serverless.py

test: deps-checks check unit test-arm64 e2e ## Everything CI runs: the static gates, unit tests (also on aarch64), fidelity, end to end

unit: ## Rust unit tests (handlers against fakes, adapters against aws-smithy-mocks), and local-s3's
	$(CARGO) test --workspace
	$(CARGO) test $(LOCAL_S3)

# Lambda runs the functions on arm64 (Graviton), where rdb-check's CRC-64 (crc-fast) and SHA-256 (sha2) take other
# SIMD paths than on x86-64. Cargo builds for the target in target/aarch64-unknown-linux-gnu/, apart from the host's
# artifacts; the per-target variables point it at the cross linker and at qemu as the runner, for this command only.
# Without `s3` (the AWS SDK is still built for aarch64, as rdb-check's dev-dependency: most of the cold build's ~3
# minutes; the tests take ~1.5 under qemu). qemu's `max` CPU has SHA3, so crc-fast folds with EOR3 as on Graviton 3
# and 4; `neoverse-n1` (Graviton 2) has none: the digest tests run again on it.
ARM64_CARGO_TEST := CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc \
	CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="qemu-aarch64 -L /usr/aarch64-linux-gnu" \
	$(CARGO) test -p rdb-check --target aarch64-unknown-linux-gnu --no-default-features --features cli

test-arm64: deps-checks ## rdb-check's tests on aarch64 under qemu-user (Graviton's CRC-64 and SHA-256 paths)
	QEMU_CPU=max RDB_CHECK_CRC_PATH=aarch64-neon-pmull-sha3 $(ARM64_CARGO_TEST)
	QEMU_CPU=neoverse-n1 RDB_CHECK_CRC_PATH=aarch64-neon-pmull $(ARM64_CARGO_TEST) --test fixture_digests

e2e: deps ## Emulator fidelity (boto3) and end-to-end tests of the state machine on the local stack
	$(CARGO) build --workspace --bins
	$(PYTHON) -m pytest local/tests -v

validate-asl: deps ## Validate every terraform/*.asl.json with asl-validator
	$(SFN_NODE) $(SFN_DIR)/node_modules/.bin/asl-validator $(addprefix --json-path ,$(ASL))

docs: deps ## Regenerate the module's inputs/outputs tables (terraform/README.md) and the state machine diagrams (docs/architecture.md)
	$(PYTHON) local/tools/docs.py

fmt: ## Format the Rust code
	$(CARGO) fmt --all

# local/standins/s3-fs is a workspace of its own (see its Cargo.toml): checked here too, into the same target directory.
LOCAL_S3 := --manifest-path local/standins/s3-fs/Cargo.toml --target-dir "$$($(CARGO) metadata --format-version 1 --no-deps | $(SYSTEM_PYTHON) -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"

lint: ## cargo fmt --check and clippy with warnings as errors (the workspace and local/standins/s3-fs)
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) fmt --manifest-path local/standins/s3-fs/Cargo.toml -- --check
	$(CARGO) clippy $(LOCAL_S3) --all-targets -- -D warnings

contracts: ## Contract tests: ASL error names, Retry and Choice values against the Rust enums
	$(CARGO) test -p backup-core --test contracts

machete: deps-checks ## No unused dependencies (cargo machete)
	cargo machete

shape: deps ## No import loop inside any crate; no AWS SDK, Lambda runtime or client in backup-core (local/tools/shape.py)
	$(PYTHON) local/tools/shape.py

check: deps-checks lint machete shape contracts validate-asl terraform-checks ## The static gates (no servers)

terraform-checks: tf-fmt tf-validate tf-test checkov ## terraform fmt/validate/test, checkov, and the consistency test
	$(PYTHON) -m pytest local/checks -v

tf-fmt: ## terraform fmt -check
	terraform fmt -check -recursive terraform

tf-validate: ## terraform init (offline with TF_PLUGIN_DIR) and validate the module through the example (it needs a caller for aws.dr)
	cd $(TF_DIR) && $(TF_INIT) >/dev/null && terraform validate

tf-test: ## terraform test (mock provider: no credentials, no network)
	cd terraform && $(TF_INIT) >/dev/null && terraform test

checkov: deps-checks ## checkov on terraform/ (offline)
	BC_SKIP_MAPPING=TRUE $(CHECKOV) -d terraform --framework terraform --skip-path terraform/tests --quiet --compact

plan: ## terraform plan in TF_DIR (default examples/complete); TF_OFFLINE=1 plans with no AWS credentials or network
	@set -e; cd $(TF_DIR); trap 'rm -f zz_offline_override.tf' EXIT; \
	if [ -n "$(TF_OFFLINE)" ]; then for alias in "" $$(sed -n 's/^  alias *= *"\([a-z0-9_]*\)"$$/\1/p' *.tf); do printf '%s\n' \
	  'provider "aws" {' $${alias:+"  alias = \"$$alias\""} '  access_key = "offline"' '  secret_key = "offline"' \
	  '  skip_credentials_validation = true' '  skip_requesting_account_id = true' '  skip_metadata_api_check = true' '}'; \
	  done > zz_offline_override.tf; fi; \
	$(TF_INIT) >/dev/null; \
	terraform plan -input=false -out=backup.tfplan $(if $(TF_OFFLINE),-var account_id=123456789012)

deploy: build ## Build the zips, then terraform apply in TF_DIR (with architecture = ARCH)
	cd $(TF_DIR) && terraform init -input=false && TF_VAR_architecture=$(ARCH) terraform apply -input=false

bench: deps ## rdb-check vs redis-check-rdb on ~100 MB and ~1 GB RDB files (throughput, peak RSS); VerifyShard through the local S3 (local-s3 vs moto); ecb keys (RDB_CLI=rdb-cli beside it) and ecb restore-keys
	command -v /usr/bin/time >/dev/null || (sudo -n true 2>/dev/null && sudo apt-get install -y -qq time || apt-get install -y -qq time)
	$(CARGO) build --release -p rdb-check
	$(CARGO) build --release -p ecb
	$(PYTHON) local/tools/bench.py

bench-cost: ## What waiting costs per backup (10-min snapshot + 3-min export): transitions, completion latency, GB-s, with and without history
	$(CARGO) run -q -p backup-core --example bench_cost

fuzz: ## A short cargo-fuzz run of the RDB parser, seeded with the fixtures (nightly; installs cargo-fuzz; not in CI)
	command -v cargo-fuzz >/dev/null || $(CARGO) install cargo-fuzz --locked
	mkdir -p crates/rdb-check/fuzz/corpus/check
	cd crates/rdb-check && $(CARGO) +nightly fuzz run check fuzz/corpus/check tests/fixtures -- -max_total_time=$${FUZZ_SECONDS:-60} -max_len=65536

build: ## Release zips for Lambda (provided.al2023; ARCH=arm64 or x86_64): target/lambda/<function>/bootstrap.zip
	@bash local/tools/install-deps.sh --cargo-lambda-only
	rustup target add $(RUST_TARGET)
	cargo lambda build --release $(LAMBDA_ARCH_FLAG) --output-format zip $(addprefix -p ,$(FUNCTIONS))

PREFIX ?= elasticache-backup/
publish-artifacts: deps ## Upload the zips of `make build` and their hashes for artifacts_s3_bucket: BUCKET=<bucket> [PREFIX=elasticache-backup/]
	@test -n "$(BUCKET)" || { echo "publish-artifacts: BUCKET=<bucket> is required (the module's artifacts_s3_bucket)" >&2; exit 2; }
	$(PYTHON) local/tools/publish_artifacts.py --bucket "$(BUCKET)" --prefix "$(PREFIX)"

INVOKE_PORT ?= 9000
invoke-%: ## cargo lambda invoke <function> with EVENT=<file> (default: the first of events/<function>/); needs `cargo lambda watch` on INVOKE_PORT
	cargo lambda invoke $* --invoke-address 127.0.0.1 --invoke-port $(INVOKE_PORT) --data-file $(EVENT)

clean: ## Remove build output, the npm install and the Python environments
	$(CARGO) clean
	rm -rf $(SFN_DIR)/node_modules $(VENV) .venv-checkov
