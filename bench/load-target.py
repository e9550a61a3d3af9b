#!/usr/bin/python3
"""load-target.py - one process of live pipelines under the apm tracer, to load.

Usage: bench/load-target.py [-n PIPELINES] [-d SECONDS] [-p PORT] [-r WS_RATE]
                            [--canary-latency MS] [--url-file F] [--result F]

Runs, in one process with GST_TRACERS="apm(port=P,quiet=true,ws-rate=R)":
  - N (default 50) live pipelines of 10 elements each:
      audiotestsrc is-live=true ! audioconvert ! volume ! queue ! identity !
      audioresample ! audioconvert ! level ! apmonitor ! fakesink sync=true
  - one "canary" live pipeline, whose apmonitor counts underruns (buffers
    reaching it after their deadline on the clock) and whose sink
    (fakesink sync=true qos=true max-lateness=20ms) drops late buffers and
    posts QoS messages.  Its buffers (10 ms) reach the sink one buffer
    duration before their deadline; its apmonitor counts an underrun when a
    buffer passes the deadline by more than --canary-tolerance (default
    20 ms), and the sink drops (and posts QoS for) buffers more than 20 ms
    late: either means a streaming thread was held up by about 30 ms or more.
    A pad probe on the canary's sink records, per buffer, running time at
    arrival minus PTS (p50/p99/max in the result): a stall shows as a spike
    over p50.

Prints "url <URL>" and "pid <PID>" on stdout once the service listens (the URL
comes from the 'apm-service' bus message; -p 0, the default, picks a free
port), then runs until SIGINT/SIGTERM or for -d SECONDS (0: forever).  At the
end it prints one JSON line "result {...}" (and writes it to --result) with
the canary's underruns, QoS messages, dropped buffers, arrival times, errors
and the number of pipelines still PLAYING; --canary-log F gets one line a
second "EPOCH UNDERRUNS QOS_MESSAGES DROPPED MAX_ARRIVAL_MS" (for phases), then stops the pipelines (EOS, then NULL).

The tracer and the plugin come from the environment: run from the tree with
GST_PLUGIN_PATH=build/gst-plugin (bench/load.sh does).
"""
import argparse
import json
import os
import signal
import sys
import time

ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("-n", "--pipelines", type=int, default=50)
ap.add_argument("-d", "--duration", type=float, default=0)
ap.add_argument("-p", "--port", type=int, default=0)
ap.add_argument("-r", "--ws-rate", type=int, default=10)
ap.add_argument("--canary-latency", type=float, default=0,
                help="ms, a fixed pipeline latency for the canary (0: its own)")
ap.add_argument("--canary-tolerance", type=float, default=20,
                help="ms, apmonitor tolerance: lateness counted as an underrun")
ap.add_argument("--canary-log",
                help="append one line a second: epoch, underruns, qos, dropped, max arrival ms")
ap.add_argument("--no-tracer", action="store_true",
                help="run without GST_TRACERS (baseline for the canary)")
ap.add_argument("--samples", type=int, default=441,
                help="samplesperbuffer of every source (441 = 10 ms at 44.1 kHz)")
ap.add_argument("--url-file")
ap.add_argument("--result")
args = ap.parse_args()

# the tracer's params are read at gst_init(): set them before
if args.no_tracer:
    os.environ.pop("GST_TRACERS", None)
else:
    os.environ["GST_TRACERS"] = "apm(port=%d,quiet=true,ws-rate=%d)" % (
        args.port, args.ws_rate)

import gi  # noqa: E402

gi.require_version("Gst", "1.0")
from gi.repository import GLib, Gst  # noqa: E402

Gst.init(None)
if not Gst.ElementFactory.find("apmonitor"):
    sys.exit("load-target: apmonitor not found (GST_PLUGIN_PATH=build/gst-plugin?)")

LOAD = ("audiotestsrc is-live=true samplesperbuffer={s} wave=sine freq={f} ! "
        "audioconvert ! volume volume=0.8 ! queue ! identity ! audioresample ! "
        "audioconvert ! level ! apmonitor name=mon port={p} quiet=true "
        "post-messages=false ! fakesink sync=true")
CANARY = ("audiotestsrc is-live=true samplesperbuffer={s} wave=sine ! "
          "audioconvert ! volume volume=0.8 ! queue ! identity ! audioresample ! "
          "audioconvert ! level ! apmonitor name=mon port={p} quiet=true "
          "post-messages=false tolerance={t} ! fakesink name=sink sync=true qos=true "
          "max-lateness=20000000")

loop = GLib.MainLoop()
state = {"url": None, "qos": 0, "dropped": 0, "errors": [], "warnings": 0,
         "started": time.monotonic()}


