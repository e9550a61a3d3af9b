# gst-apm e2e tests: helpers for the Prometheus and Grafana tests (sourced
# after lib.sh, not run).  Scrape targets (gst-launch-1.0 / gst-play-1.0
# under the apm tracer on port 0), a real Prometheus server on loopback, and
# polling with deadlines.  Every process started here is in BG_PIDS and is
# stopped by the EXIT trap (TERM, then lib.sh's KILL).
#
# Callers use `set -euo pipefail`; the trap below runs with errexit off so
# that a failed kill cannot replace the test's exit status.

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# every background process gets this bound, so nothing outlives a test that
# was killed before its trap could run
BG_TIMEOUT_S=${BG_TIMEOUT_S:-120}

prom_lib_exit() {
  local rc=$? pid
  set +e
  trap - EXIT
  for pid in "${BG_PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null
  done
  for pid in "${BG_PIDS[@]}"; do
    wait_exit "$pid" 3 >/dev/null 2>&1
  done
  cleanup          # lib.sh: KILL what is left, remove $WORK
  exit "$rc"
}
trap prom_lib_exit EXIT

# apm_start NAME CMD...: runs CMD in the background with
# GST_TRACERS="apm(port=0)" (output in $WORK/NAME.out/.err) and waits, with a
# deadline, for its "apm: serving http://ADDR" line.  Sets APM_ADDR (host:port)
# and APM_PID.
apm_start() {
  local name=$1 deadline
  shift
  GST_TRACERS="apm(port=0)" timeout -s TERM "$BG_TIMEOUT_S" "$@" \
    </dev/null >"$WORK/$name.out" 2>"$WORK/$name.err" &
  APM_PID=$!
  BG_PIDS+=("$APM_PID")
  deadline=$(( $(now_ms) + 20000 ))
  APM_ADDR=
  while [ -z "$APM_ADDR" ]; do
    # the background shell may not have opened its stderr file yet
    APM_ADDR=$(sed -n 's|^apm: serving http://\([0-9.]*:[0-9]*\).*|\1|p' \
      "$WORK/$name.err" 2>/dev/null | head -n 1 || true)
    [ -n "$APM_ADDR" ] && break
    if ! alive "$APM_PID" || [ "$(now_ms)" -ge "$deadline" ]; then
      dump_files "$WORK/$name.out" "$WORK/$name.err"
      fail "$name: no 'apm: serving' line on stderr"
    fi
    sleep 0.05
  done
  log "$name: pid $APM_PID serving http://$APM_ADDR"
}

# fetch_metrics ADDR FILE: GET /metrics into FILE (fails the test on error)
fetch_metrics() {
  curl -sf --max-time 5 "http://$1/metrics" -o "$2" ||
    fail "GET http://$1/metrics failed"
}

# wait_metric ADDR ERE TIMEOUT_S: polls /metrics until a line matches ERE
wait_metric() {
  local deadline=$(( $(now_ms) + $3 * 1000 ))
  while :; do
    if curl -sf --max-time 2 "http://$1/metrics" -o "$WORK/.poll" &&
       grep -Eq -- "$2" "$WORK/.poll"; then
      return 0
    fi
    [ "$(now_ms)" -lt "$deadline" ] || fail "no line /$2/ on http://$1/metrics within $3 s"
    sleep 0.2
  done
}

# The representative live pipeline: two live sources mixed (audiomixer
# fan-in), two apmonitor checkpoints, queues, a tee to two sinks (one synced
# to the clock, one not).  Extra args are inserted on the capture branch
# (e.g. an identity with a strange name).
start_representative() {
  local name=$1
  shift
  apm_start "$name" gst-launch-1.0 \
    audiomixer name=mix ! audioconvert ! tee name=t \
    t. ! queue name=q_out ! apmonitor name=out1 ! fakesink name=sink_sync sync=true \
    t. ! queue name=q_side ! fakesink name=sink_nosync sync=false \
    audiotestsrc is-live=true name=src_a ! apmonitor name=capture ! audioconvert \
      "$@" ! queue name=q_in ! mix. \
    audiotestsrc is-live=true name=src_b freq=880 volume=0.3 ! mix.
}

