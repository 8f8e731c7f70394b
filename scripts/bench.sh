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
# The reference engines come from Debian, as a user would install them: dockerd from docker.io (the docker CLI on PATH
# stays the one the machine has), podman. Installed only when missing; docker.io's packaging may start dockerd, which
# the harness does not use (it starts its own under a temporary root).
missing=()
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
command -v podman >/dev/null 2>&1 || missing+=(podman)
if [ ${#missing[@]} -gt 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "bench: apt-get install ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; } || echo "bench: warning: could not install ${missing[*]}" >&2
  systemctl disable --now docker.service docker.socket >/dev/null 2>&1 || true
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
