#!/bin/bash
# test.sh - set up, build and run every test tier:
#   1. the default suite (gst-check programs, end-to-end, browser, Prometheus,
#      examples, bounded fuzzing and load smoke);
#   2. gst-check programs under valgrind (meson test --setup valgrind
#      --suite memcheck);
#   3. the gst-check programs built with ASan and UBSan (scripts/sanitize.sh);
#   4. GStreamer's own core check suite (Debian 12's gstreamer1.0 source)
#      under GST_TRACERS=apm: every program that passes without a tracer
#      passes with it (scripts/gst-core-checks.sh);
#   5. build and tests in Debian 13 (GStreamer 1.26) and Debian unstable
#      (GStreamer 1.28) roots (scripts/test-roots.sh).
# Ends with the line "N passed, N failed" counted from the test logs, and
# exits non-zero if anything failed.  Extra args go to the first tier's
# 'meson test'.  APM_TIERS=N runs the first N tiers only (default: all).
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --tests || { echo "0 passed, 1 failed"; exit 1; }

logs=()
rm -f build/meson-logs/testlog*.json build-asan/meson-logs/testlog*.json \
  build-gstcore/testlog.json build-roots/*/testlog.json

meson test -C build --print-errorlogs --num-processes 2 "$@"
logs+=(build/meson-logs/testlog.json)

TIERS=${APM_TIERS:-5}
if [ "$TIERS" -ge 2 ]; then
  meson test -C build --setup valgrind --suite memcheck --print-errorlogs \
    --num-processes 2
  logs+=(build/meson-logs/testlog-valgrind.json)
fi
if [ "$TIERS" -ge 3 ]; then
  scripts/sanitize.sh
  logs+=(build-asan/meson-logs/testlog.json)
fi
if [ "$TIERS" -ge 4 ]; then
  scripts/gst-core-checks.sh "$PWD/build/gst-plugin"
  logs+=(build-gstcore/testlog.json)
fi
if [ "$TIERS" -ge 5 ]; then
  scripts/test-roots.sh trixie sid
  logs+=(build-roots/trixie/testlog.json build-roots/sid/testlog.json)
fi

python3 scripts/test-summary.py "${logs[@]}"
