#!/usr/bin/env bash
# Installs what `make demo` (default) and `make test` (--checks) need and this machine lacks; does nothing for what
# is there. Python tools go into project-local virtual environments, never into the machine's Python:
#   apt:  redis-server redis-tools (real Redis nodes, redis-check-rdb); python3-venv only if venv is missing
#   .venv:          local/tools/requirements.txt (moto[server] for S3, boto3, redis, pytest, cargo-lambda)
#   npm:            local/standins/sfn (aws-local-stepfunctions, @aws-sdk/client-s3 for its Distributed Maps, asl-validator, and Node 22 from npm's `node` package)
# --checks adds:
#   .venv-checkov:  local/tools/requirements-checkov.txt (checkov)
#   cargo:          cargo-machete (unused-dependency check)
#   apt:            qemu-user gcc-aarch64-linux-gnu libc6-dev-arm64-cross, and rustup's aarch64-unknown-linux-gnu
#                   target (`make test-arm64`: rdb-check's tests on aarch64, Lambda's CPU, under qemu-user)
#   and requires Terraform >= 1.11 (not installed here: https://developer.hashicorp.com/terraform/install)
# --cargo-lambda-only: just cargo-lambda (for `make build`), into .venv.
set -euo pipefail
cd "$(dirname "$0")/../.."
SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then SUDO="sudo"; fi
SYSTEM_PYTHON="${SYSTEM_PYTHON:-python3}"
mode="${1:-demo}"

apt_install() {
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
}

# A virtual environment at $1 with the requirements file $2 installed.
venv() {
  local dir="$1" requirements="$2"
  if [ ! -x "$dir/bin/python" ]; then
    echo "deps: creating $dir (project-local Python environment)"
    if ! "$SYSTEM_PYTHON" -m venv "$dir" 2>/dev/null; then
      rm -rf "$dir"
      echo "deps: installing python3-venv (apt)"
      apt_install python3-venv
      "$SYSTEM_PYTHON" -m venv "$dir"
    fi
  fi
  local stamp="$dir/.requirements"
  if [ ! -f "$stamp" ] || ! cmp -s "$requirements" "$stamp"; then
    echo "deps: installing $requirements into $dir"
    "$dir/bin/python" -m pip install -q --disable-pip-version-check -r "$requirements"
    cp "$requirements" "$stamp"
  fi
}

if [ "$mode" = "--cargo-lambda-only" ]; then
  if ! command -v cargo-lambda >/dev/null && [ ! -x .venv/bin/cargo-lambda ]; then
    [ -x .venv/bin/python ] || "$SYSTEM_PYTHON" -m venv .venv
    echo "deps: installing cargo-lambda into .venv"
    .venv/bin/python -m pip install -q --disable-pip-version-check "$(grep '^cargo-lambda' local/tools/requirements.txt)"
  fi
  exit 0
fi

if ! command -v redis-server >/dev/null || ! command -v redis-check-rdb >/dev/null; then
  echo "deps: installing redis-server redis-tools (apt)"
  apt_install redis-server redis-tools
fi

venv .venv local/tools/requirements.txt

sfn=local/standins/sfn
if [ ! -x $sfn/node_modules/.bin/node ] || [ ! -d $sfn/node_modules/aws-local-stepfunctions ] || [ ! -d $sfn/node_modules/@aws-sdk/client-s3 ]; then
  echo "deps: installing the local Step Functions runner (npm ci in $sfn)"
  (cd $sfn && npm ci --no-audit --no-fund --loglevel=error)
fi

tools=(redis-server redis-check-rdb)
if [ "$mode" = "--checks" ]; then
  venv .venv-checkov local/tools/requirements-checkov.txt
  if ! command -v cargo-machete >/dev/null; then
    echo "deps: installing cargo-machete (cargo install)"
    cargo install -q cargo-machete --version 0.9.2 --locked
  fi
  if ! command -v qemu-aarch64 >/dev/null || ! command -v aarch64-linux-gnu-gcc >/dev/null \
    || [ ! -e /usr/aarch64-linux-gnu/lib/libc.so ]; then
    echo "deps: installing qemu-user gcc-aarch64-linux-gnu libc6-dev-arm64-cross (apt)"
    # Without recommends: qemu-user-binfmt would make the machine run every aarch64 binary through qemu; the
    # Makefile names qemu-aarch64 as cargo's runner instead.
    apt_install --no-install-recommends qemu-user gcc-aarch64-linux-gnu libc6-dev-arm64-cross
  fi
  # The toolchain is the one rust-toolchain.toml pins (rustup reads it from here).
  if ! rustup target list --installed | grep -x aarch64-unknown-linux-gnu >/dev/null; then
    echo "deps: adding the aarch64-unknown-linux-gnu target (rustup)"
    rustup target add aarch64-unknown-linux-gnu
  fi
  tools+=(terraform cargo-machete qemu-aarch64 aarch64-linux-gnu-gcc)
fi

missing=()
for tool in "${tools[@]}"; do command -v "$tool" >/dev/null || missing+=("$tool"); done
[ -x .venv/bin/cargo-lambda ] || command -v cargo-lambda >/dev/null || missing+=(cargo-lambda)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "deps: still missing after install: ${missing[*]} (Terraform >= 1.11 comes from https://developer.hashicorp.com/terraform/install)" >&2
  exit 1
fi
if [ "$mode" = "--checks" ]; then
  # The module and its tests need Terraform 1.11 (terraform/versions.tf).
  tf_version=$(terraform version -json | "$SYSTEM_PYTHON" -c 'import json, sys; print(json.load(sys.stdin)["terraform_version"])')
  if ! printf '1.11.0\n%s\n' "$tf_version" | sort -V -C; then
    echo "deps: Terraform $tf_version is too old: the module and its tests need >= 1.11 (https://developer.hashicorp.com/terraform/install)" >&2
    exit 1
  fi
fi
