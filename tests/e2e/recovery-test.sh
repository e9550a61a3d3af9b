#!/bin/bash
# Recovery under gst-launch-1.0, from the tracer's param alone: a live
# source behind a closed valve is stuck in PAUSED->PLAYING; with
# stuck-timeout=1 and recovery="stuck:restart,max=1" the monitor restarts it
# once (gst-launch-1.0 plays on: a state change is no reason for it to
# quit), then gives up and fires recovery_failed.  The error trigger from a
# param is accepted but reported as acting only where an application opted
# in: gst-launch-1.0 quits on ERROR before anything could act.
. "$(dirname "$0")/lib.sh"
require curl timeout gst-launch-1.0

GST_TRACERS='apm(port=0,stuck-timeout=1,alert-interval=1,recovery="pipeline0=stuck+error:restart,max=1,backoff=0")' \
  gst-launch-1.0 audiotestsrc is-live=true '!' valve drop=true '!' \
  fakesink sync=true >"$WORK/gst.out" 2>"$WORK/gst.err" &
GST_PID=$!
BG_PIDS+=("$GST_PID")

deadline=$(( $(now_ms) + 20000 ))
URL=
until [ -n "$URL" ]; do
  alive "$GST_PID" || { dump_files "$WORK/gst.out" "$WORK/gst.err"; fail "gst-launch died"; }
  [ "$(now_ms)" -lt "$deadline" ] || { dump_files "$WORK/gst.err"; fail "no URL announced"; }
  URL=$(served_url "$WORK/gst.err")
  [ -n "$URL" ] || sleep 0.05
done
log "serving $URL"

grep -q "recovery.*error trigger acts only for pipelines whose application opted in" "$WORK/gst.err" ||
  { dump_files "$WORK/gst.err"; fail "no warning that the error trigger needs the application's opt-in"; }

# metric_at_least NAME_AND_LABELS N: polls /metrics until the series is >= N
metric_at_least() {
  local series=$1 want=$2 v deadline=$(( $(now_ms) + 30000 ))
  while :; do
    v=$(curl -sf --max-time 5 "$URL/metrics" | grep -F "$series " | awk '{print $2}')
    [ -n "$v" ] && awk -v v="$v" -v w="$want" 'BEGIN { exit !(v >= w) }' && return 0
    alive "$GST_PID" || { dump_files "$WORK/gst.out" "$WORK/gst.err"; fail "gst-launch died waiting for $series"; }
    [ "$(now_ms)" -lt "$deadline" ] || fail "$series is '${v:-absent}', expected >= $want"
    sleep 0.2
  done
}

metric_at_least 'apm_pipeline_recoveries_total{pipeline="pipeline0",reason="stuck",result="success"}' 1
log "restarted once"
metric_at_least 'apm_pipeline_recoveries_total{pipeline="pipeline0",reason="stuck",result="gave_up"}' 1
metric_at_least 'apm_pipeline_recovery_gave_up{pipeline="pipeline0"}' 1
log "gave up"

deadline=$(( $(now_ms) + 15000 ))
until curl -sf --max-time 5 "$URL/monitoring/alerts" | grep -q '"rule" : "recovery_failed"'; do
  [ "$(now_ms)" -lt "$deadline" ] || fail "recovery_failed did not fire"
  sleep 0.2
done
curl -sf --max-time 5 "$URL/monitoring/logs?component=recovery" | grep -q 'recovery of pipeline0 gave up' ||
  fail "no log line of the give-up"
# two runs: the restart made a new one of the same pipeline
curl -sf --max-time 5 "$URL/monitoring/jobs/pipeline0%232" | grep -q '"job_id" : "pipeline0#2"' ||
  fail "no second run after the restart"
alive "$GST_PID" || fail "gst-launch quit"

# the application API from Python (GObject introspection), where the
# typelib is built (the roots of scripts/test-roots.sh build without it)
if [ ! -e "$APM_BUILD_ROOT/src/Apm-1.0.typelib" ] ||
    ! /usr/bin/python3 -c 'import gi' 2>/dev/null; then
  log "no Apm typelib or python3-gi: the Python API is not checked here"
else
GI_TYPELIB_PATH=$APM_BUILD_ROOT/src${GI_TYPELIB_PATH:+:$GI_TYPELIB_PATH} \
LD_LIBRARY_PATH=$APM_BUILD_ROOT/src${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} \
  /usr/bin/python3 -c '
import gi
gi.require_version("Apm", "1.0")
from gi.repository import Apm, GLib
m = Apm.Monitor.get_default()
assert m.set_recovery("cap*", "stall+stuck:restart,max=3")
assert m.set_recovery("cap*", None)
try:
    m.set_recovery("x", "stall:reboot")
    raise SystemExit("a bad policy was accepted")
except GLib.Error as e:
    assert "reboot" in e.message, e.message
' || fail "apm_monitor_set_recovery through GObject introspection"
fi

kill -INT "$GST_PID"
wait_exit "$GST_PID" 15 || fail "gst-launch did not stop within 15 s of SIGINT"
log "PASS"
