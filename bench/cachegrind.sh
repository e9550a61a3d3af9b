#!/bin/bash
# cachegrind.sh - what a tracer costs in instructions and simulated cache misses.
#
# Usage: bench/cachegrind.sh [-p PLUGIN_PATH] [TRACERS]
#   TRACERS   GST_TRACERS value (default 'apm(quiet=true,port=0)')
#   -p PATH   GST_PLUGIN_PATH (default: this checkout's build/gst-plugin)
#
# Two workloads, each run with no tracer and with TRACERS under
# valgrind --tool=cachegrind --fair-sched=yes --cache-sim=yes:
#   P1    audiotestsrc num-buffers=20000 samplesperbuffer=64 ! audioconvert
#         ! volume ! fakesink sync=false (one hot thread)
#   live  5 live chains of 10 elements (those of live-many.sh): 10 threads
#         taking turns, as a server's threads do
# Prints per buffer (per buffer and chain for live) what the tracer adds:
# instructions (Ir), first-level data misses (D1mr + D1mw) and last-level
# misses (DLmr + DLmw), from the slope between a short and a long run
# (start-up excluded): 5,000 and 25,000 buffers for P1, 200 and 600 per
# chain for live.  The simulated caches are valgrind's model of this
# machine's, with threads serialised: a guide to cache lines touched, not a
# measurement of the hardware.
set -eu
cd "$(dirname "$0")/.."
PLUGIN_PATH=$PWD/build/gst-plugin
while getopts "p:h" opt; do
  case $opt in
    p) PLUGIN_PATH=$OPTARG ;;
    *) sed -n '2,/^set -eu/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
TRACERS=${1:-apm(quiet=true,port=0)}
unset GST_DEBUG GST_TRACERS
export GST_PLUGIN_PATH=$PLUGIN_PATH GST_DEBUG_FILE=/dev/null
export GST_REGISTRY=$(mktemp -u /tmp/cachegrind-registry.XXXXXX)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp" "$GST_REGISTRY"' EXIT
gst-launch-1.0 -q audiotestsrc num-buffers=1 ! fakesink >/dev/null 2>&1

p1() { echo "audiotestsrc num-buffers=$1 samplesperbuffer=64 ! audioconvert ! volume volume=0.5 ! fakesink sync=false"; }
live() {
  local chain="audiotestsrc is-live=true num-buffers=$1 samplesperbuffer=480 ! audioconvert ! volume ! queue ! audioresample ! volume ! audioconvert ! identity ! level ! fakesink sync=true"
  echo "$chain $chain $chain $chain $chain"
}

# run NAME TRACERS-or-empty PIPELINE -> "Ir D1 DL" totals
run() {
  local out=$tmp/$1.out
  if [ -n "$2" ]; then
    GST_TRACERS="$2" valgrind --tool=cachegrind --fair-sched=yes --cache-sim=yes \
        --cachegrind-out-file="$out" gst-launch-1.0 -q $3 >/dev/null 2>&1
  else
    valgrind --tool=cachegrind --fair-sched=yes --cache-sim=yes --cachegrind-out-file="$out" \
        gst-launch-1.0 -q $3 >/dev/null 2>&1
  fi
  # events: Ir I1mr ILmr Dr D1mr DLmr Dw D1mw DLmw
  awk '/^summary:/ {print $2, $6 + $9, $7 + $10}' "$out"
}

# ours NAME -> first-level data misses in the tracer's own code (its files,
# headers inlined included), a direct count that start-up noise in the
# process totals does not blur
ours() {
  # the per-function lines only (file:function), not the annotated source
  cg_annotate --show=D1mr,D1mw --threshold=0 --auto=no "$tmp/$1.out" 2>/dev/null |
    awk '{ gsub(/\( *-?[0-9.]+%\)/, ""); gsub(/,/, "") }
      NF == 3 && $1 ~ /^[0-9]+$/ && $2 ~ /^[0-9]+$/ &&
      $3 ~ /(gst-plugin\/gstapm|src\/apm-)[^:]*:/ { n += $1 + $2 }
      END { print n + 0 }'
}

# report WHAT BUFFERS_ADDED none_short none_long traced_short traced_long
report() {
  echo "$3 $4 $5 $6" | awk -v w="$1" -v n="$2" -v t="$TRACERS" '{
    ni = ($4 - $1) / n; nd = ($5 - $2) / n; nl = ($6 - $3) / n
    ti = ($10 - $7) / n; td = ($11 - $8) / n; tl = ($12 - $9) / n
    printf "%s per buffer: none %.0f Ir, %.2f D1, %.3f DL misses; %s adds %.0f Ir, %.2f D1, %.3f DL misses\n",
        w, ni, nd, nl, t, ti - ni, td - nd, tl - nl }'
}

report P1 20000 "$(run a "" "$(p1 5000)")" "$(run b "" "$(p1 25000)")" \
    "$(run c "$TRACERS" "$(p1 5000)")" "$(run d "$TRACERS" "$(p1 25000)")"
report "live (per chain)" 2000 "$(run e "" "$(live 200)")" \
    "$(run f "" "$(live 600)")" "$(run g "$TRACERS" "$(live 200)")" \
    "$(run h "$TRACERS" "$(live 600)")"
echo "$(ours d) $(ours h)" | awk '{ printf "in the tracer'"'"'s own code: P1 %.2f D1 misses per buffer (25,000 buffers), live %.2f per chain-buffer (3,000)\n", $1 / 25000, $2 / 3000 }'
