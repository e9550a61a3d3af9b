#!/usr/bin/env python3
"""gst-apm example: monitoring an audio processing service from Python.

This is the original spec's usage ("Job Processing with Monitoring") on the
real thing: a worker transcodes WAV files to FLAC with a GStreamer pipeline
and reports each job to the gst-apm monitor of its process:

  monitor = Apm.Monitor.get_default()             # get_monitor()
  logger = Apm.Logger.new("audio_worker")         # StructuredLogger(...)
  monitor.add_check(...)                          # health_checker.add_check
  monitor.add_alert_rule(...)                     # alert_manager.add_alert_rule
  correlation_id = monitor.start_job_tracking(job_id)
  ... transcode, record_audio_processing_metrics, record_upload_metrics,
  ... record_cache_metrics, record_job_stage ...
  monitor.complete_job_tracking(job_id, "success" | "failed", error)

The apm tracer runs too (GST_TRACERS), so every element of every transcode
pipeline is timed, and an apmonitor element measures the audio levels.

The script generates its own input files in a temporary directory, runs a
few jobs (one of them a cache hit, one failing on purpose: its input file
does not exist), then checks what the service serves over HTTP:
/monitoring/jobs, /health/monitoring, /monitoring/alerts, /monitoring/logs
and /metrics.  It exits 0 when everything is there, 1 otherwise.

Run from a build tree (see examples/README.md):

  GI_TYPELIB_PATH=build/src LD_LIBRARY_PATH=build/src \\
  GST_PLUGIN_PATH=build/gst-plugin python3 examples/process_audio.py

Options: --port N (default 0: a free port), --serve (keep serving after the
checks, for the dashboard, until Ctrl-C).
"""

import argparse
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

# The tracer reads its parameters at Gst.init(): set them first.  quiet:
# no URL line on stderr (we print it ourselves); alert-interval=1: evaluate
# the alert rules every second instead of every 30 s, so that this short
# run sees its alert fire.
TRACER_PARAMS = "quiet=true,alert-interval=1"

import gi  # noqa: E402

gi.require_version("Gst", "1.0")
gi.require_version("Apm", "1.0")
from gi.repository import Apm, GLib, Gst  # noqa: E402

PIPELINE_TIMEOUT = 20.0   # seconds: a deadline for each pipeline run
CACHE_NAME = "transcode_cache"
SLOW_JOB_SECONDS = 3600.0  # the spec's "very_slow_jobs" threshold


class JobError(Exception):
    pass


# --- the worker ------------------------------------------------------------

