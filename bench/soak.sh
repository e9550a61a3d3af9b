#!/bin/bash
# soak.sh - is gst-apm's memory flat under churning clients?
#
# Usage: bench/soak.sh [SECONDS] [--smoke] [-w WARMUP] [-n PIPELINES] [-k] [-o DIR]
#   SECONDS      length of the churn (default 600)
#   -w WARMUP    seconds of churn before the measured part (default 20, 5
#                with --smoke).  The log ring (2000 lines, ~0.7 MB) fills
#                in the first ~8 minutes of churn (bench/README.md); a
#                longer warm-up leaves it out of the measurement
#   -n           live pipelines of 10 elements besides the canary (default 1)
#   --smoke      the CI version: SECONDS defaults to 30
#   -k, -o DIR   keep the work dir / use DIR (as in load.sh)
# Environment: APM_BUILD_DIR (default build/), SOAK_TOL_KB (default 4096),
# SOAK_TOL_PCT (default 5), RSS_ABORT_MB (default 4096).
#
# A live pipeline (bench/load-target.py: one 10-element pipeline and the
# canary, under GST_TRACERS="apm(port=0,quiet=true,ws-rate=10)") serves
# while, for SECONDS:
#   - bench/scrapes.py scrapes every second /metrics, /monitoring/status,
#     /health/monitoring, /monitoring/pipelines, /monitoring/jobs,
#     /monitoring/logs, /monitoring/alerts, /health (keep-alive, reconnected
#     every 5 s) and 20 'Connection: close' requests;
#   - bench/ws-clients.mjs churn opens 2 WebSocket clients every second, each
#     staying 1.5 s (about 3 connected at any time, each getting the 10 Hz
#     updates).
# The target's RSS is sampled every second.  The run fails if the average RSS
# of the last minute exceeds the average of the first minute after the
# warm-up by more than max(SOAK_TOL_KB, SOAK_TOL_PCT % of the first) (for runs
# shorter than 3 minutes the windows are a third of the run each), if a
# scrape or a WebSocket client failed, or the pipelines did not keep playing.
# The tolerance covers allocator noise (glibc arenas of the service and
# streaming threads settle within the first minute); a leak of one buffer
# per request or per update is far above it over 10 minutes.
set -u
cd "$(dirname "$0")/.."

SECS=
WARM_ARG=
SMOKE=0
N=1
KEEP=0
OUT=
while [ $# -gt 0 ]; do
  case $1 in
    --smoke) SMOKE=1 ;;
    -w) WARM_ARG=$2; shift ;;
    -n) N=$2; shift ;;
    -k) KEEP=1 ;;
    -o) OUT=$2; shift ;;
    [0-9]*) SECS=$1 ;;
    *) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 2 ;;
  esac
  shift
done
if [ -z "$SECS" ]; then
  if [ $SMOKE = 1 ]; then SECS=30; else SECS=600; fi
fi
WARM=20
[ $SMOKE = 1 ] && WARM=5
[ -n "$WARM_ARG" ] && WARM=$WARM_ARG
if [ -n "$OUT" ]; then
  mkdir -p "$OUT"; BENCH_WORK=$(cd "$OUT" && pwd)
else
  BENCH_WORK=$(mktemp -d /tmp/apm-soak.XXXXXX)
fi
export BENCH_WORK
. bench/bench-lib.sh
trap 'bench_cleanup' EXIT
trap 'exit 130' INT TERM
bench_env || exit 1

start_target $((SECS + WARM + 60)) -n "$N" || exit 1
start_sampler
start_prober
echo "bench: target pid $TARGET_PID at $URL, $N pipeline(s) + canary, ${SECS}s churn, work dir $BENCH_WORK" >&2
# the clients churn through the warm-up too: it is what settles
phase warmup
step scrapes $((WARM + SECS + 30)) $PY bench/scrapes.py "$URL" -d "$((WARM + SECS))" &
A=$!
step ws-churn $((WARM + SECS + 30)) node bench/ws-clients.mjs churn "$URL" -s "$((WARM + SECS))" -n 2 --hold 1500 &
B=$!
sleep "$WARM"
phase churn
wait $A $B
phase end; sleep 2
stop_target
$PY bench/report.py soak "$BENCH_WORK" --smoke=$SMOKE \
  --soak-tol-kb="${SOAK_TOL_KB:-4096}" --soak-tol-pct="${SOAK_TOL_PCT:-5}"
rc=$?
if [ $rc = 0 ] && [ $KEEP = 0 ]; then
  rm -rf "$BENCH_WORK"
else
  echo "bench: work dir kept: $BENCH_WORK" >&2
fi
exit $rc
