#!/bin/bash
# gst-apm compare, as a user runs it: a resampler at quality 10 against
# quality 0 is significantly slower (the ratio's whole 95 % interval above
# 1 for audioresample0); two identical variants are not significantly
# different; a live pipeline runs for --duration; --html writes a page;
# bad input (one pipeline, bad numbers, an unparsable pipeline) is an
# error with a message and a non-zero status.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
[ -x "$PY" ] || { echo "SKIP: $PY not found"; exit 77; }
GST_APM=${APM_BUILD_ROOT:?}/tools/gst-apm

# resampling 44.1 to 48 kHz, the quality the only difference
resampler() {
  echo "audiotestsrc num-buffers=2000 ! audio/x-raw,rate=44100,channels=2 !" \
    "audioresample quality=$1 ! audio/x-raw,rate=48000 ! fakesink"
}

# compare NAME ARGS...: gst-apm compare, bounded; $WORK/NAME.out/.err,
# status in STATUS
compare() {
  local name=$1
  shift
  STATUS=0
  run_with_deadline 30 "$GST_APM" compare "$@" \
    >"$WORK/$name.out" 2>"$WORK/$name.err" || STATUS=$?
}

# check NAME PYTHON-EXPR WHAT: the expression is true of the JSON output
# (d), with c(element) the element's comparison
check() {
  if ! "$PY" - "$WORK/$1.out" "$2" <<'PYEOF'; then
import json, sys
d = json.load(open(sys.argv[1]))
def c(element):
    found = [x for x in d["comparisons"] if x["element"] == element]
    assert found, "no comparison for " + element
    return found[0]
ok = eval(sys.argv[2])
if not ok:
    print(json.dumps(d["comparisons"], indent=1), file=sys.stderr)
sys.exit(0 if ok else 1)
PYEOF
    dump_files "$WORK/$1.err"
    fail "$1: $3 ($2)"
  fi
}

log "quality=10 against quality=0: significantly slower"
compare slow -n 10 --json --html "$WORK/report.html" "$(resampler 0)" \
  "$(resampler 10)"
[ "$STATUS" -eq 0 ] || { dump_files "$WORK/slow.err"; fail "exit status $STATUS"; }
check slow 'len(d["variants"]) == 2 and all(v["runs"] == 10 for v in d["variants"])' \
  "two variants of 10 runs each"
check slow 'c("audioresample0")["significant"] is True' "audioresample0 not significant"
check slow 'c("audioresample0")["ci95"][0] > 1 and c("audioresample0")["ratio"] > 1' \
  "the ratio's interval is not above 1"
check slow '"slower" in c("audioresample0")["verdict"]' "no verdict"
check slow 'all(e["buffers"] > 0 and 0 < e["own_seconds_per_buffer"]["mean"] < 0.01
  for v in d["variants"] for e in v["elements"])' "own times per buffer out of range"
check slow 'all(v["wall_seconds"]["ci95"][0] <= v["wall_seconds"]["mean"] <= v["wall_seconds"]["ci95"][1]
  and v["cpu_seconds"]["mean"] > 0 and v["live"] is False for v in d["variants"])' \
  "wall and cpu times"
grep -q '<svg' "$WORK/report.html" && grep -q 'audioresample0' "$WORK/report.html" \
  && grep -q 'quality=10' "$WORK/report.html" || fail "--html: no report"
grep -q '<script\|src="http\|href="http' "$WORK/report.html" \
  && fail "--html: the page is not self-contained"

log "identical variants: not significant"
compare same -n 6 --json "$(resampler 4)" "$(resampler 4)"
[ "$STATUS" -eq 0 ] || { dump_files "$WORK/same.err"; fail "exit status $STATUS"; }
check same 'c("audioresample0")["significant"] is False' "audioresample0 significant"
check same 'c("audioresample0")["ci95"][0] <= 1 <= c("audioresample0")["ci95"][1]' \
  "1 outside the interval"

log "the text table and its verdict line"
compare text -n 3 --warmup 0 "$(resampler 0)" "$(resampler 10)"
[ "$STATUS" -eq 0 ] || { dump_files "$WORK/text.err"; fail "exit status $STATUS"; }
grep -Eq '^  audioresample0 +[0-9.]+ \([0-9.e-]+-[0-9.e+-]+\)' "$WORK/text.out" \
  || { dump_files "$WORK/text.out"; fail "no own time row for audioresample0"; }
grep -Eq '^  audioresample0: (B is [0-9.]+x (slower|faster) \(|no significant)' \
  "$WORK/text.out" || { dump_files "$WORK/text.out"; fail "no verdict line"; }

log "a live pipeline runs for --duration"
compare live -n 2 --warmup 0 --duration 0.5 --json \
  'audiotestsrc is-live=true ! fakesink sync=true' \
  'audiotestsrc is-live=true ! audioconvert ! fakesink sync=true'
[ "$STATUS" -eq 0 ] || { dump_files "$WORK/live.err"; fail "exit status $STATUS"; }
check live 'all(v["live"] and 0.45 < v["wall_seconds"]["mean"] < 5 for v in d["variants"])' \
  "not live, or not for the duration"

log "bad input: an error each, nothing run"
# args | ERE of the message
BAD=(
  "$(resampler 0)|at least two pipelines"
  "-n abc|cannot parse|abc"
  "-n 1|RUNS must be 2"
  "--duration -1|duration must be"
  "--warmup x|warmup|x"
)
i=0
for b in "${BAD[@]}"; do
  args=${b%%|*}
  want=${b#*|}
  i=$((i + 1))
  if [ "$args" = "$(resampler 0)" ]; then
    compare bad$i "$args"
  else
    # shellcheck disable=SC2086
    compare bad$i $args "$(resampler 0)" "$(resampler 10)"
  fi
  [ "$STATUS" -ne 0 ] || fail "gst-apm compare $args: status 0"
  grep -Eq "$want" "$WORK/bad$i.err" \
    || { dump_files "$WORK/bad$i.err"; fail "gst-apm compare $args: no message /$want/"; }
done
compare unparsable --warmup 0 -n 2 "$(resampler 0)" 'audiotestsrc ! nosuchelement ! fakesink'
[ "$STATUS" -ne 0 ] || fail "an unparsable pipeline: status 0"
grep -q 'variant B' "$WORK/unparsable.err" && grep -q 'nosuchelement' "$WORK/unparsable.err" \
  || { dump_files "$WORK/unparsable.err"; fail "an unparsable pipeline: no message naming it"; }
[ ! -s "$WORK/unparsable.out" ] || fail "an unparsable pipeline: a report anyway"

log "PASS"
