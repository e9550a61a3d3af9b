#!/bin/bash
# fuzz.sh - build the libFuzzer harnesses (clang, ASan+UBSan) into
# build-fuzz/ and run each for SECONDS (default 20) from its seed corpus.
# Usage: scripts/fuzz.sh [SECONDS]      Longer runs: scripts/fuzz.sh 3600
# New inputs found are kept in build-fuzz/corpus/<name>/; crashes are
# written to build-fuzz/ and make this script fail.
set -uo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${1:-20}

if [ ! -f build-fuzz/build.ninja ]; then
  CC=clang meson setup build-fuzz -Dfuzzing=enabled -Dtests=disabled \
    -Dintrospection=disabled -Db_sanitize=address,undefined -Db_lundef=false \
    -Dc_args=-fsanitize=fuzzer-no-link -Dbuildtype=debugoptimized >/dev/null || exit 1
fi
ninja -C build-fuzz >/dev/null || exit 1

export ASAN_OPTIONS=detect_leaks=1:fast_unwind_on_malloc=0
export LSAN_OPTIONS=suppressions=$PWD/tests/fuzz/lsan.supp:print_suppressions=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export GST_REGISTRY=$PWD/build-fuzz/registry.bin GST_REGISTRY_FORK=no
failed=0
for name in params config http ws traceparent state otel otlp-answer; do
  mkdir -p "build-fuzz/corpus/$name"
  if ! (cd build-fuzz && "./tests/fuzz/fuzz-$name" -max_total_time="$SECONDS_EACH" \
        -rss_limit_mb=2048 -timeout=10 -print_final_stats=0 \
        "corpus/$name" "../tests/fuzz/corpus/$name" >"fuzz-$name.log" 2>&1); then
    echo "fuzz-$name: FAILED (see build-fuzz/fuzz-$name.log)"
    tail -30 "build-fuzz/fuzz-$name.log"
    failed=1
  else
    echo "fuzz-$name: ok ($(ls "build-fuzz/corpus/$name" | wc -l) corpus inputs after ${SECONDS_EACH}s)"
  fi
done
exit $failed
