#!/usr/bin/python3
"""W3C trace context through the GI API, and across processes.

A job continues a remote trace with labels (a dict through GI); its
traceparent keeps the trace id with a span of its own.  A gst-launch-1.0
run started with TRACEPARENT set to that job's traceparent becomes a child
of the job's span: one trace over two processes.  A malformed traceparent
never fails the job.  Prints what it checked; exits non-zero on a failure.
"""
import json
import os
import subprocess
import sys
import urllib.request

import gi

gi.require_version("Apm", "1.0")
from gi.repository import Apm  # noqa: E402

REMOTE_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
REMOTE_SPAN = "00f067aa0ba902b7"
REMOTE = "00-%s-%s-01" % (REMOTE_TRACE, REMOTE_SPAN)
WORK = os.environ["WORK"]


def fail(message):
    print("FAIL: " + message, file=sys.stderr)
    sys.exit(1)


def check(cond, message):
    if not cond:
        fail(message)


def is_hex(text, n):
    return (isinstance(text, str) and len(text) == n
            and all(c in "0123456789abcdef" for c in text)
            and text != "0" * n)


monitor = Apm.Monitor.get_default()
if not monitor.start_server("127.0.0.1", 0):
    fail("start_server")
url = monitor.get_url()

# a job in the remote trace, with labels from a dict
cid = monitor.start_job_tracking_full("e2e-upload", REMOTE,
                                      {"variant": "b", "tenant": "acme"})
check(cid == REMOTE_TRACE, "correlation id %r is not the remote trace id" % cid)
tp = monitor.get_traceparent("e2e-upload")
check(tp is not None, "no traceparent for an active job")
version, trace_id, span_id, flags = tp.split("-")
check((version, trace_id, flags) == ("00", REMOTE_TRACE, "01"),
      "traceparent %s: not the remote trace, version 00, sampled" % tp)
check(is_hex(span_id, 16) and span_id != REMOTE_SPAN,
      "traceparent %s: the job needs a span id of its own" % tp)
job = json.loads(monitor.get_job_json("e2e-upload"))
for key, want in (("trace_id", REMOTE_TRACE), ("correlation_id", REMOTE_TRACE),
                  ("span_id", span_id), ("parent_span_id", REMOTE_SPAN),
                  ("traceparent", tp),
                  ("labels", {"variant": "b", "tenant": "acme"})):
    check(job.get(key) == want, "job JSON %s = %r, expected %r"
          % (key, job.get(key), want))
print("job e2e-upload: %s, child of %s, labels %s"
      % (tp, REMOTE_SPAN, job["labels"]))

# the same on the REST API
with urllib.request.urlopen(url + "/monitoring/jobs/e2e-upload") as r:
    rest = json.load(r)
check(rest["traceparent"] == tp and rest["labels"]["variant"] == "b",
      "/monitoring/jobs/e2e-upload differs: %r" % rest)

# a pipeline in another process, started with the job's traceparent
log_file = os.path.join(WORK, "child.jsonl")
env = dict(os.environ, TRACEPARENT=tp,
           GST_TRACERS="apm(port=0,quiet=true,log-file=%s,labels=variant:b)"
           % log_file)
child = subprocess.run(["gst-launch-1.0", "-q", "audiotestsrc",
                        "num-buffers=10", "!", "fakesink"], env=env,
                       capture_output=True, text=True, timeout=30)
check(child.returncode == 0, "gst-launch-1.0 failed: %s" % child.stderr)
check("warning" not in child.stderr, "child warned: %s" % child.stderr)
with open(log_file) as f:
    lines = [json.loads(line) for line in f if line.strip()]
starts = [line for line in lines if line["component"] == "jobs"
          and line["message"].endswith(" started")]
check(len(starts) == 1, "expected one run started in the child, got %r"
      % starts)
run = starts[0]
check(run["correlation_id"] == REMOTE_TRACE,
      "the child's run is in trace %s, not %s"
      % (run["correlation_id"], REMOTE_TRACE))
check(run["context"].get("parent_span_id") == span_id,
      "the child's run has parent %r, not the job's span %s"
      % (run["context"].get("parent_span_id"), span_id))
check(is_hex(run["context"].get("span_id"), 16)
      and run["context"]["span_id"] != span_id, "the run needs its own span")
print("gst-launch-1.0 run %s: trace %s, child of span %s"
      % (run["context"]["job_id"], run["correlation_id"], span_id))
monitor.complete_job_tracking("e2e-upload", "success", None)
check(monitor.get_traceparent("e2e-upload") == tp,
      "a finished job keeps its traceparent")
check(monitor.get_traceparent("e2e-no-such-job") is None,
      "an unknown job has no traceparent")

# malformed: the job runs anyway, in a new trace; a warning is logged
for bad in ("00-%s-%s-01" % (REMOTE_TRACE.upper(), REMOTE_SPAN),
            "ff-%s-%s-01" % (REMOTE_TRACE, REMOTE_SPAN),
            "00-%s-%s-01" % ("0" * 32, REMOTE_SPAN), "garbage"):
    cid = monitor.start_job_tracking_full("e2e-bad", bad, None)
    check(is_hex(cid, 32) and cid != REMOTE_TRACE,
          "malformed %r: correlation id %r" % (bad, cid))
    job = json.loads(monitor.get_job_json("e2e-bad"))
    check(job["parent_span_id"] is None and job["labels"] == {},
          "malformed %r: %r" % (bad, job))
    monitor.complete_job_tracking("e2e-bad", "success", None)
with urllib.request.urlopen(url + "/monitoring/logs?level=warning"
                            "&component=jobs") as r:
    warnings = [line["message"] for line in json.load(r)["logs"]]
check(sum("is not valid" in m and "e2e-bad" in m for m in warnings) == 4,
      "expected 4 warnings for malformed traceparents: %r" % warnings)
print("4 malformed traceparents: new traces, warnings logged")
print("PASS")
