#!/usr/bin/python3
"""An application with labelled jobs, for the A/B comparison's browser test.

Starts the service on a free port, runs jobs of two variants through the GI
API (variant "a": 12 quick jobs that succeed; variant "b": 10 jobs, the 5
that succeed 40 ms slower, 5 that fail), prints the URL on stdout and then
serves until stdin closes.
"""
import sys
import time

import gi

gi.require_version("Apm", "1.0")
from gi.repository import Apm  # noqa: E402

monitor = Apm.Monitor.get_default()
if not monitor.start_server("127.0.0.1", 0):
    sys.exit("start_server failed")
for i in range(12):
    monitor.start_job_tracking_full("a-%d" % i, None, {"variant": "a"})
    monitor.complete_job_tracking("a-%d" % i, "success", None)
for i in range(10):
    monitor.start_job_tracking_full("b-%d" % i, None, {"variant": "b"})
    if i % 2:
        time.sleep(0.04)  # the slower variant's work
    monitor.complete_job_tracking("b-%d" % i, "success" if i % 2 else "failed",
                                  None if i % 2 else "decoder error")
print(monitor.get_url(), flush=True)
sys.stdin.read()
