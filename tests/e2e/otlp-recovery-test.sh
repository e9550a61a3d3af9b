#!/bin/bash
# Automated recovery in an exported trace (tests/e2e/otlp-recovery-test.mjs):
# the stalled run's span carries the recovery as an event.
. "$(dirname "$0")/lib.sh"
require node gst-launch-1.0

E2E_DIR=$(cd "$(dirname "$0")" && pwd)
if [ ! -f "$E2E_DIR/node_modules/@opentelemetry/otlp-transformer/build/src/generated/root.js" ]; then
  echo "SKIP: @opentelemetry/otlp-transformer is not installed (cd tests/e2e && npm ci)"
  exit 77
fi
run_with_deadline 55 node "$E2E_DIR/otlp-recovery-test.mjs" >"$WORK/otlp.out" 2>&1 ||
  { dump_files "$WORK/otlp.out"; fail "the recovery trace check failed"; }
cat "$WORK/otlp.out"
log "PASS"
