#!/bin/bash
# test.sh - set up, build and run the whole test suite.
# Ends with the line "N passed, N failed" counted from meson's test log, and
# exits non-zero if anything failed.  Extra args go to 'meson test'.
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --tests || { echo "0 passed, 1 failed"; exit 1; }

meson test -C build --print-errorlogs --num-processes 2 "$@"
rc=$?
python3 scripts/test-summary.py build/meson-logs/testlog.json
src=$?
[ $rc -eq 0 ] && [ $src -eq 0 ]
