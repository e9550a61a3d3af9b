#!/usr/bin/python3
"""The /metrics exposition as Prometheus and curl see it, checked by the
reference parsers of python3-prometheus-client (not ours).

Runs in the monitored process itself (GST_TRACERS=apm(port=0)): a live
pipeline whose element names and application labels carry quotes,
backslashes, newlines and UTF-8, then /metrics fetched with:
  - Prometheus' Accept header and gzip: OpenMetrics 1.0.0, compressed;
  - no Accept header (curl): text 0.0.4, uncompressed;
  - Accept: text/plain with gzip, and Accept with q-values preferring text.
Each body must parse without error, and the odd names must read back
exactly.  Exits non-zero with a message on the first failure."""
import gzip
import sys
import time
import urllib.request

import gi
gi.require_version("Gst", "1.0")
gi.require_version("Apm", "1.0")
from gi.repository import Apm, Gst  # noqa: E402
from prometheus_client.openmetrics.parser import \
    text_string_to_metric_families as parse_openmetrics  # noqa: E402
from prometheus_client.parser import \
    text_string_to_metric_families as parse_text  # noqa: E402

PROMETHEUS_ACCEPT = ("application/openmetrics-text;version=1.0.0,"
                     "application/openmetrics-text;version=0.0.1;q=0.75,"
                     "text/plain;version=0.0.4;q=0.5,*/*;q=0.1")
ODD_ELEMENT = 'we"ird\\ name\né'
ODD_LABEL = 'a"b\\c\nd é ü'


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def fetch(url, headers):
    req = urllib.request.Request(url + "/metrics", headers=headers)
    with urllib.request.urlopen(req, timeout=10) as resp:
        body = resp.read()
        return resp.headers, body


def samples(families):
    return [s for f in families for s in f.samples]


Gst.init(None)
pipeline = Gst.parse_launch(
    "audiotestsrc is-live=true samplesperbuffer=441 name=src ! "
    "audioconvert name=conv ! apmonitor name=mon ! queue ! fakesink")
odd = Gst.ElementFactory.make("identity", ODD_ELEMENT)
if odd is None or odd.get_name() != ODD_ELEMENT:
    fail("could not name an element %r" % ODD_ELEMENT)
sink = Gst.ElementFactory.make("fakesink", None)
src2 = Gst.ElementFactory.make("audiotestsrc", None)
src2.set_property("is-live", True)
for e in (src2, odd, sink):
    pipeline.add(e)
src2.link(odd)
odd.link(sink)
pipeline.set_state(Gst.State.PLAYING)

monitor = Apm.Monitor.get_default()
if not monitor.increment_counter("e2e_odd_labels_total", 3,
                                 {"who": ODD_LABEL}):
    fail("increment_counter refused a valid label value")
monitor.record_histogram("e2e_odd_latency_seconds", 0.25, {"who": ODD_LABEL})
# a finished job: its histograms' buckets carry its trace as exemplar
correlation_id = monitor.start_job_tracking("e2e-exemplar-job")
time.sleep(0.05)
monitor.record_job_stage("e2e-exemplar-job", "decode", 0.04, None)
monitor.complete_job_tracking("e2e-exemplar-job", "success", None)
trace_id = correlation_id.replace("-", "").lower()

deadline = time.monotonic() + 20
url = None
while time.monotonic() < deadline:
    url = monitor.get_url()
    if url:
        _, body = fetch(url, {})
        if b'apm_pad_buffers_total' in body and b'e2e_odd' in body:
            break
    time.sleep(0.2)
else:
    fail("the service did not serve the pipeline's metrics within 20 s")
time.sleep(1.5)  # at least one aggregator pass: rates, real-time factors

# Prometheus: OpenMetrics, gzip
headers, body = fetch(url, {"Accept": PROMETHEUS_ACCEPT,
                            "Accept-Encoding": "gzip"})
ctype = headers.get("Content-Type", "")
if not ctype.startswith("application/openmetrics-text; version=1.0.0"):
    fail("Prometheus' Accept got Content-Type %r" % ctype)
if headers.get("Content-Encoding") != "gzip":
    fail("Accept-Encoding: gzip got Content-Encoding %r"
         % headers.get("Content-Encoding"))
if "Accept-Encoding" not in headers.get("Vary", ""):
    fail("no Vary: Accept-Encoding")
om_text = gzip.decompress(body).decode("utf-8")
if not om_text.endswith("# EOF\n"):
    fail("OpenMetrics body does not end with # EOF")
try:
    om = list(parse_openmetrics(om_text))
except ValueError as e:
    fail("OpenMetrics parser: %s" % e)
by_name = {f.name: f for f in om}
for name, typ in (("apm_pad_buffers", "counter"),
                  ("apm_element_processing_seconds", "histogram"),
                  ("e2e_odd_labels", "counter"),
                  ("apm_monitor_rms_dbfs", "gauge")):
    if name not in by_name or by_name[name].type != typ:
        fail("OpenMetrics family %s (%s) missing or mistyped" % (name, typ))
if by_name["apm_element_processing_seconds"].unit != "seconds":
    fail("no # UNIT seconds for apm_element_processing_seconds")
if by_name["apm_pad_bytes"].unit != "bytes":
    fail("no # UNIT bytes for apm_pad_bytes")