# A live pipeline that cannot keep up (11 ms of work per 10 ms buffer): its
# sink drops late buffers and posts QoS messages, its real-time factor is
# below 1 and its checkpoint counts underruns.
start_late() {
  apm_start "$1" gst-launch-1.0 \
    audiotestsrc is-live=true samplesperbuffer=441 name=late_src \
    ! apmonitor name=late_mon ! identity name=slow sleep-time=11000 \
    ! fakesink name=late_sink sync=true qos=true max-lateness=2000000
}

# make_wav FILE SECONDS: a mono 44.1 kHz S16 WAV file of SECONDS (integer)
make_wav() {
  local buffers=$(( $2 * 44100 / 1024 + 1 ))
  run_with_deadline 30 gst-launch-1.0 -q audiotestsrc num-buffers="$buffers" \
    ! audio/x-raw,format=S16LE,rate=44100,channels=1 ! wavenc \
    ! filesink location="$1" >/dev/null 2>&1 || fail "could not write $1"
}

# start_player NAME FILE...: gst-play-1.0 plays FILEs one after the other in
# one process, so runs (jobs) complete while the service keeps serving;
# the audio sink is "apmonitor ! queue ! fakesink sync=true".  Always
# playbin (2): its decodebin answers the unreadable file with the EOS flow
# returns that the flow-error panels chart; gst-play uses playbin3 by
# default from GStreamer 1.24 on (--use-playbin2 exists there).
start_player() {
  local name=$1 pb2=()
  shift
  if gst-play-1.0 --help 2>/dev/null | grep -q -- --use-playbin2; then
    pb2=(--use-playbin2)
  fi
  apm_start "$name" gst-play-1.0 --no-interactive -q "${pb2[@]}" \
    --audiosink="apmonitor name=play_mon ! queue name=play_q ! fakesink name=play_sink sync=true" \
    "$@"
}

# prom_start ADDR...: a Prometheus server on a free loopback port scraping
# every ADDR each second (job "apm"); waits until it is ready.  Sets
# PROM_URL and PROM_PID.  Retries with another port if the port was taken.
prom_start() {
  local port targets='' a deadline _
  for a in "$@"; do
    targets="$targets${targets:+, }'$a'"
  done
  cat >"$WORK/prom.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: apm
EOF
  # PROM_SD_FILE: the targets come from that file (file_sd_configs), as
  # gst-apm sd writes it
  if [ -n "${PROM_SD_FILE:-}" ]; then
    cat >>"$WORK/prom.yml" <<EOF
    file_sd_configs:
      - files: ['$PROM_SD_FILE']
EOF
  else
    cat >>"$WORK/prom.yml" <<EOF
    static_configs:
      - targets: [$targets]
EOF
  fi
  for _ in 1 2 3; do
    port=$(free_port) || fail "no free port"
    rm -rf "$WORK/tsdb"
    timeout -s TERM "$BG_TIMEOUT_S" prometheus \
      --config.file="$WORK/prom.yml" \
      --storage.tsdb.path="$WORK/tsdb" \
      --web.listen-address="127.0.0.1:$port" \
      --log.level=warn ${PROM_FLAGS:-} \
      </dev/null >"$WORK/prom.out" 2>"$WORK/prom.err" &
    PROM_PID=$!
    BG_PIDS+=("$PROM_PID")
    PROM_URL=http://127.0.0.1:$port
    deadline=$(( $(now_ms) + 20000 ))
    while alive "$PROM_PID"; do
      if curl -sf --max-time 1 "$PROM_URL/-/ready" >/dev/null 2>&1; then
        log "prometheus: pid $PROM_PID at $PROM_URL scraping $*"
        return 0
      fi
      if [ "$(now_ms)" -ge "$deadline" ]; then
        dump_files "$WORK/prom.err"
        fail "prometheus not ready within 20 s"
      fi
      sleep 0.1
    done
    if grep -q 'address already in use' "$WORK/prom.err"; then
      log "port $port was taken meanwhile; another one"
      continue
    fi
    dump_files "$WORK/prom.err"
    fail "prometheus exited at start"
  done
  fail "three free ports were taken before prometheus bound them"
}

# promcheck ARGS...: the Python side (queries, dashboard checks)
promcheck() {
  python3 "$E2E_DIR/promcheck.py" "$@"
}
