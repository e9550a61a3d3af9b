#!/bin/bash
# OTLP export end to end in both encodings (tests/e2e/otlp-test.mjs): spans
# of runs with their children and events, log records with trace and span
# ids, decoded by OpenTelemetry's own definitions (npm
# @opentelemetry/otlp-transformer 0.57.x, installed by scripts/setup.sh).
. "$(dirname "$0")/lib.sh"
require node gst-launch-1.0

E2E_DIR=$(cd "$(dirname "$0")" && pwd)
if [ ! -f "$E2E_DIR/node_modules/@opentelemetry/otlp-transformer/build/src/generated/root.js" ]; then
  echo "SKIP: @opentelemetry/otlp-transformer is not installed (cd tests/e2e && npm ci)"
  exit 77
fi
run_with_deadline 50 node "$E2E_DIR/otlp-test.mjs" >"$WORK/otlp.out" 2>&1 ||
  { dump_files "$WORK/otlp.out"; fail "the OTLP export check failed"; }
cat "$WORK/otlp.out"
log "PASS"
