#!/bin/bash
# ApmCircuitBreaker through GObject introspection (python3-gi): the state
# machine, its health check and its state series, as a Python application
# sees them (tests/e2e/breaker_gi_check.py).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
set -euo pipefail
require /usr/bin/python3
/usr/bin/python3 -c 'import gi' 2>/dev/null ||
  fail "python3-gi is missing (scripts/setup.sh --tests)"

[ -f "$APM_BUILD_ROOT/src/Apm-1.0.typelib" ] ||
  fail "no Apm-1.0.typelib in $APM_BUILD_ROOT/src (built with -Dintrospection=disabled?)"
export GI_TYPELIB_PATH=$APM_BUILD_ROOT/src${GI_TYPELIB_PATH:+:$GI_TYPELIB_PATH}
export LD_LIBRARY_PATH=$APM_BUILD_ROOT/src${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
run_with_deadline 30 /usr/bin/python3 "$(dirname "$0")/breaker_gi_check.py" \
  >"$WORK/gi.out" 2>"$WORK/gi.err" ||
  { dump_files "$WORK/gi.out" "$WORK/gi.err"; fail "the GI check failed"; }
cat "$WORK/gi.out"
log "PASS"
