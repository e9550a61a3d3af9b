#!/bin/bash
# A real Prometheus server (Debian's `prometheus`) on loopback scrapes the
# representative live pipeline (two apmonitor, queues, tee to two sinks,
# audiomixer fan-in) every second.  Within a deadline its query API must
# return non-empty, non-NaN results for
#   rate(apm_pad_buffers_total[10s])
#   histogram_quantile(0.95, sum by (le, element)
#       (rate(apm_element_processing_seconds_bucket[10s])))
# and the end-to-end latency p95; the target must be up with no scrape
# error, and the server must have dropped no sample (duplicate timestamp,
# out of order, out of bounds).  Everything is stopped by the EXIT trap.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/prom-lib.sh"
set -euo pipefail
require python3 curl prometheus

QUERY_DEADLINE_S=40     # the first sample comes ~5-6 s after the start

start_representative rep
prom_start "$APM_ADDR"

promcheck wait "$PROM_URL" "$QUERY_DEADLINE_S" \
  'rate(apm_pad_buffers_total[10s]) > 0' \
  'histogram_quantile(0.95, sum by (le, element) (rate(apm_element_processing_seconds_bucket[10s])))' \
  'histogram_quantile(0.95, sum by (le, source, sink) (rate(apm_pipeline_latency_seconds_bucket[10s])))' \
  'up{job="apm"} == 1' ||
  { dump_files "$WORK/prom.err" "$WORK/rep.err"; fail "queries did not answer"; }

# the pipeline's own series, with the labels the dashboard relies on
promcheck wait "$PROM_URL" 5 \
  'apm_pad_buffers_total{pipeline="pipeline0",element="capture",pad="src"}' \
  'apm_monitor_peak_dbfs{pipeline="pipeline0",monitor="out1"}' \
  'apm_queue_level_buffers{pipeline="pipeline0",element="q_out"}' \
  'count(apm_pipeline_latency_seconds_count{source=~"src_a|src_b",sink=~"sink_sync|sink_nosync"}) == 4' ||
  fail "expected series missing"

promcheck scrape-health "$PROM_URL" 1 ||
  { dump_files "$WORK/prom.err"; fail "scrapes are not healthy"; }
alive "$APM_PID" || fail "the pipeline died"
log "PASS"
