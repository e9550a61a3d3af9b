#!/usr/bin/python3
# The application of otlp-failure-test.mjs: under the apm tracer (the OTEL_*
# settings come from the environment), a live canary pipeline
# (audiotestsrc is-live=true ... apmonitor ! fakesink sync=true) plays
# while the application logs 100 lines a second and runs 20 short jobs a
# second, all exported to a collector that the test makes fail.  The
# canary counts an underrun when a buffer reaches it 100 ms late: an
# exporter waiting on the collector (a 1 s time out, a 3 s answer) would
# show; the scheduler's noise on a loaded machine (8 test jobs on 2 cores
# here made a 20 ms tolerance fail with and without a failing collector)
# does not.
# Prints "url URL" and "pid PID"; on SIGTERM (or after 55 s) prints
# "result {json}" with the canary's underruns and QoS drops, and exits.
import json
import os
import signal
import sys
import time

os.environ["GST_TRACERS"] = "apm(port=0,quiet=true)"
import gi  # noqa: E402
gi.require_version("Gst", "1.0")
gi.require_version("Apm", "1.0")
from gi.repository import Apm, GLib, Gst  # noqa: E402

Gst.init(None)
CANARY = ("audiotestsrc is-live=true samplesperbuffer=441 wave=sine ! "
          "audioconvert ! apmonitor name=mon post-messages=false "
          "tolerance=100000000 ! fakesink name=sink sync=true qos=true "
          "max-lateness=100000000")
pipeline = Gst.parse_launch(CANARY)
pipeline.set_state(Gst.State.PLAYING)
monitor = Apm.Monitor.get_default()
loop = GLib.MainLoop()
state = {"qos": 0, "n": 0, "url": None}


def on_message(bus, msg):
    if msg.type == Gst.MessageType.QOS:
        state["qos"] += 1
    elif msg.type == Gst.MessageType.ERROR:
        print("error", msg.parse_error()[0].message, file=sys.stderr, flush=True)
        loop.quit()
    return True


bus = pipeline.get_bus()
bus.add_signal_watch()
bus.connect("message", on_message)


def announce():
    url = monitor.get_url()
    if url and not state["url"]:
        state["url"] = url
        print("url", url, flush=True)
        print("pid", os.getpid(), flush=True)
        return False
    return True


def log_lines():
    state["n"] += 1
    monitor.log(Apm.LogLevel.INFO, "app", "request %d handled" % state["n"],
                None, '{"n": %d}' % state["n"])
    return True


def run_job():
    job = "job-%d" % state["n"]
    monitor.start_job_tracking(job)
    monitor.record_job_stage(job, "work", 0.001, None)
    monitor.complete_job_tracking(job, "success", None)
    return True


def finish(*_):
    mon = pipeline.get_by_name("mon")
    result = {"underruns": mon.get_property("underruns"), "qos": state["qos"],
              "dropped": pipeline.get_by_name("sink").get_property("stats")
              .get_value("dropped")}
    print("result", json.dumps(result), flush=True)
    pipeline.set_state(Gst.State.NULL)
    loop.quit()
    return False


def tick():
    # the canary's underruns each second, for the test's report of phases
    print("tick %.3f %d" % (time.time(),
                            pipeline.get_by_name("mon").get_property("underruns")),
          flush=True)
    return True


GLib.timeout_add(20, announce)
GLib.timeout_add(1000, tick)
GLib.timeout_add(10, log_lines)
GLib.timeout_add(50, run_job)
GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, finish)
GLib.timeout_add_seconds(55, finish)
loop.run()
