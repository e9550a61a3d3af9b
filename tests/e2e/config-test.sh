#!/bin/bash
# The configuration file (GST_TRACERS="apm(config=FILE)" or APM_CONFIG):
# a bad file is never fatal.  Each bad file gives, on stderr and (with
# bus-messages=true) as a WARNING on the pipeline's bus, "apm: warning: configuration file not
# used: FILE:LINE[:COL]: problem; running with the defaults", the pipeline
# still reaches EOS, and (checked on a live run) the defaults run and
# nothing of the file is applied.  A good file (data/apm.example.json) is
# accepted without a warning and its rules are served.
. "$(dirname "$0")/lib.sh"
require python3 curl timeout
set -m   # background jobs in their own process group, SIGINT not ignored

PIPELINE=(audiotestsrc num-buffers=5 '!' fakesink)
EXAMPLE=${APM_SOURCE_ROOT:-$(dirname "$0")/../..}/data/apm.example.json
[ -r "$EXAMPLE" ] || fail "no $EXAMPLE"

# ERE-quote a path
q() { printf '%s' "$1" | sed 's/[][\.*^$+?(){}|/]/\\&/g'; }

# bad NAME LINE-ERE PROBLEM-ERE [env...]: runs with config=$WORK/NAME.json
# and checks the warning "FILE:LINE: PROBLEM" on stderr and on the bus
bad() {
  local name=$1 where=$2 what=$3 file="$WORK/$1.json"
  local want
  want="configuration file not used: $(q "$file"):$where: $what"
  log "$name"
  launch "$name" "apm(port=0,quiet=true,bus-messages=true,config=$file)" "${PIPELINE[@]}"
  assert_eos "$name"
  assert_grep "$name" err "^apm: warning: $want" \
    "no stderr warning 'FILE:$where: $what'"
  assert_grep "$name" err "running with the defaults" \
    "the warning does not say the defaults run"
  assert_grep "$name" out "^WARNING: from element /GstPipeline:pipeline0: .*$want" \
    "no WARNING bus message 'FILE:$where: $what'"
}

# --- invalid JSON: json-glib's line and column, with our file's name ---
cat >"$WORK/syntax.json" <<'EOF'
{
  "alert_interval": 5,
  "rules": [ { "name": "x", } ]
}
EOF
bad syntax '3:[0-9]+' '.*'

# --- semantic error: the line of the offending key ---
cat >"$WORK/op.json" <<'EOF'
{
  "rules": [
    {
      "name": "bad_op",
      "metric": "apm_pipeline_stalled_seconds",
      "op": "~",
      "threshold": 1
    }
  ]
}
EOF
bad op 6 'rule "bad_op": op must be >, >=, <, <=, == or !='

cat >"$WORK/type.json" <<'EOF'
{
  "rules": [
    {"name": "bad_threshold", "metric": "apm_system_cpu_percent",
     "op": ">",
     "threshold": "high"}
  ]
}
EOF
bad type 5 '"threshold" must be a number'

cat >"$WORK/agg.json" <<'EOF'
{
  "rules": [
    {"name": "bad_agg", "metric": "apm_system_cpu_percent",
     "aggregation": "median", "op": ">", "threshold": 1}
  ]
}
EOF
bad agg 4 'rule "bad_agg": aggregation must be'

# --- unknown keys: at the top level, in a rule (also before its name) ---
cat >"$WORK/unknown.json" <<'EOF'
{
  "alert_interval": 5,
  "alert_intervall": 5
}
EOF
bad unknown 3 'unknown key "alert_intervall" in the top level'

cat >"$WORK/unknown_rule.json" <<'EOF'
{
  "rules": [
    {"name": "r1", "metric": "apm_system_cpu_percent",
     "threshold": 90, "severty": "critical"}
  ]
}
EOF
bad unknown_rule 4 'unknown key "severty" in a rule'


cat >"$WORK/url.json" <<'EOF'
{
  "webhook": {
    "url": "not a url"
  }
}
EOF
bad url 3 'webhook.url must be a valid URL'

# --- a file that cannot be read: the warning names it ---
log "missing file"
missing="$WORK/does-not-exist.json"
launch missing "apm(port=0,quiet=true,bus-messages=true,config=$missing)" "${PIPELINE[@]}"
assert_eos missing
assert_grep missing err "^apm: warning: configuration file not used: .*$(q "$missing").*; running with the defaults" \
  "no stderr warning naming the missing file"
assert_grep missing out "^WARNING: from element /GstPipeline:pipeline0: .*configuration file not used: .*$(q "$missing")" \
  "no WARNING bus message naming the missing file"

# --- APM_CONFIG, when config= is not given ---
log "APM_CONFIG"
APM_CONFIG="$WORK/op.json" launch env "apm(port=0,quiet=true)" "${PIPELINE[@]}"
assert_eos env
assert_grep env err "^apm: warning: configuration file not used: $(q "$WORK/op.json"):6: rule \"bad_op\": op must be" \
  "APM_CONFIG not read"

# --- live runs: what the service serves ---

