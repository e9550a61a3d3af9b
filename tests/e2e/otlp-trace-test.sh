#!/bin/bash
# "Two processes, one trace" (tests/e2e/otlp-trace-test.mjs): a Python job
# (GI) and the gst-launch-1.0 transcode it starts with its TRACEPARENT
# export one trace to the test OTLP collector.
. "$(dirname "$0")/lib.sh"
require node gst-launch-1.0 /usr/bin/python3
/usr/bin/python3 -c 'import gi' 2>/dev/null ||
  fail "python3-gi is missing (scripts/setup.sh --tests)"

E2E_DIR=$(cd "$(dirname "$0")" && pwd)
if [ ! -f "$E2E_DIR/node_modules/@opentelemetry/otlp-transformer/build/src/generated/root.js" ]; then
  echo "SKIP: @opentelemetry/otlp-transformer is not installed (cd tests/e2e && npm ci)"
  exit 77
fi
export GI_TYPELIB_PATH=$APM_BUILD_ROOT/src${GI_TYPELIB_PATH:+:$GI_TYPELIB_PATH}
export LD_LIBRARY_PATH=$APM_BUILD_ROOT/src${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
run_with_deadline 50 node "$E2E_DIR/otlp-trace-test.mjs" >"$WORK/trace.out" 2>&1 ||
  { dump_files "$WORK/trace.out"; fail "the two-process trace check failed"; }
cat "$WORK/trace.out"
log "PASS"
