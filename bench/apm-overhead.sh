#!/bin/bash
# apm-overhead.sh - what GST_TRACERS=apm costs, against no tracer.
#
# Usage: bench/apm-overhead.sh [-n PAIRS] [-T] [-C] [TRACERS]
#   TRACERS   GST_TRACERS value for the measured side (default 'apm(quiet=true,port=0)')
#   -n PAIRS  interleaved (none, tracer) runs per pipeline for cpu time (default 5)
#   -T        skip cpu timing     -C  skip callgrind
#
# Prints for P1 and P2 (the pipelines of issue 2) the median user+sys cpu
# seconds of each side and the median per-pair ratio; then callgrind
# instructions for P1: (Ir_tracer - Ir_none) / buffers at 20,000 buffers
# (start-up included, as ../shared/bench/tracer-overhead.sh reports it) and
# the marginal cost per buffer from the slope between 5,000 and 25,000
# buffers (start-up excluded).
# callgrind runs with --fair-sched=yes: valgrind's default scheduler lets
# the threads interleave differently from run to run, which moved even the
# no-tracer side's total by up to 10 M instructions (500 per buffer); with
# it, repeated runs agree within 40 instructions per buffer.
# Needs: a build in build/, /usr/bin/time, valgrind.
set -u
cd "$(dirname "$0")/.."

PAIRS=5
DO_TIME=1
DO_CG=1
while getopts "n:TCh" opt; do
  case $opt in
    n) PAIRS=$OPTARG ;;
    T) DO_TIME=0 ;;
    C) DO_CG=0 ;;
    *) sed -n '2,/^# Needs/p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
TRACERS=${1:-apm(quiet=true,port=0)}

P1="audiotestsrc num-buffers=200000 samplesperbuffer=64 ! audioconvert ! volume volume=0.5 ! fakesink sync=false"
P2="audiotestsrc num-buffers=20000 samplesperbuffer=1024 ! audio/x-raw,rate=48000,channels=2 ! audioconvert ! audioresample ! audio/x-raw,rate=44100 ! volume ! level ! fakesink sync=false"
p1_with() { echo "audiotestsrc num-buffers=$1 samplesperbuffer=64 ! audioconvert ! volume volume=0.5 ! fakesink sync=false"; }

WORK=$(mktemp -d /tmp/apm-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
unset GST_DEBUG GST_TRACERS GST_DEBUG_FILE
export GST_PLUGIN_PATH=$PWD/build/gst-plugin
export GST_REGISTRY=$WORK/registry.bin
gst-inspect-1.0 apm >/dev/null 2>&1 || { echo "apm tracer not found: build first (scripts/setup.sh)" >&2; exit 1; }

cpu_of() { # side pipeline -> user+sys seconds
  local side=$1; shift
  local -a words; read -r -a words <<<"$*"
  if [ "$side" = none ]; then
    /usr/bin/time -f '%U %S' -o "$WORK/t" gst-launch-1.0 -q "${words[@]}" >/dev/null 2>&1
  else
    GST_TRACERS="$TRACERS" /usr/bin/time -f '%U %S' -o "$WORK/t" gst-launch-1.0 -q "${words[@]}" >/dev/null 2>&1
  fi || { echo "gst-launch-1.0 failed ($side)" >&2; exit 1; }
  awk '{print $1 + $2}' "$WORK/t"
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

time_pipeline() {
  local name=$1 pipe=$2 i a b
  : >"$WORK/pairs"
  cpu_of none "$pipe" >/dev/null; cpu_of tracer "$pipe" >/dev/null   # warm-up
  for ((i = 0; i < PAIRS; i++)); do
    a=$(cpu_of none "$pipe"); b=$(cpu_of tracer "$pipe")
    echo "$a $b" >>"$WORK/pairs"
  done
  printf '%s cpu s: none %.2f  apm %.2f  ratio %.2f (median of %d pairs)\n' "$name" \
    "$(awk '{print $1}' "$WORK/pairs" | median)" "$(awk '{print $2}' "$WORK/pairs" | median)" \
    "$(awk '{print ($1 > 0 ? $2/$1 : 0)}' "$WORK/pairs" | median)" "$PAIRS"
}

ir_of() { # side buffers -> Ir
  local side=$1 n=$2
  local -a words; read -r -a words <<<"$(p1_with "$n")"
  if [ "$side" = none ]; then
    valgrind --tool=callgrind --fair-sched=yes --callgrind-out-file=/dev/null gst-launch-1.0 -q "${words[@]}" >/dev/null 2>"$WORK/cg"
  else
    GST_TRACERS="$TRACERS" valgrind --tool=callgrind --fair-sched=yes --callgrind-out-file=/dev/null gst-launch-1.0 -q "${words[@]}" >/dev/null 2>"$WORK/cg"
  fi
  sed -n 's/.*Collected : *\([0-9]*\).*/\1/p' "$WORK/cg" | tail -1
}

echo "GST_TRACERS='$TRACERS'"
if [ $DO_TIME = 1 ]; then
  time_pipeline P1 "$P1"
  time_pipeline P2 "$P2"
fi
if [ $DO_CG = 1 ]; then
  n0=$(ir_of none 20000); t0=$(ir_of tracer 20000)
  a=$(ir_of none 5000); b=$(ir_of none 25000)
  c=$(ir_of tracer 5000); d=$(ir_of tracer 25000)
  awk -v n0="$n0" -v t0="$t0" -v a="$a" -v b="$b" -v c="$c" -v d="$d" 'BEGIN {
    printf "P1 callgrind @20000 buffers: Ir none %.0f  apm %.0f  added %.0f instructions/buffer (start-up included)\n", n0, t0, (t0-n0)/20000
    printf "P1 callgrind marginal: none %.0f  apm %.0f  added %.0f instructions/buffer (slope 5000..25000 buffers)\n", (b-a)/20000, (d-c)/20000, ((d-c)-(b-a))/20000 }'
fi
