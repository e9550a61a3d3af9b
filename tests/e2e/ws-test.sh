#!/bin/bash
# The /ws/monitoring feed against gst-launch-1.0 processes (each run gets its
# own tracer params, which an in-process test cannot change):
#  1. default params: monitoring_update at 1 per second; 256 clients are
#     served and one more is closed with 1008;
#  2. ws-rate=20 with a client that stops reading after the handshake: the
#     service's RSS stays bounded, a normal client gets its updates on time,
#     and the stalled client is closed by the service.
# The client side is tests/e2e/ws-test.mjs (Node with the ws package).
. "$(dirname "$0")/lib.sh"
require node timeout

E2E_DIR=$(cd "$(dirname "$0")" && pwd)
if [ ! -d "$E2E_DIR/node_modules/ws" ]; then
  echo "SKIP: the ws package is not installed (cd tests/e2e && npm ci)"
  exit 77
fi

# start_service NAME TRACERS PIPELINE...: gst-launch-1.0 -e in the background;
# sets SVC_PID and SVC_URL (from the "apm: serving" line on stderr)
start_service() {
  local name=$1 tracers=$2 deadline
  shift 2
  GST_TRACERS=$tracers gst-launch-1.0 -e "$@" \
    >"$WORK/$name.out" 2>"$WORK/$name.err" &
  SVC_PID=$!
  SVC_NAME=$name
  BG_PIDS+=("$SVC_PID")
  SVC_URL=
  deadline=$(( $(now_ms) + 10000 ))
  while [ -z "$SVC_URL" ]; do
    alive "$SVC_PID" || { dump_files "$WORK/$name.out" "$WORK/$name.err"; fail "$name: gst-launch-1.0 ended early"; }
    [ "$(now_ms)" -lt "$deadline" ] || { dump_files "$WORK/$name.err"; fail "$name: no URL within 10 s"; }
    SVC_URL=$(grep -Eo '^apm: serving http://127\.0\.0\.1:[0-9]+' "$WORK/$name.err" | cut -d' ' -f3)
    [ -n "$SVC_URL" ] || sleep 0.05
  done
}

# stop_service NAME: SIGINT (EOS first), a clean exit, no critical
stop_service() {
  local name=$1
  kill -INT "$SVC_PID" 2>/dev/null
  wait_exit "$SVC_PID" 10 || { dump_files "$WORK/$name.err"; fail "$name: did not stop within 10 s of SIGINT"; }
  [ "$EXIT_STATUS" -eq 0 ] || { dump_files "$WORK/$name.out" "$WORK/$name.err"; fail "$name: exit status $EXIT_STATUS"; }
  assert_no_grep "$name" err 'CRITICAL|WARNING \*\*' "criticals or GLib warnings from the service"
}

# run_client NAME ARGS...: node ws-test.mjs ARGS, output to $WORK/NAME.node
# (on failure, shows it with the service's stderr)
run_client() {
  local name=$1
  shift
  if ! (cd "$E2E_DIR" && timeout -s KILL 70 node ws-test.mjs "$@") >"$WORK/$name.node" 2>&1; then
    dump_files "$WORK/$name.node" "$WORK/$SVC_NAME.err"
    fail "$name: $(grep -m1 'FAIL' "$WORK/$name.node")"
  fi
  cat "$WORK/$name.node"
}

LIVE=(audiotestsrc is-live=true samplesperbuffer=441 '!' audioconvert '!'
  audioresample '!' volume '!' identity '!' identity '!' identity '!' queue '!'
  fakesink)

log "default ws-rate: 1 update per second"
start_service rate1 "apm(port=0)" "${LIVE[@]}"
run_client rate1 rate --url "$SVC_URL" --rate 1
log "the connection cap"
run_client cap cap --url "$SVC_URL" --max 256
stop_service rate1

log "ws-rate=20 with a stalled client"
start_service stall "apm(port=0,ws-rate=20)" "${LIVE[@]}"
run_client stall stall --url "$SVC_URL" --pid "$SVC_PID" --rate 20
stop_service stall

log "PASS"
