#!/usr/bin/env bash
# Installs what `make demo` and `make test` need and this machine lacks; does nothing for what is there.
#   apt: redis-server redis-tools (real Redis nodes, redis-check-rdb)
#   pip: local/requirements.txt (moto[server] for S3, boto3, redis, pytest, cargo-lambda)
#   npm: local/sfn (aws-local-stepfunctions, asl-validator, and Node 22 from npm's `node` package)
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then SUDO="sudo"; fi
PYTHON="${PYTHON:-python3}"

if ! command -v redis-server >/dev/null || ! command -v redis-check-rdb >/dev/null; then
  echo "deps: installing redis-server redis-tools (apt)"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq redis-server redis-tools >/dev/null
fi

if ! "$PYTHON" -c "import moto.server, boto3, redis, pytest" 2>/dev/null || ! command -v cargo-lambda >/dev/null || ! command -v checkov >/dev/null; then
  echo "deps: installing Python tools (pip: local/requirements.txt)"
  "$PYTHON" -m pip install -q --disable-pip-version-check -r local/requirements.txt
  hash -r
fi

if [ ! -x local/sfn/node_modules/.bin/node ] || [ ! -d local/sfn/node_modules/aws-local-stepfunctions ]; then
  echo "deps: installing the local Step Functions runner (npm ci in local/sfn)"
  (cd local/sfn && npm ci --no-audit --no-fund --loglevel=error)
fi

missing=()
for tool in redis-server redis-check-rdb cargo-lambda checkov terraform; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "deps: still missing after install: ${missing[*]} (is pip's script directory on PATH? Terraform >= 1.7 comes from https://developer.hashicorp.com/terraform/install)" >&2
  exit 1
fi