def on_message(bus, msg, name):
    t = msg.type
    if t == Gst.MessageType.ELEMENT:
        s = msg.get_structure()
        if s and s.get_name() == "apm-service" and not state["url"]:
            url = s.get_value("url")
            if url:
                state["url"] = url
                print("url", url, flush=True)
                print("pid", os.getpid(), flush=True)
                if args.url_file:
                    with open(args.url_file + ".tmp", "w") as f:
                        f.write(url + "\n")
                    os.rename(args.url_file + ".tmp", args.url_file)
    elif t == Gst.MessageType.QOS and name == "canary":
        state["qos"] += 1
        fmt, processed, dropped = msg.parse_qos_stats()
        state["dropped"] = max(state["dropped"], dropped)
    elif t == Gst.MessageType.ERROR:
        err, dbg = msg.parse_error()
        state["errors"].append("%s: %s" % (name, err.message))
        print("load-target: error in %s: %s" % (name, err.message),
              file=sys.stderr, flush=True)
    elif t == Gst.MessageType.WARNING:
        state["warnings"] += 1
    return True


pipes = []


def add(name, desc):
    p = Gst.parse_launch(desc)
    p.set_name(name)
    bus = p.get_bus()
    bus.add_watch(GLib.PRIORITY_DEFAULT, on_message, name)
    pipes.append(p)
    return p


canary = add("canary", CANARY.format(s=args.samples, p=args.port,
                                     t=int(args.canary_tolerance * Gst.MSECOND)))
if args.canary_latency > 0:
    canary.set_latency(int(args.canary_latency * Gst.MSECOND))

# how long after its timestamp each canary buffer reaches the sink, on the
# pipeline clock (running time now - PTS): a stall of a streaming thread
# shows as a spike over the steady value
arrivals = []          # ms, this second
# whole run (after the first 2 s): a fixed histogram of 0.1 ms bins up to
# 2 s, so the harness's own memory stays flat over hours
BINS = 20000
arrival_hist = [0] * (BINS + 1)
arrival_max = [0.0]
sinkpad = canary.get_by_name("sink").get_static_pad("sink")


def on_buffer(pad, info):
    b = info.get_buffer()
    el = canary
    clock = el.get_clock()
    if clock is not None and b.pts != Gst.CLOCK_TIME_NONE:
        arrivals.append((clock.get_time() - el.get_base_time() - b.pts) / 1e6)
    return Gst.PadProbeReturn.OK


sinkpad.add_probe(Gst.PadProbeType.BUFFER, on_buffer)
for i in range(args.pipelines):
    add("load%d" % i, LOAD.format(s=args.samples, f=220 + 10 * i, p=args.port))
for p in pipes:
    if p.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE:
        sys.exit("load-target: %s could not start" % p.get_name())


def finish(*_):
    if not loop.is_running():
        return False
    loop.quit()
    return False


for sig in (signal.SIGINT, signal.SIGTERM):
    GLib.unix_signal_add(GLib.PRIORITY_HIGH, sig, finish)
if args.duration > 0:
    GLib.timeout_add(int(args.duration * 1000), finish)


def canary_tick():
    global arrivals
    a, arrivals = arrivals, []
    if time.monotonic() - state["started"] > 2:
        for ms in a:
            arrival_hist[min(BINS, max(0, int(ms * 10)))] += 1
            arrival_max[0] = max(arrival_max[0], ms)
    if args.canary_log:
        mon = canary.get_by_name("mon")
        with open(args.canary_log, "a") as f:
            f.write("%.3f %d %d %d %.2f\n" % (time.time(), mon.get_property("underruns"),
                    state["qos"], state["dropped"], max(a) if a else -1))
    return True


GLib.timeout_add(1000, canary_tick)


def no_url():
    if not state["url"] and not args.no_tracer:
        print("load-target: no apm-service URL after 20 s", file=sys.stderr)
        loop.quit()
    return False


GLib.timeout_add_seconds(20, no_url)
loop.run()

mon = canary.get_by_name("mon")
playing = sum(1 for p in pipes
              if p.get_state(0)[1] == Gst.State.PLAYING)
def pct(q):
    total = sum(arrival_hist)
    if not total:
        return None
    if q >= 1.0:
        return round(arrival_max[0], 2)
    need, acc = q * total, 0
    for i, n in enumerate(arrival_hist):
        acc += n
        if acc > need:
            return round(i / 10, 2)
    return round(arrival_max[0], 2)


result = {
    "pipelines": len(pipes),
    "playing": playing,
    "seconds": round(time.monotonic() - state["started"], 1),
    "canary_underruns": mon.get_property("underruns"),
    "canary_gaps": mon.get_property("gaps"),
    "canary_qos_messages": state["qos"],
    "canary_qos_dropped": state["dropped"],
    "canary_tolerance_ms": args.canary_tolerance,
    "canary_arrival_ms": {"p50": pct(0.5), "p99": pct(0.99), "max": pct(1.0)},
    "errors": state["errors"],
    "warnings": state["warnings"],
    "url": state["url"],
}
line = json.dumps(result)
print("result", line, flush=True)
if args.result:
    with open(args.result, "w") as f:
        f.write(line + "\n")
for p in pipes:
    p.send_event(Gst.Event.new_eos())
for p in pipes:
    p.get_bus().timed_pop_filtered(2 * Gst.SECOND,
                                   Gst.MessageType.EOS | Gst.MessageType.ERROR)
    p.set_state(Gst.State.NULL)
sys.exit(0 if state["url"] or args.no_tracer else 1)
