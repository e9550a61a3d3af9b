#!/bin/bash
# live-many.sh - what a tracer costs on a live server: many live pipelines, many threads.
# (kept in the project from ../shared/bench/live-many.sh, issue 13; -p defaults to this checkout's build)
#
# Usage: live-many.sh [-c CHAINS] [-s SECONDS] [-w WARMUP] [-r ROUNDS] [-p PLUGIN_PATH] TRACERS...
#
#   -c CHAINS   live chains in one gst-launch process (default 50; 10 elements each)
#   -s SECONDS  measured seconds per run (default 20)
#   -w WARMUP   seconds before measuring (default 6)
#   -r ROUNDS   rounds; each round runs no tracer, then every TRACERS value (default 2)
#   -p PATH     GST_PLUGIN_PATH (e.g. the build's gst-plugin folder)
#   TRACERS     GST_TRACERS values to compare, e.g. 'apm(port=0,quiet=true)' stats;
#               TRACER@PATH runs that one with GST_PLUGIN_PATH=PATH (two builds
#               side by side: 'apm(port=0,quiet=true)@/tmp/build-base/gst-plugin')
#
# Each chain: audiotestsrc is-live=true samplesperbuffer=480 (100 buffers/s) ! audioconvert
# ! volume ! queue ! audioresample ! volume ! audioconvert ! identity ! level
# ! fakesink sync=true.  50 chains = 500 elements and 100 streaming threads, each waking
# 100 times a second: the cache is cold at every wake-up, unlike a single-thread hot loop.
# Prints, per run, process cpu ticks (1/100 s) over the measured window and RSS; then per
# tracer the median of (ticks / ticks of the no-tracer run of the same round) and the
# median RSS added.  Runs are interleaved so machine noise hits every side alike.
set -u
CHAINS=50 SECS=20 WARM=6 ROUNDS=2 PLUGIN_PATH=$(cd "$(dirname "$0")/.." && pwd)/build/gst-plugin
while getopts "c:s:w:r:p:h" opt; do
  case $opt in
    c) CHAINS=$OPTARG ;; s) SECS=$OPTARG ;; w) WARM=$OPTARG ;; r) ROUNDS=$OPTARG ;;
    p) PLUGIN_PATH=$OPTARG ;;
    *) sed -n '2,/^set -u/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || { echo "usage: $0 [options] TRACERS..." >&2; exit 2; }
unset GST_DEBUG GST_TRACERS GST_DEBUG_FILE
[ -n "$PLUGIN_PATH" ] && export GST_PLUGIN_PATH=$PLUGIN_PATH
export GST_REGISTRY=$(mktemp -u /tmp/live-many-registry.XXXXXX)
trap 'rm -f "$GST_REGISTRY" "$GST_REGISTRY".*' EXIT

chain="audiotestsrc is-live=true samplesperbuffer=480 ! audioconvert ! volume ! queue ! audioresample ! volume ! audioconvert ! identity ! level ! fakesink sync=true"
P=""
for _ in $(seq 1 "$CHAINS"); do P="$P $chain"; done
gst-launch-1.0 -q audiotestsrc num-buffers=1 ! fakesink >/dev/null 2>&1  # registry

# run TRACERS-or-empty -> "ticks rss_kB"
run() {
  local pid t0 t1 rss
  if [ "${1#*@}" != "$1" ]; then
    # another build: its own plugin path and registry
    local GST_PLUGIN_PATH=${1#*@} GST_REGISTRY=$GST_REGISTRY.$(echo "${1#*@}" | md5sum | cut -c1-8)
    export GST_PLUGIN_PATH GST_REGISTRY
    set -- "${1%%@*}"
  fi
  if [ -z "$1" ]; then
    gst-launch-1.0 -q $P >/dev/null 2>&1 &
  else
    GST_TRACERS="$1" GST_DEBUG_FILE=/dev/null gst-launch-1.0 -q $P >/dev/null 2>&1 &
  fi
  pid=$!
  sleep "$WARM"
  t0=$(awk '{print $14 + $15}' /proc/$pid/stat)
  sleep "$SECS"
  t1=$(awk '{print $14 + $15}' /proc/$pid/stat)
  rss=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
  kill -INT $pid; wait $pid 2>/dev/null
  echo "$((t1 - t0)) $rss"
}

declare -A RATIOS RSSADD
for r in $(seq 1 "$ROUNDS"); do
  read -r base base_rss < <(run "")
  echo "round $r  none: $base ticks, RSS $base_rss kB"
  for t in "$@"; do
    read -r ticks rss < <(run "$t")
    ratio=$(awk -v a="$ticks" -v b="$base" 'BEGIN {printf "%.3f", a / b}')
    RATIOS[$t]="${RATIOS[$t]:-} $ratio"
    RSSADD[$t]="${RSSADD[$t]:-} $((rss - base_rss))"
    echo "round $r  $t: $ticks ticks (x$ratio), RSS $rss kB (+$((rss - base_rss)))"
  done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {if (NR % 2) print a[(NR+1)/2]; else printf "%.3f\n", (a[NR/2]+a[NR/2+1])/2}'; }
echo "--- $CHAINS chains x 10 elements, $SECS s, $ROUNDS rounds"
for t in "$@"; do
  echo "$t: cpu ratio median $(echo "${RATIOS[$t]}" | median), RSS added median $(echo "${RSSADD[$t]}" | median) kB"
done
