#!/bin/bash
# test.sh - set up, build and run every test tier:
#   1. the default suite (gst-check programs, end-to-end, browser, Prometheus,
#      examples, bounded fuzzing and load smoke);
#   2. gst-check programs under valgrind (meson test --setup valgrind
#      --suite memcheck);
#   3. the gst-check programs built with ASan and UBSan (scripts/sanitize.sh).
# Ends with the line "N passed, N failed" counted from meson's test logs, and
# exits non-zero if anything failed.  Extra args go to the first tier's
# 'meson test'.  APM_TIERS=1 runs the first tier only.
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --tests || { echo "0 passed, 1 failed"; exit 1; }

logs=()
rm -f build/meson-logs/testlog*.json build-asan/meson-logs/testlog*.json

meson test -C build --print-errorlogs --num-processes 2 "$@"
logs+=(build/meson-logs/testlog.json)

if [ "${APM_TIERS:-3}" -ge 2 ]; then
  meson test -C build --setup valgrind --suite memcheck --print-errorlogs \
    --num-processes 2
  logs+=(build/meson-logs/testlog-valgrind.json)
fi
if [ "${APM_TIERS:-3}" -ge 3 ]; then
  scripts/sanitize.sh
  logs+=(build-asan/meson-logs/testlog.json)
fi

python3 scripts/test-summary.py "${logs[@]}"