class AudioWorker:
    """Transcodes WAV to FLAC, reporting every job to the monitor."""

    def __init__(self, monitor, logger, work_dir):
        self.monitor = monitor
        self.logger = logger
        self.out_dir = os.path.join(work_dir, "transcoded")
        self.upload_dir = os.path.join(work_dir, "uploads")
        os.makedirs(self.out_dir)
        os.makedirs(self.upload_dir)
        self.cache = {}            # sha256 of the input -> uploaded FLAC
        # read by the health check (worker thread) and the alert rules
        # (service thread): under a lock
        self.lock = threading.Lock()
        self.results = []          # (job_id, status, seconds)

    # The spec's process_audio_job(), synchronous; returns the job's
    # correlation id.
    def process_audio_job(self, job_id, audio_path):
        monitor = self.monitor
        correlation_id = monitor.start_job_tracking(job_id)
        self.logger.info("Job started", correlation_id,
                         json.dumps({"job_id": job_id, "input": audio_path}))
        start = time.monotonic()
        file_size = 0
        try:
            file_size = os.path.getsize(audio_path) \
                if os.path.exists(audio_path) else 0

            # 1. the cache: an input processed before is not transcoded again
            t0 = time.perf_counter()
            key = self._digest(audio_path) if file_size else None
            cached = self.cache.get(key) if key else None
            lookup = time.perf_counter() - t0
            monitor.record_cache_metrics(CACHE_NAME, cached is not None,
                                         lookup)
            monitor.record_job_stage(job_id, "cache_lookup", lookup,
                                     {"result": "hit" if cached else "miss"})
            if cached:
                self.logger.info("Cache hit", correlation_id,
                                 json.dumps({"job_id": job_id,
                                             "output": cached}))
                self._finish(job_id, "success", None, start)
                return correlation_id

            # 2. the transcode, a real GStreamer pipeline
            out_path = os.path.join(self.out_dir, job_id + ".flac")
            t0 = time.monotonic()
            try:
                self._transcode(job_id, audio_path, out_path)
            except JobError:
                monitor.record_audio_processing_metrics(
                    job_id, file_size, time.monotonic() - t0, False)
                raise
            processing = time.monotonic() - t0
            monitor.record_audio_processing_metrics(job_id, file_size,
                                                    processing, True)
            monitor.record_job_stage(job_id, "transcode", processing,
                                     {"format": "flac"})
            monitor.record_histogram("audio_processing_time_seconds",
                                     processing, {"success": "true"})

            # 3. the "upload": a copy into the upload directory
            t0 = time.monotonic()
            uploaded = os.path.join(self.upload_dir,
                                    os.path.basename(out_path))
            shutil.copyfile(out_path, uploaded)
            upload = time.monotonic() - t0
            out_size = os.path.getsize(uploaded)
            monitor.record_upload_metrics(out_size, upload, True)
            monitor.record_job_stage(job_id, "upload", upload,
                                     {"destination": "local"})
            self.cache[key] = uploaded
            self.logger.info("Operation completed", correlation_id,
                             json.dumps({"job_id": job_id,
                                         "duration": processing,
                                         "input_bytes": file_size,
                                         "output_bytes": out_size}))
            self._finish(job_id, "success", None, start)
            return correlation_id
        except Exception as e:  # the spec's except branch
            self.logger.error("Job failed", correlation_id,
                              json.dumps({"job_id": job_id,
                                          "error": str(e)}))
            self._finish(job_id, "failed", str(e), start)
            return correlation_id

    def _finish(self, job_id, status, error, start):
        seconds = time.monotonic() - start
        self.monitor.complete_job_tracking(job_id, status, error)
        self.monitor.increment_counter("audio_jobs_total", 1,
                                       {"result": status})
        with self.lock:
            self.results.append((job_id, status, seconds))

    @staticmethod
    def _digest(path):
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(65536), b""):
                h.update(chunk)
        return h.hexdigest()

    def _transcode(self, job_id, in_path, out_path):
        pipeline = Gst.parse_launch(
            "filesrc name=src ! wavparse ! audioconvert ! audioresample "
            "! apmonitor name=levels ! flacenc name=encoder "
            "! filesink name=sink")
        # the tracer labels every metric of this run with this name
        pipeline.set_name("transcode-" + job_id)
        pipeline.get_by_name("src").set_property("location", in_path)
        pipeline.get_by_name("sink").set_property("location", out_path)
        run_pipeline(pipeline)

    # --- what the monitor calls back ---

    def check_transcoder(self):
        """The custom health check (runs on a worker thread of the
        monitor): returns (status, message, details as JSON text)."""
        missing = [f for f in ("wavparse", "flacenc", "apmonitor")
                   if Gst.ElementFactory.find(f) is None]
        free = shutil.disk_usage(self.upload_dir).free
        details = json.dumps({"missing_elements": missing,
                              "upload_dir": self.upload_dir,
                              "free_bytes": free})
        if missing:
            return (Apm.HealthStatus.UNHEALTHY,
                    "Missing elements: " + ", ".join(missing), details)
        if not os.access(self.upload_dir, os.W_OK):
            return (Apm.HealthStatus.UNHEALTHY,
                    "Upload directory is not writable", details)
        if free < 100 * 1024 * 1024:
            return (Apm.HealthStatus.DEGRADED,
                    "Low disk space: %.1f MB free" % (free / 1e6), details)
        return (Apm.HealthStatus.HEALTHY,
                "Transcoder is ready (%.1f GB free)" % (free / 1e9), details)

    def very_slow_jobs(self):
        """The spec's custom alert condition (runs on the monitor's service
        thread at each evaluation: keep it quick): (holds, value)."""
        with self.lock:
            longest = max((s for _, _, s in self.results[-10:]), default=0.0)
        return (longest > SLOW_JOB_SECONDS, longest)

    def failed_jobs(self):
        with self.lock:
            failed = sum(1 for _, st, _ in self.results if st == "failed")
        return (failed > 0, float(failed))


