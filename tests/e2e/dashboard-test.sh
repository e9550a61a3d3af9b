#!/bin/bash
# The browser dashboard (/monitoring/dashboard) in headless chromium against a
# live pipeline under the tracer: the page and its files load, the pipeline's
# elements are drawn with the bottleneck marked and a stage span's latency in
# its downstream apmonitor, figures move, the WebSocket is used, the disk
# check shows free space, charts (stage spans too) get points, the job is
# listed, an alert (from a rule given in a configuration file) is resolved
# with its button, no console error; then the pipeline is killed and
# restarted on the same port and the page must notice and recover by itself.
# Screenshots go to $APM_BUILD_ROOT/e2e-artifacts/ (dashboard.png ...).
#
# Needs node, tests/e2e/node_modules (npm ci in tests/e2e) and chromium
# (/usr/bin/chromium, or $CHROMIUM): without them the test is skipped (77),
# except under CI (CI set), where it fails.
# Development: DASHBOARD_LOCAL_ASSETS=data/dashboard serves the page from the
# source files instead of the copy compiled into the library.
. "$(dirname "$0")/lib.sh"

SRC=${APM_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${APM_BUILD_ROOT:-$SRC/build}
E2E=$SRC/tests/e2e
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
ARTIFACTS=${DASHBOARD_ARTIFACTS:-$BUILD/e2e-artifacts}
START_DEADLINE_S=20

# missing WHAT: skipped on a developer's machine, a failure in CI
missing() {
  [ -z "${CI:-}" ] || fail "$1 (CI is set: the browser test must run)"
  echo "SKIP: $1"
  exit 77
}
command -v node >/dev/null 2>&1 || missing "node not found (apt-get install nodejs)"
[ -x "$CHROMIUM" ] || missing "no chromium at $CHROMIUM (apt-get install chromium)"
[ -f "$E2E/node_modules/playwright-core/package.json" ] && [ -f "$E2E/node_modules/ws/package.json" ] ||
  missing "no node modules in $E2E (run: npm ci --prefix $E2E)"

mkdir -p "$ARTIFACTS" || fail "cannot create $ARTIFACTS"
rm -f "$ARTIFACTS"/dashboard*.png "$ARTIFACTS"/failure-* "$ARTIFACTS"/console.log "$ARTIFACTS"/restart.*

# the README's kind of pipeline: a live source, an apmonitor checkpoint, a
# slow element (the bottleneck), a tee to a syncing sink behind a second
# apmonitor that ends the stage span capture->out (identity's 1 ms sleep is
# in it: no latency under 1 ms), and a free-running file sink (a disk check)
PIPELINE=(audiotestsrc is-live=true ! apmonitor name=capture ! audioconvert
  ! identity sleep-time=1000 ! tee name=t
  t. ! queue ! apmonitor name=out span-from=capture ! fakesink sync=true
  t. ! queue ! filesink location="$WORK/out.raw")

# an alert rule that fires within seconds (identity0 sleeps 1 ms per buffer),
# so the Resolve button is exercised on a real alert; an HTTP check of a
# port where nothing listens, whose circuit breaker opens at its first
# failure
ALERT_RULE=dashboard_test_slow_identity
DEAD_CHECK=dashboard_dead_upstream
cat >"$WORK/apm.json" <<EOF
{
  "alert_interval": 1,
  "rules": [
    {
      "name": "$ALERT_RULE",
      "metric": "apm_element_processing_seconds",
      "aggregation": "p95",
      "match": { "element": "identity0" },
      "op": ">",
      "threshold": 0.0005,
      "severity": "warning",
      "message": "{{element}} takes {{value}} s per buffer (p95)"
    }
  ],
  "health_checks": [
    { "name": "$DEAD_CHECK", "type": "http", "url": "http://127.0.0.1:9/",
      "timeout": 1, "interval": 1, "breaker": { "failures": 1, "reset_timeout": 600 } }
  ]
}
EOF

log "starting the pipeline (port=0)"
# (no timeout wrapper: lib.sh's cleanup SIGKILLs what is in BG_PIDS, and a
# killed wrapper would leave gst-launch running)
GST_TRACERS="apm(port=0,quiet=false,config=$WORK/apm.json)" gst-launch-1.0 "${PIPELINE[@]}" \
  >"$WORK/gst.out" 2>"$WORK/gst.err" &
GST_PID=$!
BG_PIDS+=("$GST_PID")

deadline=$(( $(now_ms) + START_DEADLINE_S * 1000 ))
URL=
while [ -z "$URL" ]; do
  URL=$(sed -n 's/^apm: serving \(http:\/\/[^ ]*\).*/\1/p' "$WORK/gst.err" 2>/dev/null | head -n 1 || true)
  [ -n "$URL" ] && break
  alive "$GST_PID" || { dump_files "$WORK/gst.out" "$WORK/gst.err"; fail "the pipeline exited before serving"; }
  [ "$(now_ms)" -lt "$deadline" ] || { dump_files "$WORK/gst.out" "$WORK/gst.err"; fail "no 'apm: serving' line within ${START_DEADLINE_S} s"; }
  sleep 0.1
done
PORT=${URL##*:}
log "service at $URL"

# phase 2 of the test restarts the service on the same port
RESTART_CMD="GST_TRACERS='apm(port=$PORT,quiet=false,config=$WORK/apm.json)' exec timeout -s KILL 120 gst-launch-1.0 $(printf '%q ' "${PIPELINE[@]}")"

NODE_ARGS=(--url "$URL" --artifacts "$ARTIFACTS" --expect audiotestsrc0,capture,audioconvert0,identity0,t,queue0,queue1,out,fakesink0,filesink0
  --want-span 'out:capture->out' --span-min-ms 1 --want-disk
  --want-alert "$ALERT_RULE" --want-breaker "health:$DEAD_CHECK" --chromium "$CHROMIUM" --restart-pid "$GST_PID" --restart-cmd "$RESTART_CMD")
[ -z "${DASHBOARD_LOCAL_ASSETS:-}" ] || NODE_ARGS+=(--local-assets "$DASHBOARD_LOCAL_ASSETS")

timeout -s KILL 150 node "$E2E/dashboard-test.mjs" "${NODE_ARGS[@]}"
status=$?
# the pipeline node restarted (its own process group): gone unless node was
# killed before it could stop it
if [ -f "$ARTIFACTS/restart.pid" ]; then
  RPID=$(cat "$ARTIFACTS/restart.pid")
  [ -n "$RPID" ] && kill -0 "$RPID" 2>/dev/null && kill -KILL -- "-$RPID" 2>/dev/null
fi
if [ "$status" -ne 0 ]; then
  # where the service stood, for a hang (lib.sh: gdb, else /proc)
  if alive "$GST_PID"; then
    dump_threads "$GST_PID" >"$ARTIFACTS/gst-threads.txt" 2>&1
  fi
  dump_files "$WORK/gst.err" "$ARTIFACTS/restart.err"
  fail "the browser test failed (status $status); screenshot, console and page in $ARTIFACTS"
fi
# the test stopped the first pipeline itself (SIGTERM) and its replacement
grep -q 'Json-CRITICAL\|GLib-CRITICAL\|GStreamer-CRITICAL' "$WORK/gst.err" "$ARTIFACTS/restart.err" 2>/dev/null && {
  dump_files "$WORK/gst.err" "$ARTIFACTS/restart.err"
  fail "the service logged a CRITICAL while the dashboard used it"
}
log "PASS (screenshots in $ARTIFACTS)"