# live NAME TRACERS: starts a live gst-launch-1.0 in the background; sets
# LIVE_PID and URL (from the "apm: serving" line)
live() {
  local name=$1 deadline
  GST_TRACERS=$2 gst-launch-1.0 -e audiotestsrc is-live=true '!' \
    fakesink sync=true >"$WORK/$name.out" 2>"$WORK/$name.err" &
  LIVE_PID=$!
  BG_PIDS+=("$LIVE_PID")
  deadline=$(( $(now_ms) + 20000 ))
  URL=
  until [ -n "$URL" ]; do
    alive "$LIVE_PID" || { dump_files "$WORK/$name.out" "$WORK/$name.err"; fail "$name: gst-launch died"; }
    [ "$(now_ms)" -lt "$deadline" ] || { dump_files "$WORK/$name.err"; fail "$name: no URL announced"; }
    URL=$(served_url "$WORK/$name.err")
    [ -n "$URL" ] || sleep 0.05
  done
}

# stop NAME: SIGINT (EOS with -e), exit status 0
stop() {
  kill -INT "$LIVE_PID"
  wait_exit "$LIVE_PID" 15 || fail "$1: gst-launch did not stop within 15 s of SIGINT"
  [ "$EXIT_STATUS" -eq 0 ] || { dump_files "$WORK/$1.out" "$WORK/$1.err"; fail "$1: gst-launch exited with $EXIT_STATUS"; }
}

# rule_names NAME: GET /monitoring/alerts/rules, one rule name a line
rule_names() {
  curl -sf --max-time 5 "$URL/monitoring/alerts/rules" >"$WORK/$1.rules.json" ||
    fail "$1: GET /monitoring/alerts/rules failed"
  python3 -c 'import json, sys
for r in json.load(open(sys.argv[1]))["rules"]:
    print(r["name"])' "$WORK/$1.rules.json" >"$WORK/$1.rules" ||
    fail "$1: rules are not JSON"
}

has_rule() { grep -qx -- "$2" "$WORK/$1.rules"; }

# a bad file changes nothing: its valid parts are not applied either
cat >"$WORK/partial.json" <<'EOF'
{
  "rules": [
    {"name": "apm_partial_rule", "metric": "apm_system_cpu_percent",
     "op": ">", "threshold": 50},
    {"name": "audio_silence", "enabled": false},
    {"name": "broken", "metric": "apm_system_cpu_percent", "op": "~",
     "threshold": 1}
  ]
}
EOF
log "bad file on a live run: the defaults run"
live partial "apm(port=0,config=$WORK/partial.json)"
assert_grep partial err "^apm: warning: configuration file not used: $(q "$WORK/partial.json"):6: rule \"broken\"" \
  "no warning for the partial file"
rule_names partial
has_rule partial apm_partial_rule && fail "a rule of a rejected file was applied"
has_rule partial audio_silence || fail "a rejected file disabled the default rule audio_silence"
for r in high_error_rate high_memory_usage slow_job_processing pipeline_stalled; do
  has_rule partial "$r" || fail "default rule $r missing after a rejected file"
done
stop partial

# the example is accepted as it is (its log file moved into $WORK)
log "data/apm.example.json"
sed "s|/tmp/apm.jsonl|$WORK/apm.jsonl|" "$EXAMPLE" >"$WORK/example.json"
live example "apm(port=0,config=$WORK/example.json)"
assert_no_grep example err '^apm: warning' "warning with the example file"
rule_names example
for r in latency_budget slow_resampler queue_filling; do
  has_rule example "$r" || { cat "$WORK/example.rules.json" >&2; fail "rule $r of the example not served"; }
done
has_rule example audio_silence && fail "audio_silence, disabled by the example, still served"
has_rule example pipeline_stalled || fail "default rule pipeline_stalled gone"
# the example's latency_budget replaced the default: p95 > 0.2, for 30 s
python3 -c 'import json, sys
rules = {r["name"]: r for r in json.load(open(sys.argv[1]))["rules"]}
lb = rules["latency_budget"]
assert lb["expression"].startswith("p95(apm_pipeline_latency_seconds"), lb
assert lb["expression"].endswith("> 0.2"), lb
assert lb["for_seconds"] == 30, lb
assert rules["slow_resampler"]["severity"] == "info"
assert "factory=\"audioresample\"" in rules["slow_resampler"]["expression"]
' "$WORK/example.rules.json" || fail "the example's rules are not served as written"
# its health checks are listed
curl -sf --max-time 5 "$URL/health/monitoring" >"$WORK/example.health.json" ||
  fail "GET /health/monitoring failed"
python3 -c 'import json, sys
checks = json.load(open(sys.argv[1]))["monitoring"]["health_checks"]
assert "upstream_api" in checks and "recordings_disk" in checks, checks
' "$WORK/example.health.json" || fail "the example's health checks are not listed"
stop example
assert_no_grep example out '^WARNING' "bus WARNING with the example file"

# the line of an unknown key written before the rule's "name" (last: the
# other cases run whatever this one says)
cat >"$WORK/unknown_first.json" <<'EOF'
{
  "rules": [
    {
      "treshold": 90,
      "name": "r2",
      "metric": "apm_system_cpu_percent"
    }
  ]
}
EOF
bad unknown_first 4 'unknown key "treshold" in a rule'

log "PASS"
