#!/bin/bash
# W3C trace context through the GI API (python3-gi) and across processes:
# tests/e2e/tracecontext_check.py.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
set -euo pipefail
require /usr/bin/python3
require gst-launch-1.0
/usr/bin/python3 -c 'import gi' 2>/dev/null ||
  fail "python3-gi is missing (scripts/setup.sh --tests)"

export GI_TYPELIB_PATH=$APM_BUILD_ROOT/src${GI_TYPELIB_PATH:+:$GI_TYPELIB_PATH}
export LD_LIBRARY_PATH=$APM_BUILD_ROOT/src${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export WORK
run_with_deadline 40 /usr/bin/python3 "$(dirname "$0")/tracecontext_check.py" \
  >"$WORK/tc.out" 2>"$WORK/tc.err" ||
  { dump_files "$WORK/tc.out" "$WORK/tc.err"; fail "the trace context check failed"; }
cat "$WORK/tc.out"
log "PASS"
