#!/bin/bash
# load.sh - load on gst-apm's HTTP/WebSocket service while live audio runs.
#
# Usage: bench/load.sh [--smoke] [-n PIPELINES] [-k] [-o DIR]
#   -n PIPELINES  live pipelines of 10 elements in the target (default 50)
#   --smoke       the bounded CI version (~35 s): 5 pipelines, no wrk
#                 throughput steps, 20 WS clients, the stalled readers,
#                 a short slowloris, 2,000 Connection: close requests
#   -k            keep the work dir (printed) even when all passed
#   -o DIR        work dir (default: a new /tmp/apm-load.XXXXXX)
# Environment: APM_BUILD_DIR (default build/), RSS_GROWTH_MB (default 64,
# smoke 32), CANARY_MAX (underruns + QoS drops of the canary tolerated
# while the load runs, default 0, smoke 3: a shared CI machine shows a
# stray 30-50 ms stall now and then even with no load), RSS_ABORT_MB
# (default 4096).
#
# One process (bench/load-target.py) runs the pipelines and a canary under
# GST_TRACERS="apm(port=0,quiet=true,ws-rate=10)".  Its RSS is sampled each
# second throughout.  Steps, each bounded in time and count, all to 127.0.0.1:
#   keepalive 3 requests on one HTTP/1.1 connection: the server must keep
#             it or say 'Connection: close'
#   idle      10 s of nothing: the canary's baseline on this machine
#   metrics   wrk -t2 -c16 -d15s --latency /metrics        (skipped
#   status    wrk -t2 -c16 -d15s --latency /monitoring/status  without wrk)
#   ws-many   200 WebSocket clients for 20 s at 10 Hz (bench/ws-clients.mjs),
#             offering permessage-deflate as browsers do
#   ws-many-nodeflate  the same without permessage-deflate
#   ws-stalled  a client that handshakes then never reads: must be closed
#   ws-chatty   the same, but it sends a ping every 5 s (its reads never
#             idle): the backlog cap alone must close it, within 60 s
#   slowloris 100 connections sending a header byte every 3 s + 20 idle ones,
#             40 s, while a normal client and curl must get answers < 1 s;
#             all of them closed by the 10 s request deadline
#   close     20,000 requests to /health with 'Connection: close' (curl,
#             4 in parallel, a new connection each: bench/close-requests.sh)
#   cooldown  10 s, then the end RSS
# Throughout, curl GETs /health every second (the "probe").
# Then prints the figures (bench/report.py; figures.json in the work dir)
# and exits non-zero if a step failed, a probe failed or took over
# PROBE_MAX_S (default 1 s), the canary had more underruns + QoS drops during
# the load than CANARY_MAX, the target printed GLib criticals/warnings, or
# the RSS after the load grew more than RSS_GROWTH_MB over the RSS before it.
# The full run takes about 6 minutes.
set -u
cd "$(dirname "$0")/.."

SMOKE=0
N=50
KEEP=0
OUT=
while [ $# -gt 0 ]; do
  case $1 in
    --smoke) SMOKE=1 ;;
    -n) N=$2; shift ;;
    -k) KEEP=1 ;;
    -o) OUT=$2; shift ;;
    *) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 2 ;;
  esac
  shift
done
[ $SMOKE = 1 ] && [ "$N" = 50 ] && N=5
[ $SMOKE = 1 ] && export CANARY_MAX=${CANARY_MAX:-3}
if [ -n "$OUT" ]; then
  mkdir -p "$OUT"; BENCH_WORK=$(cd "$OUT" && pwd)
else
  BENCH_WORK=$(mktemp -d /tmp/apm-load.XXXXXX)
fi
export BENCH_WORK
. bench/bench-lib.sh
trap 'bench_cleanup' EXIT
trap 'exit 130' INT TERM
bench_env || exit 1

HAVE_WRK=0
command -v wrk >/dev/null && HAVE_WRK=1

if [ $SMOKE = 1 ]; then
  start_target 150 -n "$N" || exit 1
else
  start_target 600 -n "$N" || exit 1
fi
start_sampler
start_prober
echo "bench: target pid $TARGET_PID at $URL, $N pipelines + canary, work dir $BENCH_WORK" >&2

phase warmup
if [ $SMOKE = 1 ]; then sleep 3; else sleep 5; fi
step keepalive 20 $PY bench/scrapes.py "$URL" --keepalive-check
if [ $SMOKE = 0 ]; then
  phase idle; sleep 10
fi

# the stalled readers take up to the idle timeout (30 s): in the smoke they
# run alongside the other steps
if [ $SMOKE = 1 ]; then
  phase load
  step ws-stalled 60 node bench/ws-clients.mjs stalled "$URL" -s 34 &
  S1=$!
  step ws-chatty 60 node bench/ws-clients.mjs stalled "$URL" -s 32 --chatty &
  S2=$!
  step ws-many 60 node bench/ws-clients.mjs many "$URL" -n 20 -s 8
  step slowloris 40 $PY bench/slowloris.py "$URL" -c 20 -i 5 -e 2 -d 20
else
  if [ $HAVE_WRK = 1 ]; then
    phase metrics
    step wrk-metrics 40 wrk -t2 -c16 -d15s --timeout 5s --latency "$URL/metrics"
    phase status
    step wrk-status 40 wrk -t2 -c16 -d15s --timeout 5s --latency "$URL/monitoring/status"
  fi
  phase ws-many
  step ws-many 150 node bench/ws-clients.mjs many "$URL" -n 200 -s 20
  phase ws-many-nodeflate
  step ws-many-nodeflate 150 node bench/ws-clients.mjs many "$URL" -n 200 -s 20 --no-deflate
  phase ws-stalled
  step ws-stalled 90 node bench/ws-clients.mjs stalled "$URL" -s 60
  phase ws-chatty
  step ws-chatty 90 node bench/ws-clients.mjs stalled "$URL" -s 60 --chatty
  phase slowloris
  (
    # a normal curl now and then while the slow connections are held
    for i in $(seq 18); do
      sleep 2
      curl -s -m 5 -o /dev/null -w '%{http_code} %{time_total}\n' "$URL/monitoring/status"
    done
  ) >"$BENCH_WORK/curl-during-slowloris.out" &
  C=$!
  step slowloris 80 $PY bench/slowloris.py "$URL" -c 100 -i 20 -e 3 -d 40
  wait $C
fi

if [ $SMOKE = 1 ]; then
  NCLOSE=2000
else
  NCLOSE=20000
  phase close
fi
step close 120 bench/close-requests.sh "$URL" "$NCLOSE" 4

if [ $SMOKE = 1 ]; then
  wait $S1 $S2
  phase cooldown; sleep 2
else
  phase cooldown; sleep 10
fi
phase end; sleep 2
stop_target
$PY bench/report.py load "$BENCH_WORK" --smoke=$SMOKE
rc=$?
if [ $rc = 0 ] && [ $KEEP = 0 ]; then
  rm -rf "$BENCH_WORK"
else
  echo "bench: work dir kept: $BENCH_WORK" >&2
fi
exit $rc
