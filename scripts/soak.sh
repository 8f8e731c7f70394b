#!/usr/bin/env bash
# `npm run soak`: the long soak and fault run (docs/reliability.md). Builds, then runs test/soak/soak.ts; extra
# arguments override the sizes (e.g. `npm run soak -- --mixed 2000`). Takes 20-40 minutes at full size. Exits 0 when
# every check passed, 1 when one failed (a lost byte, a leak), 2 when the soak could not run.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then echo "soak: run as root (conex runs containers)" >&2; exit 2; fi
# A type error elsewhere in the tree still emits dist/; the soak only needs its own files and the CLI bundle.
node scripts/build.mjs || echo "soak: build reported type errors; running with what it emitted" >&2
[ -f dist/test/soak/soak.js ] || { echo "soak: dist/test/soak/soak.js missing after the build" >&2; exit 2; }
export CONEX_TEST_BIN="$PWD/bin/conex"
exec node dist/test/soak/soak.js "$@"
