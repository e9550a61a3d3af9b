#!/usr/bin/python3
"""scrapes.py - HTTP scrapes of gst-apm, once a second, for a bounded time.

Usage: bench/scrapes.py URL [-d SECONDS] [--max-latency S]
       bench/scrapes.py URL --keepalive-check

Each second: GET /metrics, /monitoring/status, /health/monitoring,
/monitoring/pipelines, /monitoring/jobs, /monitoring/logs, /monitoring/alerts
and /health, on one keep-alive connection that is dropped every 5 seconds,
plus 20 requests with 'Connection: close' (new connections).  Fails (exit 1)
if a request failed, answered other than 200, or took longer than
--max-latency (default 2 s).  A keep-alive request that finds its
connection closed by the server (which HTTP/1.1 allows only after a
'Connection: close' answer) is counted as keepalive_dropped and retried once
on a new connection.  Prints "scrape-result {json}".

--keepalive-check: 3 GETs of /health on one connection; fails (exit 1) if
the server closes it without having said 'Connection: close'.  Prints
"keepalive-result {json}".  Loopback only.
"""
import argparse
import http.client
import json
import sys
import time
import urllib.parse

ap = argparse.ArgumentParser()
ap.add_argument("url")
ap.add_argument("-d", "--duration", type=float, default=60)
ap.add_argument("--max-latency", type=float, default=2.0)
ap.add_argument("--keepalive-check", action="store_true")
args = ap.parse_args()
u = urllib.parse.urlparse(args.url)
if not (u.hostname == "localhost" or u.hostname.startswith("127.") or u.hostname == "::1"):
    sys.exit("scrapes: loopback addresses only")

if args.keepalive_check:
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    res = {"requests": 0, "closed_without_notice_after": None, "connection_headers": []}
    for i in range(3):
        try:
            c.request("GET", "/health")
            r = c.getresponse()
            r.read()
        except (http.client.RemoteDisconnected, ConnectionError) as e:
            res["closed_without_notice_after"] = i
            res["error"] = repr(e)
            break
        res["requests"] += 1
        res["connection_headers"].append(r.getheader("Connection"))
        if (r.getheader("Connection") or "").lower() == "close":
            c.close()
            c = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    c.close()
    res["pass"] = res["closed_without_notice_after"] is None
    print("keepalive-result " + json.dumps(res), flush=True)
    sys.exit(0 if res["pass"] else 1)

PATHS = ["/metrics", "/monitoring/status", "/health/monitoring", "/monitoring/pipelines",
         "/monitoring/jobs", "/monitoring/logs", "/monitoring/alerts", "/health"]
n = failed = dropped = 0
worst = 0.0
first_failure = None
per_path = {}
conn = None
t0 = time.monotonic()
sec = 0
while time.monotonic() - t0 < args.duration:
    if conn is None or sec % 5 == 0:
        if conn:
            conn.close()
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    batch = [(p, False) for p in PATHS] + [("/health", True)] * 20
    for path, close in batch:
        t = time.monotonic()
        for attempt in (0, 1):
            try:
                if close:
                    c = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
                    c.request("GET", path, headers={"Connection": "close"})
                else:
                    c = conn
                    c.request("GET", path)
                r = c.getresponse()
                r.read()
                if close or (r.getheader("Connection") or "").lower() == "close":
                    c.close()
                ok = r.status == 200
                why = "HTTP %d" % r.status
                break
            except (http.client.RemoteDisconnected, ConnectionError) as e:
                ok, why = False, repr(e)
                conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
                if close or attempt:
                    break
                dropped += 1     # closed under us: once more, new connection
            except Exception as e:  # noqa: BLE001
                ok, why = False, repr(e)
                conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
                break
        d = time.monotonic() - t
        n += 1
        worst = max(worst, d)
        per_path[path] = max(per_path.get(path, 0), d)
        if not ok or d > args.max_latency:
            failed += 1
            first_failure = first_failure or "%s: %s (%.2f s)" % (path, why, d)
    sec += 1
    time.sleep(max(0, t0 + sec - time.monotonic()))
if conn:
    conn.close()
res = {"seconds": round(time.monotonic() - t0), "requests": n, "failed": failed,
       "keepalive_dropped": dropped,
       "first_failure": first_failure, "max_ms": round(worst * 1000, 1),
       "max_ms_per_path": {k: round(v * 1000, 1) for k, v in per_path.items()}}
print("scrape-result " + json.dumps(res), flush=True)
sys.exit(1 if failed else 0)