def run_pipeline(pipeline, timeout=PIPELINE_TIMEOUT):
    """Plays @pipeline to EOS; raises JobError on ERROR or past the
    deadline.  Always leaves it in NULL."""
    bus = pipeline.get_bus()
    deadline = time.monotonic() + timeout
    try:
        pipeline.set_state(Gst.State.PLAYING)  # a failure posts an ERROR
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise JobError("%s: no EOS within %.0f s"
                               % (pipeline.get_name(), timeout))
            msg = bus.timed_pop_filtered(
                int(min(left, 0.5) * Gst.SECOND),
                Gst.MessageType.EOS | Gst.MessageType.ERROR)
            if msg is None:
                continue
            if msg.type == Gst.MessageType.EOS:
                return
            err, _debug = msg.parse_error()
            raise JobError("%s: %s" % (msg.src.get_name(), err.message))
    finally:
        pipeline.set_state(Gst.State.NULL)


def generate_wav(path, wave, freq, seconds):
    """Writes @seconds of test audio to @path (44.1 kHz stereo WAV)."""
    pipeline = Gst.parse_launch(
        "audiotestsrc name=src samplesperbuffer=4410 ! "
        "audio/x-raw,format=S16LE,rate=44100,channels=2 ! wavenc ! "
        "filesink name=sink")
    pipeline.set_name("generate-" + os.path.basename(path).split(".")[0])
    src = pipeline.get_by_name("src")
    src.set_property("num-buffers", int(seconds * 10))
    src.set_property("freq", freq)
    Gst.util_set_object_arg(src, "wave", wave)
    pipeline.get_by_name("sink").set_property("location", path)
    run_pipeline(pipeline)


# --- checking what the service serves ---------------------------------------

class Checker:
    def __init__(self, base_url):
        self.base_url = base_url
        # the service is local: no proxy, whatever the environment says
        self.opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}))
        self.failures = []
        self.passed = 0

    def check(self, condition, what):
        if condition:
            self.passed += 1
        else:
            self.failures.append(what)
            print("  FAIL: " + what)
        return condition

    def get(self, path):
        with self.opener.open(self.base_url + path, timeout=10) as r:
            body = r.read().decode("utf-8")
            if r.headers.get_content_type() == "application/json":
                return json.loads(body)
            return body

    def poll(self, path, predicate, timeout=10.0):
        """GETs @path until predicate(document) holds or @timeout passes;
        returns the last document."""
        deadline = time.monotonic() + timeout
        while True:
            doc = self.get(path)
            if predicate(doc) or time.monotonic() >= deadline:
                return doc
            time.sleep(0.1)


SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text):
    """Prometheus text -> {(name, frozenset of (label, value)): value}."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        if not m:
            raise ValueError("bad metrics line: " + line)
        labels = frozenset(LABEL.findall(m.group(2) or ""))
        out[(m.group(1), labels)] = float(m.group(3))
    return out


def metric(metrics, name, **labels):
    return metrics.get((name, frozenset(labels.items())))


def verify(monitor, worker, jobs):
    c = Checker(monitor.get_url())
    ids = {job_id: cid for job_id, cid in jobs}
    expected = {job_id: status for job_id, status, _ in worker.results}

    # GET /monitoring/jobs: every job, its correlation id and its status
    doc = c.get("/monitoring/jobs?limit=0")
    served = {j["job_id"]: j for j in doc["finished"]}
    for job_id, status in expected.items():
        j = served.get(job_id)
        if not c.check(j is not None, "job %s in /monitoring/jobs" % job_id):
            continue
        c.check(j["correlation_id"] == ids[job_id],
                "job %s has correlation id %s" % (job_id, ids[job_id]))
        c.check(j["status"] == status, "job %s is %s (served: %s)"
                % (job_id, status, j["status"]))
        if status == "failed":
            c.check(bool(j.get("error")), "failed job %s has an error"
                    % job_id)
        elif "transcode" in j["stages"]:
            c.check({"cache_lookup", "audio_processing", "upload"}
                    <= set(j["stages"]), "job %s has all its stages: %s"
                    % (job_id, sorted(j["stages"])))
            c.check(j["stages"]["transcode"].get("labels") ==
                    {"format": "flac"}, "transcode stage labels of %s"
                    % job_id)
    n_ok = sum(1 for s in expected.values() if s == "success")
    n_failed = len(expected) - n_ok
    c.check(doc["summary"]["succeeded"] >= n_ok and
            doc["summary"]["failed"] >= n_failed, "jobs summary counts")

    # a job is found by its correlation id too
    some_id, some_cid = jobs[0]
    j = c.get("/monitoring/jobs/" + urllib.parse.quote(some_cid))
    c.check(j["job_id"] == some_id, "GET /monitoring/jobs/<correlation id>")

    # GET /health/monitoring: the custom check ran
    health = c.poll("/health/monitoring", lambda d: "last_run" in
                    d["monitoring"]["health_checks"].get("transcoder", {}))
    tc = health["monitoring"]["health_checks"].get("transcoder")
    if c.check(tc is not None, "custom check in /health/monitoring"):
        c.check(tc["status"] == "healthy", "transcoder check is healthy: "
                "%s" % tc.get("message"))
        c.check("free_bytes" in tc.get("details", {}),
                "transcoder check details")

    # GET /monitoring/alerts: the custom rule fired for the failed job
    alerts = c.poll("/monitoring/alerts", lambda d: any(
        a["rule"] == "failed_jobs" and a["state"] == "firing"
        for a in d["alerts"]))
    fired = [a for a in alerts["alerts"] if a["rule"] == "failed_jobs"]
    if c.check(bool(fired), "custom alert failed_jobs is active"):
        c.check(fired[0]["state"] == "firing" and
                fired[0]["value"] == n_failed and
                fired[0]["severity"] == "warning", "failed_jobs alert: %s"
                % fired[0])
    c.check("failed_jobs" in monitor.get_active_alerts(),
            "monitor.get_active_alerts() has failed_jobs")
    c.check(not any(a["rule"] == "very_slow_jobs" for a in alerts["alerts"]),
            "very_slow_jobs does not fire")

    # GET /monitoring/logs: the logger's lines, by correlation id
    failed_id = next(j for j, s in expected.items() if s == "failed")
    logs = c.get("/monitoring/logs?correlation_id=" + ids[failed_id])["logs"]
    c.check(any(line["component"] == "audio_worker" and
                line["message"] == "Job failed" for line in logs),
            "logger line of the failed job in /monitoring/logs")

    # GET /metrics: the spec's helpers, the custom metrics, the tracer's
    m = parse_metrics(c.get("/metrics"))
    n_transcoded = sum(1 for j in served.values() if j["job_id"] in expected
                       and "transcode" in j["stages"])
    checks = [
        ("pipeline_audio_processing_seconds_count", {"success": "true"},
         n_transcoded),
        ("pipeline_audio_processing_seconds_count", {"success": "false"},
         n_failed),
        ("pipeline_audio_file_size_bytes_count", {"success": "true"},
         n_transcoded),
        ("pipeline_uploads_total", {"success": "true"}, n_transcoded),
        ("pipeline_cache_requests_total",
         {"cache": CACHE_NAME, "result": "hit"}, n_ok - n_transcoded),
        ("pipeline_cache_requests_total",
         {"cache": CACHE_NAME, "result": "miss"},
         len(expected) - (n_ok - n_transcoded)),
        ("audio_jobs_total", {"result": "success"}, n_ok),
        ("audio_jobs_total", {"result": "failed"}, n_failed),
        ("audio_processing_time_seconds_count", {"success": "true"},
         n_transcoded),
        ("audio_queue_length", {}, 0),
    ]
    for name, labels, want in checks:
        got = metric(m, name, **labels)
        c.check(got == want, "%s%s == %s (got %s)" % (name, labels, want,
                                                        got))
    # the tracer timed the encoder of each transcode pipeline, and the
    # apmonitor in it counted the samples
    for job_id, status in expected.items():
        if not (status == "success" and "transcode" in
                served.get(job_id, {}).get("stages", {})):
            continue
        pipeline = "transcode-" + job_id
        n = metric(m, "apm_element_processing_seconds_count",
                   pipeline=pipeline, element="encoder", factory="flacenc")
        c.check(n is not None and n > 0,
                "tracer timed flacenc in %s (%s buffers)" % (pipeline, n))
        samples = [v for (name, labels), v in m.items()
                   if name == "apm_monitor_samples_total" and
                   ("pipeline", pipeline) in labels]
        c.check(samples and samples[0] > 0,
                "apmonitor counted samples in %s" % pipeline)
    return c


# --- main -------------------------------------------------------------------

def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=0,
                        help="HTTP port (default 0: a free one)")
    parser.add_argument("--serve", action="store_true",
                        help="keep serving after the checks, until Ctrl-C")
    args = parser.parse_args()

    os.environ["GST_TRACERS"] = "apm(port=%d,%s)" % (args.port,
                                                     TRACER_PARAMS)
    Gst.init(None)

    monitor = Apm.Monitor.get_default()          # the spec's get_monitor()
    try:
        monitor.start_server("127.0.0.1", args.port)
    except GLib.Error as e:
        print("the monitor is not serving: %s" % e.message)
        return 1
    url = monitor.get_url()
    print("gst-apm serving %s (dashboard: %s/monitoring/dashboard)"
          % (url, url))
    logger = Apm.Logger.new("audio_worker")      # StructuredLogger

    work_dir = tempfile.mkdtemp(prefix="apm-example-")
    worker = AudioWorker(monitor, logger, work_dir)
    monitor.add_check("transcoder", 30, worker.check_transcoder)
    monitor.add_alert_rule("very_slow_jobs", Apm.Severity.WARNING,
                           "Job processing time exceeded 1 hour "
                           "({{value}} s)", worker.very_slow_jobs)
    monitor.add_alert_rule("failed_jobs", Apm.Severity.WARNING,
                           "{{value}} audio job(s) failed",
                           worker.failed_jobs)
    try:
        inputs = os.path.join(work_dir, "inputs")
        os.makedirs(inputs)
        files = [("job-001", "tone-440.wav", "sine", 440, 1.0),
                 ("job-002", "tone-1k.wav", "sine", 1000, 2.0),
                 ("job-003", "noise.wav", "pink-noise", 0, 1.5)]
        for _, name, wave, freq, seconds in files:
            generate_wav(os.path.join(inputs, name), wave, freq, seconds)
        # the same audio again under another name: a cache hit
        shutil.copyfile(os.path.join(inputs, "tone-440.wav"),
                        os.path.join(inputs, "tone-440-again.wav"))
        queue = [(job_id, os.path.join(inputs, name))
                 for job_id, name, *_ in files]
        queue.append(("job-004", os.path.join(inputs, "tone-440-again.wav")))
        # and one that fails: its input does not exist
        queue.append(("job-005", os.path.join(inputs, "missing.wav")))

        jobs = []   # (job_id, correlation id given by the monitor)
        for i, (job_id, path) in enumerate(queue):
            monitor.set_gauge("audio_queue_length", len(queue) - i, None)
            cid = worker.process_audio_job(job_id, path)
            jobs.append((job_id, cid))
            job = json.loads(monitor.get_job_json(cid))
            print("  %-8s %-36s %-7s %6.3f s%s" % (
                job_id, cid, job["status"], job["processing_seconds"],
                "  (%s)" % job["error"] if job["error"] else ""))
        monitor.set_gauge("audio_queue_length", 0, None)

        result = verify(monitor, worker, jobs)
        print("%d checks passed, %d failed" % (result.passed,
                                               len(result.failures)))
        if args.serve:
            print("serving %s until Ctrl-C" % url)
            try:
                while True:
                    time.sleep(1)
            except KeyboardInterrupt:
                pass
        return 0 if not result.failures else 1
    finally:
        # Remove the Python callbacks while Python is alive: the monitor
        # lives until the process exits and would release them after the
        # interpreter is gone.
        monitor.remove_check("transcoder")
        monitor.remove_alert_rule("very_slow_jobs")
        monitor.remove_alert_rule("failed_jobs")
        shutil.rmtree(work_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
