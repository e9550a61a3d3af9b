#!/bin/bash
# OTLP export from an application that never starts the HTTP server
# (tests/e2e/otlp-headless-test.mjs): jobs and logs through GI only.
. "$(dirname "$0")/lib.sh"
require node /usr/bin/python3
/usr/bin/python3 -c 'import gi' 2>/dev/null ||
  fail "python3-gi is missing (scripts/setup.sh --tests)"

E2E_DIR=$(cd "$(dirname "$0")" && pwd)
if [ ! -f "$E2E_DIR/node_modules/@opentelemetry/otlp-transformer/build/src/generated/root.js" ]; then
  echo "SKIP: @opentelemetry/otlp-transformer is not installed (cd tests/e2e && npm ci)"
  exit 77
fi
export GI_TYPELIB_PATH=$APM_BUILD_ROOT/src${GI_TYPELIB_PATH:+:$GI_TYPELIB_PATH}
export LD_LIBRARY_PATH=$APM_BUILD_ROOT/src${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
run_with_deadline 50 node "$E2E_DIR/otlp-headless-test.mjs" >"$WORK/headless.out" 2>&1 ||
  { dump_files "$WORK/headless.out"; fail "the export without a server failed"; }
cat "$WORK/headless.out"
log "PASS"
