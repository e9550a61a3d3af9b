#!/bin/bash
# The README's demo (scripts/demo.sh) on a free port with a fakesink: its
# /metrics must answer with apm_pad_buffers_total counters that grow, and it
# must stop cleanly (status 0, EOS) soon after SIGINT.  Every wait is a poll
# bounded by a deadline.
. "$(dirname "$0")/lib.sh"
require python3 curl awk
set -m   # the demo in its own process group, SIGINT not ignored

SRC=${APM_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
DEMO=$SRC/scripts/demo.sh
[ -f "$DEMO" ] || fail "no $DEMO"
START_DEADLINE_S=30
STOP_DEADLINE_S=15

# sum_buffers FILE: the sum of all apm_pad_buffers_total samples (empty if none)
sum_buffers() {
  awk '/^apm_pad_buffers_total\{/ { s += $NF; n++ } END { if (n) printf "%d\n", s }' "$1"
}

start_demo() {
  PORT=$(free_port) || fail "no free port"
  log "starting $DEMO on port $PORT"
  APM_PORT=$PORT DEMO_SINK='fakesink sync=true' bash "$DEMO" \
    >"$WORK/demo.out" 2>"$WORK/demo.err" &
  DEMO_PID=$!
  BG_PIDS+=("$DEMO_PID")
}

# the port is picked free, but another process may take it before the demo
# binds it: then try another one
for attempt in 1 2 3; do
  start_demo
  URL=http://127.0.0.1:$PORT
  deadline=$(( $(now_ms) + START_DEADLINE_S * 1000 ))
  first=
  grown=
  lost_port=
  while [ -z "$grown" ]; do
    if ! alive "$DEMO_PID"; then
      dump_files "$WORK/demo.out" "$WORK/demo.err"
      fail "the demo exited before serving growing counters"
    fi
    if grep -q '^apm: warning: HTTP service not started' "$WORK/demo.err"; then
      lost_port=1
      break
    fi
    [ "$(now_ms)" -lt "$deadline" ] || {
      dump_files "$WORK/demo.out" "$WORK/demo.err" "$WORK/metrics"
      fail "no growing apm_pad_buffers_total at $URL/metrics within ${START_DEADLINE_S} s"
    }
    if curl -sf --max-time 2 "$URL/metrics" >"$WORK/metrics" 2>/dev/null; then
      sum=$(sum_buffers "$WORK/metrics")
      if [ -n "$sum" ] && [ "$sum" -gt 0 ]; then
        if [ -z "$first" ]; then
          first=$sum
          log "counters at $sum buffers"
        elif [ "$sum" -gt "$first" ]; then
          grown=$sum
          log "counters grew to $sum buffers"
        fi
      fi
    fi
    [ -n "$grown" ] || sleep 0.1
  done
  [ -n "$lost_port" ] || break
  log "port $PORT was taken meanwhile; another one"
  kill -INT "$DEMO_PID"
  wait_exit "$DEMO_PID" "$STOP_DEADLINE_S" || fail "the demo ignored SIGINT"
  [ "$attempt" -lt 3 ] || fail "three free ports were taken before the demo bound them"
done

# both checkpoints of the demo are in the series
grep -q '^apm_pad_buffers_total{.*element="capture"' "$WORK/metrics" ||
  fail "no series for the 'capture' apmonitor"
grep -q '^apm_pad_buffers_total{.*element="output"' "$WORK/metrics" ||
  fail "no series for the 'output' apmonitor"
curl -sf --max-time 5 "$URL/health/monitoring" >"$WORK/health.json" ||
  fail "$URL/health/monitoring does not answer"
python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
checks = d["monitoring"]["health_checks"]
assert any(k.startswith("pipeline:") for k in checks), checks' "$WORK/health.json" ||
  fail "no pipeline health check in /health/monitoring"

log "SIGINT"
kill -INT "$DEMO_PID"
if ! wait_exit "$DEMO_PID" "$STOP_DEADLINE_S"; then
  dump_files "$WORK/demo.out" "$WORK/demo.err"
  fail "the demo did not stop within ${STOP_DEADLINE_S} s of SIGINT"
fi
if [ "$EXIT_STATUS" -ne 0 ]; then
  dump_files "$WORK/demo.out" "$WORK/demo.err"
  fail "the demo exited with status $EXIT_STATUS after SIGINT"
fi
grep -q '^Got EOS from element' "$WORK/demo.out" || {
  dump_files "$WORK/demo.out" "$WORK/demo.err"
  fail "the demo did not end with EOS (gst-launch -e)"
}
if curl -s --max-time 2 "$URL/metrics" >/dev/null 2>&1; then
  fail "$URL still answers after the demo stopped"
fi
log "PASS"
