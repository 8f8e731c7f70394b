#!/usr/bin/env bash
# The main job: set up, start a container on the built-in busybox image, and exec into it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
C="./bin/conex"
$C rm -f -i quickstart >/dev/null
echo "+ conex run -d --name quickstart busybox sleep 1000"
$C run -d --name quickstart busybox sleep 1000
echo "+ conex exec quickstart sh -c 'echo hello from \$(hostname); id'"
$C exec quickstart sh -c 'echo hello from $(hostname); id'
echo "+ conex exec quickstart sh -c 'exit 42'   (exit status follows the command)"
set +e; $C exec quickstart sh -c 'exit 42'; echo "exit status: $?"; set -e
echo "+ conex ps"
$C ps
$C rm -f quickstart >/dev/null
echo "done: conex ran a container and exec'd into it"
