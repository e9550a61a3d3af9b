#!/bin/bash
# A port in use is a warning, not a failure: the pipeline runs to EOS, the
# warning (stderr, and the bus with bus-messages=true) names the port, and
# the apm-service message says it is not listening (url NULL).
#  1. the port is held by a plain socket listener (python3);
#  2. the port is held by another gst-launch-1.0 serving apm (port=0), which
#     keeps serving and stops cleanly on SIGINT.
. "$(dirname "$0")/lib.sh"
require python3 curl timeout
set -m   # background jobs in their own process group, SIGINT not ignored

PIPELINE=(audiotestsrc num-buffers=5 '!' fakesink)

# assert_busy NAME PORT: the run reached EOS and reported PORT busy
assert_busy() {
  assert_eos "$1"
  assert_grep "$1" err "^apm: warning: .*127\.0\.0\.1:$2.*in use" \
    "no stderr warning naming the busy port $2"
  assert_grep "$1" out "^WARNING: from element /GstPipeline:pipeline0: .*127\.0\.0\.1:$2.*in use" \
    "no WARNING bus message naming the busy port $2"
  assert_grep "$1" out 'apm-service, url=\(string\)NULL, port=\(uint\)0;' \
    "apm-service message does not say 'not listening'"
  assert_no_grep "$1" err '^apm: serving' "claims to serve on a busy port"
}

# --- 1. a plain listener ---
mkfifo "$WORK/py.fifo"
python3 -c 'import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen()
print(s.getsockname()[1], flush=True)
sys.stdin.read()   # hold the port until our stdin closes
' <"$WORK/py.fifo" >"$WORK/py.port" &
PY_PID=$!
BG_PIDS+=("$PY_PID")
exec 9>"$WORK/py.fifo"   # keeps python's stdin open

deadline=$(( $(now_ms) + 10000 ))
until [ -s "$WORK/py.port" ]; do
  alive "$PY_PID" || fail "python3 listener died"
  [ "$(now_ms)" -lt "$deadline" ] || fail "python3 listener did not start"
  sleep 0.05
done
PORT=$(head -n1 "$WORK/py.port")
log "port $PORT held by a socket listener"

launch listener "apm(port=$PORT,bus-messages=true)" "${PIPELINE[@]}"
assert_busy listener "$PORT"

exec 9>&-
wait_exit "$PY_PID" 10 || fail "python3 listener did not exit"

# --- 2. another gst-launch-1.0 serving apm ---
GST_TRACERS="apm(port=0)" gst-launch-1.0 -e audiotestsrc is-live=true \
  '!' fakesink sync=true >"$WORK/first.out" 2>"$WORK/first.err" &
FIRST_PID=$!
BG_PIDS+=("$FIRST_PID")

deadline=$(( $(now_ms) + 20000 ))
URL=
until [ -n "$URL" ]; do
  alive "$FIRST_PID" || { dump_files "$WORK/first.out" "$WORK/first.err"; fail "first gst-launch died"; }
  [ "$(now_ms)" -lt "$deadline" ] || { dump_files "$WORK/first.err"; fail "first gst-launch announced no URL"; }
  URL=$(served_url "$WORK/first.err")
  [ -n "$URL" ] || sleep 0.05
done
PORT=${URL##*:}
log "port $PORT held by a gst-launch-1.0 serving $URL"

launch second "apm(port=$PORT,bus-messages=true)" "${PIPELINE[@]}"
assert_busy second "$PORT"

# the first one is still serving, unharmed: poll until its counters show
SERIES='^apm_pad_buffers_total{pipeline="pipeline0",element="fakesink0",pad="sink"} [1-9]'
deadline=$(( $(now_ms) + 20000 ))
until curl -sf --max-time 5 "$URL/metrics" >"$WORK/first.metrics" &&
    grep -q "$SERIES" "$WORK/first.metrics"; do
  alive "$FIRST_PID" || { dump_files "$WORK/first.out" "$WORK/first.err"; fail "first gst-launch died"; }
  [ "$(now_ms)" -lt "$deadline" ] || { dump_files "$WORK/first.metrics"; fail "the first gst-launch serves no counters at $URL/metrics"; }
  sleep 0.1
done

kill -INT "$FIRST_PID"
wait_exit "$FIRST_PID" 15 || fail "first gst-launch did not stop within 15 s of SIGINT"
[ "$EXIT_STATUS" -eq 0 ] || { dump_files "$WORK/first.out" "$WORK/first.err"; fail "first gst-launch exited with $EXIT_STATUS"; }

log "PASS"
