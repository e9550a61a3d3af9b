#!/bin/bash
# What belongs to a pipeline run is exported with it over OTLP
# (tests/e2e/otlp-run-context-test.mjs): an alert firing for the pipeline
# is an event of the run's span; bridged GStreamer debug lines of the run
# carry its trace and span ids.
. "$(dirname "$0")/lib.sh"
require node gst-launch-1.0

E2E_DIR=$(cd "$(dirname "$0")" && pwd)
if [ ! -f "$E2E_DIR/node_modules/@opentelemetry/otlp-transformer/build/src/generated/root.js" ]; then
  echo "SKIP: @opentelemetry/otlp-transformer is not installed (cd tests/e2e && npm ci)"
  exit 77
fi
run_with_deadline 50 node "$E2E_DIR/otlp-run-context-test.mjs" >"$WORK/context.out" 2>&1 ||
  { dump_files "$WORK/context.out"; fail "the run context check failed"; }
cat "$WORK/context.out"
log "PASS"
