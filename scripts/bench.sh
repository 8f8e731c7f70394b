#!/usr/bin/env bash
# Benchmark harness entry point: `npm run bench [-- --quick]`. Runs bench/run.mjs (plain Node ESM, no build needed
# for the harness itself; conex rows need `npm run build` first). The harness tears everything down itself; the trap
# is a second line of defence for when node is killed hard (it wipes only the harness's own temp dir).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
  echo "bench: must run as root (it starts dockerd, podman and runc containers)" >&2
  exit 1
fi
for tool in node dockerd docker podman runc tar umount; do
  command -v "$tool" >/dev/null 2>&1 || echo "bench: warning: $tool not found; rows that need it will be unavailable" >&2
done

BENCH_DIR="${CONEX_BENCH_DIR:-/tmp/conex-bench}"
for a in "$@"; do
  case "$a" in --dir=*) BENCH_DIR="${a#--dir=}" ;; esac
done
export BENCH_COMMAND="bash scripts/bench.sh${*:+ $*}"

cleanup() {
  if [ -d "$BENCH_DIR" ]; then
    node bench/run.mjs --cleanup-only --dir="$BENCH_DIR" || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

node bench/run.mjs "$@"
