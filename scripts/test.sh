#!/usr/bin/env bash
# The whole test suite: set up, then unit tests (beside the code), integration tests (real conmon + runtime) and
# API tests (docker CLI, docker-py, dockerode, podman --remote). node's test runner prints the summary CI reads.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export CONEX_TEST_BIN="$PWD/bin/conex"
shopt -s globstar nullglob
files=(dist/src/**/*.test.js dist/test/**/*.test.js)
exec node --test --test-concurrency="${TEST_CONCURRENCY:-2}" --test-timeout=600000 "${files[@]}"
