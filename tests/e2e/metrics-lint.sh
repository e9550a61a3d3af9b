#!/bin/bash
# /metrics of real pipelines under the apm tracer, linted:
#   - `promtool check metrics` prints nothing and exits 0;
#   - metrics_lint.py (what promtool does not catch): no duplicate series,
#     complete histograms (le ascending to +Inf, cumulative, _count = +Inf
#     bucket, _sum), HELP and TYPE for every family, counters end in _total,
#     valid names, correct label escaping, units in names;
#   - python3-prometheus-client's reference parsers read the text scrape
#     and its OpenMetrics twin (refparse.py);
#   - label values round-trip: an element named with a quote, a backslash, a
#     newline and a non-ASCII character comes back exactly.
# Three processes cover every family: the representative live pipeline
# (two apmonitor, queues, tee to two sinks, audiomixer fan-in, a strangely
# named element), a live pipeline that cannot keep up (QoS, lateness) and
# gst-play-1.0 playing two files (a completed job: apm_job_* histograms,
# nested bins, decodebin).  The gst-play part also checks that only real
# top-level pipelines get an apm_pipeline_state series and that a job's
# input bytes are counted; the representative part that the job series
# (apm_jobs_completed_total{status}, apm_job_processing_seconds{success})
# exist at 0 before any job ended.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/prom-lib.sh"
set -euo pipefail
require python3 curl promtool

FAILED=()
problem() {
  echo "[$E2E_NAME] FAIL: $*" >&2
  FAILED+=("$*")
}

# self-test: the linter must see the faults it exists for
cat >"$WORK/bad.prom" <<'EOF'
# HELP x_total a counter
# TYPE x_total counter
x_total{a="1"} 1
x_total{a="1"} 2
# HELP h a histogram
# TYPE h histogram
h_bucket{le="0.1"} 5
h_bucket{le="1"} 4
h_sum 1
h_count 3
# HELP h2 a histogram
# TYPE h2 histogram
h2_bucket{le="1"} 1
h2_bucket{le="+Inf"} 2
h2_count 3
# HELP y a counter without _total
# TYPE y counter
y 1
# HELP z_seconds a gauge
# TYPE z_seconds gauge
z_seconds{a="x\qy"} 1
EOF
python3 "$E2E_DIR/metrics_lint.py" "$WORK/bad.prom" >"$WORK/bad.lint" 2>&1 &&
  fail "metrics_lint.py passed a broken exposition"
for want in 'duplicate series' 'not le="\+Inf"' 'not cumulative' \
    'does not end in _total' 'bad escape' 'differs from the \+Inf' \
    'h2\{\}: no _sum'; do
  grep -Eq "$want" "$WORK/bad.lint" ||
    { cat "$WORK/bad.lint" >&2; fail "metrics_lint.py missed: $want"; }
done

WEIRD_NAME=$'we"ird\\x caf\xc3\xa9-01\nline2'
# gst-launch's parser takes a quoted value with \" and \\ escapes
WEIRD_ARG=$'name="we\\"ird\\\\x caf\xc3\xa9-01\nline2"'

# gst-play-1.0 (Debian gstreamer1.0-plugins-base-apps) runs the jobs
PLAYER=1
if ! command -v gst-play-1.0 >/dev/null 2>&1; then
  PLAYER=
  log "NOTE: gst-play-1.0 not found (Debian gstreamer1.0-plugins-base-apps):"
  log "NOTE: the apm_job_* families and the player checks are NOT linted"
fi

start_representative rep ! identity "$WEIRD_ARG"
REP=$APM_ADDR
start_late late
LATE=$APM_ADDR
if [ -n "$PLAYER" ]; then
  SHORT_WAV=$WORK/short.wav
  make_wav "$SHORT_WAV" 1
  make_wav "$WORK/long.wav" 30
  SHORT_BYTES=$(stat -c %s "$SHORT_WAV")
  start_player play "$SHORT_WAV" "$WORK/long.wav"
  PLAY=$APM_ADDR
fi

# ~3 s of audio, and the first file played to the end (a completed job)
sleep 3
[ -z "$PLAYER" ] || wait_metric "$PLAY" '^apm_jobs_completed_total\{' 15
wait_metric "$LATE" '^apm_element_qos_messages_total\{' 10
# one more aggregation round after the job's end
sleep 1.2

