#!/bin/bash
# Bad apm tracer params: each run must still reach EOS (exit status 0) and
# print "apm: warning: ..." naming the param on stderr, and post nothing on
# the pipeline's bus (gst-launch -m prints every message on stdout) unless
# bus-messages=true asks for the WARNING and "apm-service" messages.  Good
# params: no warning, and quiet=true silences the URL line; the discovery
# file ($APM_RUNTIME_DIR/PID.json) has the URL while the service runs.
. "$(dirname "$0")/lib.sh"
require gst-launch-1.0 timeout

PIPELINE=(audiotestsrc num-buffers=5 '!' fakesink)

# params | ERE the warning must match (after "apm: warning: ")
CASES=(
  "port=abc|port.*abc"
  "port=70000|port.*70000"
  "port=-1|port.*-1"
  "port=0,bogus=1|bogus"
  "bogus|bogus"
  "port=0,quiet=maybe|quiet.*maybe"
  "port=0,address=not-an-ip|address.*not-an-ip"
  "port=0,,|port=0,,"
  "port=0,traceparent=00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01|traceparent.*not a W3C traceparent"
  "port=0,traceparent=ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01|traceparent.*version ff"
  "port=0,labels=variant|labels.*'variant' is not KEY:VALUE"
  "port=0,labels=variant:b,region:eu|quote several labels"
  'port=0,labels="variant:a,variant:b"|labels.*'"'"'variant'"'"' is given twice'
)

i=0
for c in "${CASES[@]}"; do
  params=${c%%|*}
  want=${c#*|}
  name="bad$i"
  i=$((i + 1))
  log "apm($params)"
  launch "$name" "apm($params)" "${PIPELINE[@]}"
  assert_eos "$name"
  assert_grep "$name" err "^apm: warning: .*$want" \
    "no stderr warning naming the param for apm($params)"
  assert_no_grep "$name" out "^WARNING" "a WARNING on the application's bus for apm($params)"
  assert_no_grep "$name" out 'apm-service' "an apm-service message on the application's bus"
done

log "TRACEPARENT=garbage: a warning naming it, the run goes on"
TRACEPARENT=garbage launch badenv "apm(port=0)" "${PIPELINE[@]}"
assert_eos badenv
assert_grep badenv err "^apm: warning: TRACEPARENT='garbage' is not a W3C traceparent" \
  "no stderr warning naming a bad TRACEPARENT"

log "apm(port=abc,bus-messages=true): the warning and the URL on the bus too"
launch busmsg "apm(port=abc,bus-messages=true)" "${PIPELINE[@]}"
assert_eos busmsg
assert_grep busmsg err "^apm: warning: .*port.*abc" "no stderr warning"
assert_grep busmsg out "^WARNING: from element /GstPipeline:pipeline0: .*port.*abc" \
  "no WARNING bus message naming the param with bus-messages=true"
assert_grep busmsg out 'apm-service, url=' "no apm-service message with bus-messages=true"

log "apm(port=0): no warning, URL on stderr, nothing on the bus"
launch good "apm(port=0)" "${PIPELINE[@]}"
assert_eos good
assert_no_grep good err '^apm: warning' "warning with good params"
assert_no_grep good out '^WARNING' "bus WARNING with good params"
assert_grep good err '^apm: serving http://127\.0\.0\.1:[0-9]+ ' "no URL on stderr"
assert_no_grep good out 'apm-service' "an apm-service message on the application's bus"

log "apm(port=0,quiet=true): silent"
launch quiet "apm(port=0,quiet=true)" "${PIPELINE[@]}"
assert_eos quiet
if [ -s "$WORK/quiet.err" ]; then
  dump_files "$WORK/quiet.err"
  fail "quiet=true still printed on stderr"
fi
assert_no_grep quiet out 'apm-service' "an apm-service message on the application's bus"

log "apm(port=0,quiet=true), live: the discovery file has the URL, and goes at exit"
export APM_RUNTIME_DIR=$WORK/run
GST_TRACERS="apm(port=0,quiet=true)" timeout -s KILL 30 gst-launch-1.0 -e \
  audiotestsrc is-live=true '!' fakesink sync=true \
  >"$WORK/disc.out" 2>"$WORK/disc.err" &
TIMEOUT_PID=$!
BG_PIDS+=("$TIMEOUT_PID")
deadline=$(( $(now_ms) + 15000 ))
DISC_PID=
until [ -n "$DISC_PID" ] && [ -s "$APM_RUNTIME_DIR/$DISC_PID.json" ]; do
  alive "$TIMEOUT_PID" || { dump_files "$WORK/disc.err"; fail "the live pipeline exited"; }
  [ "$(now_ms)" -lt "$deadline" ] || fail "no discovery file in $APM_RUNTIME_DIR within 15 s"
  DISC_PID=$(pgrep -P "$TIMEOUT_PID" gst-launch || true)
  sleep 0.05
done
disc_url=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["pid"]==int(sys.argv[2]), d; print(d["url"])' \
  "$APM_RUNTIME_DIR/$DISC_PID.json" "$DISC_PID") || fail "bad discovery file"
curl -sf "$disc_url/health" >/dev/null || fail "the discovery file's URL $disc_url does not answer"
kill -INT "$DISC_PID"
wait_exit "$TIMEOUT_PID" 15 || fail "the live pipeline did not stop on SIGINT"
[ ! -e "$APM_RUNTIME_DIR/$DISC_PID.json" ] || fail "the discovery file is left after a clean exit"
unset APM_RUNTIME_DIR

# state changes run from the sink up: the downstream monitor, which sets no
# port, must not start the service on the default before the upstream one
# with port=0 is asked
log "apmonitor port=0 upstream of an apmonitor without port: port 0 wins"
launch order "" audiotestsrc num-buffers=5 '!' apmonitor name=first port=0 \
  '!' queue '!' apmonitor name=second '!' fakesink
assert_eos order
assert_grep order err '^apm: serving http://127\.0\.0\.1:[0-9]+ ' "no URL on stderr"
port=$(grep -Eo '^apm: serving http://127\.0\.0\.1:[0-9]+' "$WORK/order.err" | grep -Eo '[0-9]+$')
[ "$port" != 9464 ] || fail "the service took the default port 9464, not port=0 of the upstream monitor"

log "PASS"