if not all(s.name == "apm_pad_buffers_total"
           for s in by_name["apm_pad_buffers"].samples):
    fail("counter samples must carry _total")
elements = {s.labels.get("element") for s in samples(om)}
if ODD_ELEMENT not in elements:
    fail("element %r did not read back from OpenMetrics (got %d names)"
         % (ODD_ELEMENT, len(elements)))
odd_samples = [s for s in by_name["e2e_odd_labels"].samples
               if s.labels.get("who") == ODD_LABEL]
if not odd_samples or odd_samples[0].value != 3:
    fail("label value %r did not read back from OpenMetrics" % ODD_LABEL)

# exemplars: the job's trace id, 32 lowercase hex digits, on the bucket
# its processing time fell in, with that value
job = next((s for s in by_name["apm_job_processing_seconds"].samples
            if s.name.endswith("_bucket") and s.exemplar), None)
if job is None:
    fail("no exemplar on apm_job_processing_seconds")
if job.exemplar.labels.get("trace_id") != trace_id or len(trace_id) != 32:
    fail("exemplar trace_id %r, the job's correlation id is %r"
         % (job.exemplar.labels, correlation_id))
le = float(job.labels["le"])
if not (0 < job.exemplar.value <= le) or job.exemplar.timestamp is None:
    fail("exemplar %r does not fit bucket le=%s" % (job.exemplar, le))
stage = [s for s in by_name["apm_job_stage_seconds"].samples
         if s.exemplar and s.exemplar.labels.get("trace_id") == trace_id]
if not stage or stage[0].exemplar.value != 0.04:
    fail("no exemplar of the job on apm_job_stage_seconds")

# the tracer's histograms: the interval's largest own time of an element,
# tagged with the trace of the pipeline's run (its job)
with urllib.request.urlopen(url + "/monitoring/jobs", timeout=10) as resp:
    import json
    jobs = json.load(resp)
run = next((j for j in jobs.get("active", [])
            if j.get("job_id", "").startswith("pipeline0#")), None)
if run is None:
    fail("no active run of pipeline0 in /monitoring/jobs: %r" % jobs)
run_trace = run["correlation_id"].replace("-", "").lower()
elem = [s for s in by_name["apm_element_processing_seconds"].samples
        if s.exemplar and s.exemplar.labels.get("trace_id") == run_trace]
if not elem:
    fail("no exemplar of the run %s on apm_element_processing_seconds"
         % run_trace)
e2e = [s for s in by_name["apm_pipeline_latency_seconds"].samples
       if s.exemplar and s.exemplar.labels.get("trace_id") == run_trace]
if not e2e:
    fail("no exemplar of the run %s on apm_pipeline_latency_seconds"
         % run_trace)
for s in elem + e2e:
    if not (s.exemplar.value > 0 and s.exemplar.value <= float(s.labels["le"])):
        fail("exemplar %r outside its bucket le=%s" % (s.exemplar,
                                                       s.labels["le"]))

# curl: text 0.0.4, plain
headers, body = fetch(url, {})
ctype = headers.get("Content-Type", "")
if not ctype.startswith("text/plain; version=0.0.4"):
    fail("no Accept header got Content-Type %r" % ctype)
if headers.get("Content-Encoding"):
    fail("no Accept-Encoding got Content-Encoding %r"
         % headers.get("Content-Encoding"))
text = body.decode("utf-8")
if "# EOF" in text:
    fail("text 0.0.4 must not end with # EOF")
if "trace_id" in text:
    fail("text 0.0.4 has no exemplars")
try:
    fams = list(parse_text(text))
except ValueError as e:
    fail("text parser: %s" % e)
if ODD_ELEMENT not in {s.labels.get("element") for s in samples(fams)}:
    fail("element %r did not read back from text 0.0.4" % ODD_ELEMENT)
if not any(s.labels.get("who") == ODD_LABEL for s in samples(fams)):
    fail("label value %r did not read back from text 0.0.4" % ODD_LABEL)
if len(fams) != len(om):
    fail("%d families in text, %d in OpenMetrics" % (len(fams), len(om)))

# q-values decide: text preferred over OpenMetrics, gzip refused with q=0
headers, body = fetch(url, {
    "Accept": "application/openmetrics-text;q=0.3,text/plain;q=0.9",
    "Accept-Encoding": "gzip;q=0, identity"})
if not headers.get("Content-Type", "").startswith("text/plain"):
    fail("q-values preferring text got %r" % headers.get("Content-Type"))
if headers.get("Content-Encoding"):
    fail("gzip;q=0 got Content-Encoding %r" % headers.get("Content-Encoding"))
list(parse_text(body.decode("utf-8")))

# an OpenMetrics version we do not speak falls back to text
headers, _ = fetch(url, {"Accept": "application/openmetrics-text;version=9.9.9"})
if not headers.get("Content-Type", "").startswith("text/plain"):
    fail("an unknown OpenMetrics version got %r" % headers.get("Content-Type"))

pipeline.set_state(Gst.State.NULL)
print("PASS: OpenMetrics %d families (%d bytes gzip), text %d bytes"
      % (len(om), len(gzip.compress(om_text.encode())), len(text)))