lint_one() {
  local name=$1 addr=$2
  shift 2
  fetch_metrics "$addr" "$WORK/$name.metrics"
  log "$name: $(wc -l <"$WORK/$name.metrics") lines from http://$addr/metrics"
  if ! promtool check metrics <"$WORK/$name.metrics" >"$WORK/$name.promtool" 2>&1; then
    problem "$name: promtool check metrics failed: $(head -c 2000 "$WORK/$name.promtool")"
  elif [ -s "$WORK/$name.promtool" ]; then
    problem "$name: promtool check metrics printed: $(head -c 2000 "$WORK/$name.promtool")"
  fi
  if ! python3 "$E2E_DIR/metrics_lint.py" "$WORK/$name.metrics" "$@" \
      >"$WORK/$name.lint" 2>&1; then
    problem "$name: metrics_lint.py:"$'\n'"$(cat "$WORK/$name.lint")"
  else
    log "$name: $(tail -n 1 "$WORK/$name.lint")"
  fi
  # the reference parsers, on this scrape and on its OpenMetrics twin
  curl -sf --max-time 5 -H "Accept: $PROMETHEUS_ACCEPT" "http://$addr/metrics" \
    -o "$WORK/$name.om" || problem "$name: the OpenMetrics scrape failed"
  if ! /usr/bin/python3 "$E2E_DIR/refparse.py" "$WORK/$name.metrics" \
      "$WORK/$name.om" >"$WORK/$name.refparse" 2>&1; then
    problem "$name: $(cat "$WORK/$name.refparse")"
  else
    log "$name: $(cat "$WORK/$name.refparse")"
  fi
}
PROMETHEUS_ACCEPT='application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1'
/usr/bin/python3 -c 'import prometheus_client' 2>/dev/null ||
  fail "python3-prometheus-client is missing (scripts/setup.sh --tests)"

lint_one representative "$REP" --expect-label "element=$WEIRD_NAME" \
  --expect-label 'element=capture' --expect-label 'element=out1'
lint_one late "$LATE"
[ -z "$PLAYER" ] || lint_one player "$PLAY"

# the families the README promises for these pipelines are all there
for fam in apm_pad_buffers_total apm_element_processing_seconds \
    apm_element_latency_seconds apm_pipeline_latency_seconds \
    apm_queue_level_buffers apm_monitor_peak_dbfs apm_monitor_rms_dbfs \
    apm_pipeline_state apm_thread_cpu_seconds_total; do
  grep -q "^# TYPE $fam " "$WORK/representative.metrics" ||
    problem "representative: no family $fam"
done
for fam in apm_element_qos_messages_total apm_element_lateness_seconds; do
  grep -q "^# TYPE $fam " "$WORK/late.metrics" || problem "late: no family $fam"
done
# counters with a known label set exist at 0 before their first increment
# (as apm_jobs_started_total does): a series that appears at 1 hides its
# first increment from rate() and increase(), so the first job that ends is
# invisible to the dashboard's job panels
for series in 'apm_jobs_completed_total{status="success"}' \
    'apm_jobs_completed_total{status="failed"}' \
    'apm_job_processing_seconds_count{success="true"}' \
    'apm_job_processing_seconds_count{success="false"}'; do
  grep -qF "$series 0" "$WORK/representative.metrics" ||
    problem "representative: no '$series 0' before any job ended (series not initialized at 0)"
done

check_player() {
  local fam pipelines in_sum
  for fam in apm_jobs_completed_total apm_job_processing_seconds \
      apm_job_input_bytes apm_job_output_bytes; do
    grep -q "^# TYPE $fam " "$WORK/player.metrics" ||
      problem "player: no family $fam"
  done
  # only real top-level pipelines are pipelines: gst-play-1.0 runs one
  # (playbin); the sink bin it parses and playsink's "abin" are bins that are
  # set to READY before they have a parent
  pipelines=$(sed -n 's/^apm_pipeline_state{pipeline="\([^"]*\)"}.*/\1/p' \
    "$WORK/player.metrics" | sort | tr '\n' ' ')
  [ "$pipelines" = "playbin " ] ||
    problem "player: apm_pipeline_state for pipelines '$pipelines', expected only 'playbin' (bins that were briefly parentless are watched as pipelines)"

  # a job that played a whole file read all of it
  in_sum=$(sed -n 's/^apm_job_input_bytes_sum \(.*\)/\1/p' "$WORK/player.metrics")
  python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) >= 0.95 * float(sys.argv[2]) else 1)' \
      "${in_sum:-0}" "$SHORT_BYTES" ||
    problem "player: apm_job_input_bytes_sum is ${in_sum:-absent} after a job that read a $SHORT_BYTES-byte file"
}

[ -z "$PLAYER" ] || check_player

if [ "${#FAILED[@]}" -gt 0 ]; then
  fail "${#FAILED[@]} problem(s), listed above"
fi
log "PASS"
