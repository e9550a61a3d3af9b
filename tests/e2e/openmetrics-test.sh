#!/bin/bash
# OpenMetrics and text negotiation, gzip, and odd label values, checked by
# python3-prometheus-client's parsers (tests/e2e/openmetrics_check.py, run
# in the monitored process under the tracer).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
set -euo pipefail
require /usr/bin/python3
/usr/bin/python3 -c 'import prometheus_client, gi' 2>/dev/null ||
  fail "python3-prometheus-client or python3-gi is missing (scripts/setup.sh --tests)"

export GI_TYPELIB_PATH=$APM_BUILD_ROOT/src${GI_TYPELIB_PATH:+:$GI_TYPELIB_PATH}
export LD_LIBRARY_PATH=$APM_BUILD_ROOT/src${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export GST_TRACERS="apm(port=0,quiet=true)"
run_with_deadline 60 /usr/bin/python3 "$(dirname "$0")/openmetrics_check.py" \
  >"$WORK/om.out" 2>"$WORK/om.err" ||
  { dump_files "$WORK/om.out" "$WORK/om.err"; fail "the exposition check failed"; }
cat "$WORK/om.out"
log "PASS"
