#!/bin/bash
# data/grafana/apm-dashboard.json against a real Prometheus server:
#   - static checks for file provisioning: a datasource variable DS_PROMETHEUS
#     (type datasource, query prometheus), every panel and target with
#     datasource {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}, no
#     __inputs, a $pipeline variable from label_values(apm_pipeline_state...);
#   - every template variable query and every panel target expression, with
#     $pipeline/$instance -> .*, $__rate_interval -> 10s, $__range -> 1m,
#     is valid (no status error) and returns, within a deadline, a non-empty
#     result with a non-NaN value.
# Prometheus scrapes three processes so that every panel has data:
#   - the representative live pipeline (mixer, tee, queues, two apmonitor),
#     with a third apmonitor on the capture branch that ends the stage span
#     capture->stage_end (the span panels);
#   - a live pipeline that cannot keep up (QoS drops, lateness, underruns,
#     real-time factor below 1);
#   - gst-play-1.0 playing an unreadable file (ERROR messages), a 6 s file
#     then six 1 s files (jobs that end while Prometheus is scraping, which
#     starts ~5-6 s after the server: the job panels need two ends after the
#     first scrape, as apm_jobs_completed_total{status} only appears at its
#     first increment) and a long file to keep serving; the files it reads
#     are the filesystem panels' (apm_filesystem_*).
# The host panels (per-core CPU, disk I/O) read /proc of this machine.
# No panel is allowed to stay empty.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/prom-lib.sh"
set -euo pipefail
require python3 curl prometheus gst-play-1.0

SRC=${APM_SOURCE_ROOT:-$(cd "$E2E_DIR/../.." && pwd)}
DASHBOARD=$SRC/data/grafana/apm-dashboard.json
PANELS_DEADLINE_S=40
# panels allowed to stay empty in this test (titles); keep it empty
ALLOW_EMPTY=()

promcheck dashboard-lint "$DASHBOARD"

echo "not audio" >"$WORK/unreadable.txt"
make_wav "$WORK/first.wav" 6
make_wav "$WORK/short.wav" 1
make_wav "$WORK/long.wav" 60

start_player play "$WORK/unreadable.txt" "$WORK/first.wav" \
  "$WORK/short.wav" "$WORK/short.wav" "$WORK/short.wav" "$WORK/short.wav" \
  "$WORK/short.wav" "$WORK/short.wav" "$WORK/long.wav"
PLAY=$APM_ADDR
start_representative rep ! apmonitor name=stage_end span-from=capture
REP=$APM_ADDR
start_late late
LATE=$APM_ADDR
prom_start "$PLAY" "$REP" "$LATE"

args=()
for t in "${ALLOW_EMPTY[@]}"; do
  args+=(--allow-empty "$t")
done
if ! promcheck panels "$PROM_URL" "$PANELS_DEADLINE_S" "$DASHBOARD" "${args[@]}"; then
  dump_files "$WORK/prom.err" "$WORK/play.out" "$WORK/play.err"
  fail "dashboard panels do not all answer"
fi
promcheck scrape-health "$PROM_URL" 3 || fail "scrapes are not healthy"
log "PASS"
