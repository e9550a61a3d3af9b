#!/bin/bash
# Bad apm tracer params: each run must still reach EOS (exit status 0), print
# "apm: warning: ..." naming the param on stderr and post a WARNING message on
# the pipeline's bus (gst-launch prints it on stdout).  Good params: no
# warning, and quiet=true silences the URL line.
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
  assert_grep "$name" out "^WARNING: from element /GstPipeline:pipeline0: .*$want" \
    "no WARNING bus message naming the param for apm($params)"
  # the service is announced on the bus all the same
  assert_grep "$name" out 'apm-service, url=' "no apm-service message"
done

log "apm(port=0): no warning, URL on stderr and on the bus"
launch good "apm(port=0)" "${PIPELINE[@]}"
assert_eos good
assert_no_grep good err '^apm: warning' "warning with good params"
assert_no_grep good out '^WARNING' "bus WARNING with good params"
assert_grep good err '^apm: serving http://127\.0\.0\.1:[0-9]+ ' "no URL on stderr"
assert_grep good out 'apm-service, url=\(string\)http://127\.0\.0\.1:[0-9]+, port=\(uint\)[1-9]' \
  "no apm-service message with the URL"
url_err=$(grep -Eo '^apm: serving http://[^ ]+' "$WORK/good.err" | cut -d' ' -f3)
grep -qF "url=(string)$url_err," "$WORK/good.out" ||
  fail "stderr URL $url_err differs from the bus message"

log "apm(port=0,quiet=true): silent"
launch quiet "apm(port=0,quiet=true)" "${PIPELINE[@]}"
assert_eos quiet
if [ -s "$WORK/quiet.err" ]; then
  dump_files "$WORK/quiet.err"
  fail "quiet=true still printed on stderr"
fi
assert_grep quiet out 'apm-service, url=\(string\)http://127\.0\.0\.1:[0-9]+' \
  "no apm-service message"

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
