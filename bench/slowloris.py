#!/usr/bin/python3
"""slowloris.py - slow and idle connections against gst-apm, while a normal
client checks that the service still answers fast.

Usage: bench/slowloris.py URL [-c CONNS] [-i IDLE] [-e EVERY] [-d SECONDS]
                              [--max-latency S] [--deadline S]

  - CONNS (default 100) "trickle" connections send a request line and then
    one header byte every EVERY seconds (default 3), never finishing the
    headers;
  - IDLE (default 20) connections send nothing at all after connecting;
  - meanwhile a normal client sends GET /health (a new connection each) every
    0.5 s and records the latency.
Runs for SECONDS (default 40), then closes everything.

Fails (exit 1) if a normal request failed or took longer than --max-latency
(default 1 s), or, when SECONDS leaves --deadline + 8 s (default 18 s)
after the last connection opened, if a trickle or idle connection was still
open then: the service gives each request --deadline seconds (default 10,
APM_HTTP_REQUEST_DEADLINE_S) from its accept.  Connections are opened 8 at a
time (kind to the listen backlog; it was 10 before 128).  Prints one line
"slowloris-result {json}".
Loopback addresses only.
"""
import argparse
import http.client
import json
import select
import socket
import statistics
import sys
import threading
import time
import urllib.parse

ap = argparse.ArgumentParser()
ap.add_argument("url")
ap.add_argument("-c", "--conns", type=int, default=100)
ap.add_argument("-i", "--idle", type=int, default=20)
ap.add_argument("-e", "--every", type=float, default=3)
ap.add_argument("-d", "--duration", type=float, default=40)
ap.add_argument("--max-latency", type=float, default=1.0)
ap.add_argument("--deadline", type=float, default=10)
args = ap.parse_args()

u = urllib.parse.urlparse(args.url)
host, port = u.hostname, u.port or 80
if not (host == "localhost" or host.startswith("127.") or host == "::1"):
    sys.exit("slowloris: loopback addresses only")

t0 = time.monotonic()
stop = threading.Event()
lat, failures = [], []


def normal_client():
    while not stop.is_set():
        t = time.monotonic()
        try:
            c = http.client.HTTPConnection(host, port, timeout=10)
            c.request("GET", "/health")
            r = c.getresponse()
            r.read()
            c.close()
            if r.status != 200:
                failures.append("status %d" % r.status)
        except Exception as e:  # noqa: BLE001
            failures.append(str(e))
        lat.append(time.monotonic() - t)
        stop.wait(0.5)


def open_all(n, batch=8):
    """n connections, 8 at a time (a burst larger than the server's listen
    backlog would be delayed by SYN retransmits); -> sockets connected"""
    ok = []
    for start in range(0, n, batch):
        socks = []
        for i in range(start, min(n, start + batch)):
            s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
            s.setblocking(False)
            s.connect_ex((host, port))
            socks.append(s)
        pending = {s.fileno(): s for s in socks}
        deadline = time.monotonic() + 15
        while pending and time.monotonic() < deadline:
            p = select.poll()
            for fd in pending:
                p.register(fd, select.POLLOUT)
            for fd, ev in p.poll(250):
                s = pending.pop(fd)
                err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    errors.append("connect: %s" % socket.errno.errorcode.get(err, err))
                    s.close()
                else:
                    ok.append(s)
        for s in pending.values():
            errors.append("connect: timed out")
            s.close()
        time.sleep(0.02)
    return ok


trickle, idle = {}, {}      # socket -> [opened, closed_at, bytes_sent]
errors = []
for s in open_all(args.conns):
    try:
        s.send(b"GET /health HTTP/1.1\r\nHost: %s\r\n" % host.encode())
        trickle[s] = [time.monotonic(), None, 0]
    except OSError as e:
        errors.append("trickle send: %s" % e)
        s.close()
for s in open_all(args.idle):
    idle[s] = [time.monotonic(), None, 0]
connect_s = time.monotonic() - t0

th = threading.Thread(target=normal_client, daemon=True)
th.start()

HEADER = b"X-Slow: " + b"a" * 4000
next_send = time.monotonic() + args.every
while time.monotonic() - t0 < args.duration:
    open_socks = {s.fileno(): s for d in (trickle, idle) for s, v in d.items() if v[1] is None}
    poller = select.poll()
    for fd in open_socks:
        poller.register(fd, select.POLLIN)
    r = [open_socks[fd] for fd, ev in poller.poll(250)] if open_socks else []
    if not open_socks:
        time.sleep(0.25)
    now = time.monotonic()
    for s in r:
        try:
            data = s.recv(65536)
        except OSError:
            data = b""
        if not data:     # the server closed it (or answered and closed)
            (trickle if s in trickle else idle)[s][1] = now - t0
        else:
            # an answer (e.g. 400/408): the server is done with it
            (trickle if s in trickle else idle)[s][1] = now - t0
    if now >= next_send:
        next_send = now + args.every
        for s, v in trickle.items():
            if v[1] is None:
                try:
                    s.send(HEADER[v[2] % len(HEADER):v[2] % len(HEADER) + 1])
                    v[2] += 1
                except OSError:
                    v[1] = now - t0

stop.set()
th.join(timeout=15)
for d in (trickle, idle):
    for s in d:
        s.close()


def closed(d):
    return [v[1] for v in d.values() if v[1] is not None]


def closed_after_open(d):
    return [v[1] - (v[0] - t0) for v in d.values() if v[1] is not None]


ct, ci = closed(trickle), closed(idle)
cio = closed_after_open(idle)   # seconds from each one's connect
cto = closed_after_open(trickle)
last_opened = max((v[0] - t0 for d in (trickle, idle) for v in d.values()),
                  default=0)
check_closed = args.duration > last_opened + args.deadline + 8
res = {
    "seconds": args.duration, "trickle": args.conns, "idle": args.idle,
    "connect_errors": len(errors), "first_error": errors[0] if errors else None,
    "connect_seconds": round(connect_s, 2),
    "trickle_closed_by_server": len(ct),
    "trickle_first_closed_at_s": round(min(ct), 1) if ct else None,
    "trickle_closed_at_s": [round(min(cto), 1), round(max(cto), 1)] if cto else None,
    "idle_closed_by_server": len(ci),
    "idle_closed_at_s": [round(min(cio), 1), round(max(cio), 1)] if cio else None,
    "normal_requests": len(lat), "normal_failures": len(failures),
    "first_failure": failures[0] if failures else None,
    "normal_p50_ms": round(statistics.median(lat) * 1000, 1) if lat else None,
    "normal_max_ms": round(max(lat) * 1000, 1) if lat else None,
}
ok = (not failures and lat and max(lat) <= args.max_latency and not errors
      and (not check_closed or (len(ci) == args.idle
                                and len(ct) == len(trickle))))
res["closing_checked"] = check_closed
res["pass"] = bool(ok)
print("slowloris-result " + json.dumps(res), flush=True)
sys.exit(0 if ok else 1)
