#!/usr/bin/env bash
# Idempotent set-up for a fresh Debian 12 machine, as root: the real parts conex runs on (conmon, runc, crun,
# busybox-static for the built-in image), the clients the tests use, npm dependencies, the build, and `conex` on
# PATH. Safe to run again: each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }

if [ "$(id -u)" != 0 ]; then echo "setup: run as root (conex runs containers)" >&2; exit 1; fi

PKGS=(conmon runc crun busybox-static attr gcc libc6-dev skopeo podman python3-pytest chromium asciinema)
missing=()
for p in "${PKGS[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done
if ! command -v docker >/dev/null 2>&1; then missing+=(docker.io); fi
if [ ${#missing[@]} -gt 0 ]; then
  log "apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# docker.io's packaging may start dockerd; conex does not need it (the benchmark starts its own).
systemctl disable --now docker.service docker.socket >/dev/null 2>&1 || true

python3 -c 'import docker, pytest' 2>/dev/null || { log "pip install docker pytest"; python3 -m pip install -q docker pytest || apt-get install -y -qq python3-docker; }

stamp=node_modules/.conex-lock
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  log "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json "$stamp"
fi

log "build"
node scripts/build.mjs

ln -sf "$PWD/bin/conex" /usr/local/bin/conex
log "ready: $(./bin/conex --version)"
