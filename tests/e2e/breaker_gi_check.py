#!/usr/bin/python3
"""ApmCircuitBreaker from Python through GObject introspection: a breaker
opened by failures is a degraded health check and a state series of 2, its
reset timeout half-opens it, a successful trial closes it.  Exits non-zero
with a message on the first failure."""
import json
import re
import sys
import time
import urllib.request

import gi
gi.require_version("Apm", "1.0")
from gi.repository import Apm  # noqa: E402


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def get(url, path):
    with urllib.request.urlopen(url + path, timeout=10) as r:
        return r.read().decode()


def wait_for(what, probe, timeout=10.0):
    """Polls probe() until it returns something true, within a deadline."""
    deadline = time.monotonic() + timeout
    while True:
        got = probe()
        if got:
            return got
        if time.monotonic() > deadline:
            fail("%s within %.0f s" % (what, timeout))
        time.sleep(0.05)


def check(url, name):
    doc = json.loads(get(url, "/health/monitoring"))
    return doc["monitoring"]["health_checks"].get(name)


def state_series(url, name):
    m = re.search(r'^apm_circuit_breaker_state\{name="%s"\} (\S+)$' % name,
                  get(url, "/metrics"), re.M)
    return float(m.group(1)) if m else None


def main():
    monitor = Apm.Monitor.get_default()
    if not monitor.start_server("127.0.0.1", 0):
        fail("the service did not start")
    url = monitor.get_url()

    b = Apm.CircuitBreaker.new("gi_upstream", 2, 0.5)
    if b.get_name() != "gi_upstream" or \
            b.get_state() != Apm.CircuitState.CLOSED:
        fail("a new breaker is not closed")
    for _ in range(2):
        if not b.allow():
            fail("a closed breaker refused a call")
        b.record_failure()
    if b.get_state() != Apm.CircuitState.OPEN or b.allow():
        fail("two failures did not open it")
    c = wait_for("breaker:gi_upstream degraded",
                 lambda: (lambda c: c if c and c["status"] == "degraded"
                          else None)(check(url, "breaker:gi_upstream")))
    print("open:", c["message"])
    wait_for("apm_circuit_breaker_state 2",
             lambda: state_series(url, "gi_upstream") == 2)

    wait_for("half-open after the reset timeout",
             lambda: b.get_state() == Apm.CircuitState.HALF_OPEN, 5)
    if not b.allow() or b.allow():
        fail("half-open did not let exactly one call through")
    b.record_success()
    if b.get_state() != Apm.CircuitState.CLOSED:
        fail("a successful trial did not close it")
    wait_for("apm_circuit_breaker_state 0",
             lambda: state_series(url, "gi_upstream") == 0)
    wait_for("breaker:gi_upstream healthy",
             lambda: (check(url, "breaker:gi_upstream") or {})
             .get("status") == "healthy")

    del b
    wait_for("the check gone with the breaker",
             lambda: check(url, "breaker:gi_upstream") is None)
    print("PASS")


main()
