#!/bin/bash
# sanitize.sh - build with AddressSanitizer and UndefinedBehaviorSanitizer
# into build-asan/ and run the gst-check suites there.  Extra args go to
# 'meson test'.
set -uo pipefail
cd "$(dirname "$0")/.."

if [ ! -f build-asan/build.ninja ]; then
  meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false \
    -Dintrospection=disabled -Dbuildtype=debug >/dev/null || exit 1
fi
ninja -C build-asan >/dev/null || exit 1

# the plugin scanner is not instrumented: load plugins in-process (the
# first test to run builds the registry, which is slow under ASan)
export GST_REGISTRY_FORK=no
export GST_REGISTRY_1_0=$PWD/build-asan/tests/registry-asan.bin
export ASAN_OPTIONS=fast_unwind_on_malloc=0:detect_leaks=1:abort_on_error=0
export LSAN_OPTIONS=suppressions=$PWD/tests/asan.supp:print_suppressions=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export GIO_USE_PROXY_RESOLVER=dummy CK_TIMEOUT_MULTIPLIER=4
meson test -C build-asan --suite check --no-suite unsanitized --print-errorlogs --num-processes 2 \
  --timeout-multiplier 4 "$@"
