#!/bin/bash
# Many monitored processes on one host: three gst-launch-1.0 with default
# params all serve (the default port, then the next free ones of
# 9464-9563), register in the runtime directory, and gst-apm finds them:
# `list --json` lists the three, `top --once` shows the elements of all
# three, and a real Prometheus reading `sd --output`'s file through
# file_sd_configs has the three targets up.  An entry left by a killed
# process is skipped and cleaned away.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/prom-lib.sh"
set -euo pipefail
require curl prometheus python3 timeout
GST_APM=$APM_BUILD_ROOT/tools/gst-apm
[ -x "$GST_APM" ] || fail "$GST_APM was not built"

export APM_RUNTIME_DIR=$WORK/run
mkdir -p "$APM_RUNTIME_DIR"
# a stale entry: the pid of a process that has exited
sleep 0 &
dead=$!
wait "$dead" || true
echo "{\"pid\": $dead, \"url\": \"http://127.0.0.1:1\", \"port\": 1, \"address\": \"127.0.0.1\"}" \
  >"$APM_RUNTIME_DIR/$dead.json"

for i in 1 2 3; do
  GST_TRACERS=apm timeout -s INT "$BG_TIMEOUT_S" gst-launch-1.0 \
    audiotestsrc is-live=true samplesperbuffer=441 ! audioconvert name=conv$i \
    ! queue ! fakesink sync=true >"$WORK/p$i.out" 2>"$WORK/p$i.err" &
  BG_PIDS+=("$!")
done

# all three serve and are listed (reachable, with their pipeline)
deadline=$(( $(now_ms) + 20000 ))
until "$GST_APM" list --json >"$WORK/list.json" 2>"$WORK/list.err" &&
    python3 -c '
import json, sys
inst = json.load(open(sys.argv[1]))["instances"]
ok = [i for i in inst if i["reachable"] and i["pipelines"] == ["pipeline0"]]
sys.exit(0 if len(ok) == 3 else 1)' "$WORK/list.json"; do
  [ "$(now_ms)" -lt "$deadline" ] ||
    { dump_files "$WORK/list.json" "$WORK/p1.err" "$WORK/p2.err" "$WORK/p3.err";
      fail "gst-apm list did not list three serving processes within 20 s"; }
  sleep 0.2
done
ports=$(python3 -c '
import json, sys
print(" ".join(str(i["port"]) for i in json.load(open(sys.argv[1]))["instances"]))' "$WORK/list.json")
log "three processes serve on ports $ports"
python3 - "$ports" <<'PYEOF' || fail "ports $ports: not three distinct ports of 9464-9563"
import sys
ports = [int(p) for p in sys.argv[1].split()]
sys.exit(0 if len(set(ports)) == 3 and all(9464 <= p <= 9563 for p in ports) else 1)
PYEOF
for i in 1 2 3; do
  assert_grep "p$i" err '^apm: serving http://127\.0\.0\.1:9[45][0-9][0-9]' \
    "process $i printed no URL"
done
# whoever did not get the default port says so
[ "$(cat "$WORK"/p?.err | grep -c 'in use')" -ge 2 ] ||
  { dump_files "$WORK/p1.err" "$WORK/p2.err" "$WORK/p3.err";
    fail "the processes that moved to another port did not say why"; }
[ ! -e "$APM_RUNTIME_DIR/$dead.json" ] || fail "the stale entry of pid $dead was not cleaned"
# each entry names its process's pipelines (rewritten as they come and go)
for f in "$APM_RUNTIME_DIR"/*.json; do
  python3 -c '
import json, sys
e = json.load(open(sys.argv[1]))
sys.exit(0 if e.get("pipelines") == ["pipeline0"] and e.get("cmdline") else 1)' "$f" ||
    { dump_files "$f"; fail "registry entry $f lacks its pipelines or command line"; }
done
grep -q "\"pid\" : $dead" "$WORK/list.json" && fail "the stale entry of pid $dead was listed"

# each service shows the others (the dashboard's links): itself flagged
url1=$(python3 -c '
import json, sys
print(json.load(open(sys.argv[1]))["instances"][0]["url"])' "$WORK/list.json")
curl -sf --max-time 5 "$url1/monitoring/instances" >"$WORK/instances.json" ||
  fail "GET $url1/monitoring/instances failed"
python3 - "$WORK/instances.json" "$url1" <<'PYEOF2' || { dump_files "$WORK/instances.json"; fail "/monitoring/instances is wrong"; }
import json, sys
inst = json.load(open(sys.argv[1]))["instances"]
selves = [i for i in inst if i["self"]]
assert len(inst) == 3 and len(selves) == 1 and selves[0]["url"] == sys.argv[2], inst
assert all("cmdline" not in i for i in inst), "command lines must not be served"
PYEOF2

# top --once: the elements of all three
run_with_deadline 20 "$GST_APM" top --once -n 100 >"$WORK/top.txt" 2>&1 ||
  { dump_files "$WORK/top.txt"; fail "gst-apm top --once failed"; }
for i in 1 2 3; do
  grep -q " conv$i " "$WORK/top.txt" ||
    { dump_files "$WORK/top.txt"; fail "top --once does not show conv$i"; }
done
grep -q '3 processes' "$WORK/top.txt" || fail "top --once does not count 3 processes"

# sd --output, --watch: a real Prometheus finds the three
export PROM_SD_FILE=$WORK/sd.json
"$GST_APM" sd --output "$PROM_SD_FILE" --watch --interval 0.5 2>"$WORK/sd.err" &
BG_PIDS+=("$!")
deadline=$(( $(now_ms) + 10000 ))
until [ -s "$PROM_SD_FILE" ]; do
  [ "$(now_ms)" -lt "$deadline" ] || fail "gst-apm sd wrote no file"
  sleep 0.1
done
# exemplar storage: Prometheus asks for OpenMetrics, and keeps the trace
# ids of the runs that the histogram buckets carry
PROM_FLAGS=--enable-feature=exemplar-storage prom_start
promcheck wait "$PROM_URL" 30 'count(up{job="apm"} == 1) == 3' \
  'count(count by (pid) (apm_pad_buffers_total)) == 3' ||
  { dump_files "$PROM_SD_FILE" "$WORK/prom.err"; fail "Prometheus does not have the three targets up"; }
deadline=$(( $(now_ms) + 20000 ))
until curl -sf --max-time 5 -G "$PROM_URL/api/v1/query_exemplars" \
    --data-urlencode 'query=apm_element_processing_seconds_bucket' \
    --data-urlencode "start=$(( $(date +%s) - 600 ))" \
    --data-urlencode "end=$(( $(date +%s) + 60 ))" >"$WORK/exemplars.json" &&
    python3 - "$WORK/exemplars.json" "$WORK/list.json" <<'PYEOF2'
import json, re, sys
data = json.load(open(sys.argv[1]))["data"]
pids = {str(i["pid"]) for i in json.load(open(sys.argv[2]))["instances"]}
seen = set()
for series in data:
    for ex in series["exemplars"]:
        if re.fullmatch(r"[0-9a-f]{32}", ex["labels"].get("trace_id", "")):
            seen.add(series["seriesLabels"].get("pid"))
sys.exit(0 if seen >= pids else 1)
PYEOF2
do
  [ "$(now_ms)" -lt "$deadline" ] ||
    { dump_files "$WORK/exemplars.json"; fail "Prometheus has no exemplars with trace ids from all three processes"; }
  sleep 0.5
done
log "exemplars with trace ids in Prometheus from all three processes"
log "PASS"
