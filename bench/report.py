#!/usr/bin/python3
"""report.py - figures and verdict of bench/load.sh and bench/soak.sh.

Usage: bench/report.py load|soak WORKDIR [--smoke=0|1] [--soak-window S]
                       [--soak-tol-kb KB] [--soak-tol-pct P]
Reads what the scripts left in WORKDIR (steps, phases, rss.log, canary.log,
result.json and each step's output), prints a table, writes figures.json,
exits 1 if the run failed (the reasons are printed).
"""
import json
import os
import re
import sys

mode, work = sys.argv[1], sys.argv[2]
opts = dict(a[2:].split("=", 1) for a in sys.argv[3:] if a.startswith("--"))
smoke = opts.get("smoke", "0") == "1"
failures = []


def read(name, default=""):
    try:
        with open(os.path.join(work, name)) as f:
            return f.read()
    except OSError:
        return default


def result_line(name, tag):
    for line in read(name + ".out").splitlines():
        if line.startswith(tag + " "):
            try:
                return json.loads(line[len(tag) + 1:])
            except ValueError:
                return None
    return None


steps = {}
for line in read("steps").splitlines():
    n, rc = line.split()
    steps[n] = int(rc)
phases = []
for line in read("phases").splitlines():
    n, t = line.split()
    phases.append((n, float(t)))
rss = []
for line in read("rss.log").splitlines():
    p = line.split()
    if len(p) == 3:
        rss.append((float(p[0]), int(p[1]), p[2]))
canary = []
for line in read("canary.log").splitlines():
    p = line.split()
    if len(p) == 5:
        canary.append((float(p[0]), int(p[1]), int(p[2]), int(p[3]), float(p[4])))
try:
    result = json.loads(read("result.json", "null"))
except ValueError:
    result = None
aborted = read("aborted").strip()

rows = []   # (what, figure)
figures = {"mode": mode, "smoke": smoke}


def mb(kb):
    return "%.1f MB" % (kb / 1024)


def phase_span(name):
    for i, (n, t) in enumerate(phases):
        if n == name:
            end = phases[i + 1][1] if i + 1 < len(phases) else float("inf")
            return t, end
    return None


def canary_between(t0, t1):
    """underruns, qos messages, dropped, worst arrival in [t0, t1)"""
    before = [c for c in canary if c[0] < t0]
    inside = [c for c in canary if t0 <= c[0] < t1 + 1.5]
    if not inside:
        return None
    b = before[-1] if before else (0, 0, 0, 0, 0)
    e = inside[-1]
    return (e[1] - b[1], e[2] - b[2], e[3] - b[3],
            max(c[4] for c in inside))


def wrk_figures(name):
    out = read(name + ".out")
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\b", out, re.M)
    n = re.search(r"(\d+) requests in ([\d.]+)(\w+)", out)
    errs = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if not m:
        return None
    f = {"req_per_s": float(m.group(1))}
    if p99:
        v = float(p99.group(1)) * {"us": 1e-3, "ms": 1, "s": 1e3}[p99.group(2)]
        f["p99_ms"] = round(v, 2)
    if n:
        f["requests"] = int(n.group(1))
    if errs:
        f["socket_errors"] = {k: int(v) for k, v in zip(
            ("connect", "read", "write", "timeout"), errs.groups())}
    f["non_2xx"] = int(non2xx.group(1)) if non2xx else 0
    return f


def check_step(name, why):
    rc = steps.get(name)
    if rc is None:
        return
    if rc != 0:
        failures.append("%s: %s (exit %d, see %s.out)" % (name, why, rc, name))


# -- RSS --------------------------------------------------------------------
def rss_in(*names):
    return [r[1] for r in rss if r[2] in names]


if rss:
    peak = max(rss, key=lambda r: r[1])
    figures["rss_peak_kb"] = peak[1]
    figures["rss_peak_phase"] = peak[2]

# -- load -------------------------------------------------------------------
if mode == "load":
    base = rss_in("idle") or rss_in("warmup")
    start = sum(base[-3:]) / len(base[-3:]) if base else None
    endv = rss_in("end") or rss_in("cooldown")
    end = sum(endv[-3:]) / len(endv[-3:]) if endv else None
    figures.update(rss_start_kb=start, rss_end_kb=end)
    bound_mb = float(os.environ.get("RSS_GROWTH_MB", "32" if smoke else "64"))
    k = result_line("keepalive", "keepalive-result")
    if k:
        figures["keepalive"] = k
        rows.append(("HTTP/1.1 keep-alive (3 GETs, one connection)",
                     "kept" if k["pass"] else "closed by the server after %d response(s) without "
                     "'Connection: close' (%s)" % (k["closed_without_notice_after"], k.get("error"))))
    check_step("keepalive", "the server closes keep-alive connections without 'Connection: close'")
    for name, path in (("wrk-metrics", "/metrics"), ("wrk-status", "/monitoring/status")):
        f = wrk_figures(name)
        if f:
            figures[name] = f
            rows.append(("wrk %s (-t2 -c16 15 s)" % path,
                         "%.0f req/s, p99 %s ms, %d requests, non-2xx %d, socket errors %s"
                         % (f["req_per_s"], f.get("p99_ms"), f.get("requests", 0),
                            f["non_2xx"], f.get("socket_errors"))))
            se = f.get("socket_errors", {})
            if f["non_2xx"] or se.get("connect") or se.get("read") or se.get("write"):
                failures.append("%s: errors %s, non-2xx %d" % (name, se, f["non_2xx"]))
        check_step(name, "wrk failed")
    for name in ("ws-many", "ws-many-nodeflate"):
        w = result_line(name, "ws-result")
        if w:
            figures[name] = w
            rows.append(("WS %d clients %d s at %d Hz%s" % (w["clients"], w["seconds"], w["target_hz"],
                         " (permessage-deflate)" if w["deflate"] else " (no deflate)"),
                         "connected %d in %.1f s (%d failed: %s), closed early %d %s, updates/s per "
                         "client min %.1f median %.1f, %.1f MB received, %.0f kB per message"
                         % (w["connected"], w["connect_seconds"], w["failed"], w["first_error"],
                            w["closed_early"], w["close_codes"] or "", w["rate_min"],
                            w["rate_median"], w["mbytes"], w["avg_message_kb"])))
        check_step(name, "a client failed, was closed, or got less than 80% of the rate")
    for name, label in (("ws-stalled", "stalled reader (never reads)"),
                        ("ws-chatty", "stalled reader that pings every 5 s")):
        s = result_line(name, "ws-result")
        if s:
            figures[name] = s
            seg = phase_span(name)
            grow = ""
            if seg:
                v = [r[1] for r in rss if seg[0] <= r[0] < seg[1]]
                if v:
                    grow = ", RSS +%s during it" % mb(max(v) - v[0])
                    s["rss_growth_kb"] = max(v) - v[0]
            rows.append((label, ("closed by the server after %.1f s" % s["server_closed_after_s"]
                                 if s["server_closed"] else "NOT closed by the server")
                         + ", %d updates / %.1f MB were in the kernel buffers, close frame %s%s"
                         % (s["updates_in_buffers"], s["mbytes_buffered"], s["close_code"], grow)))
        check_step(name, "the server did not close the stalled client")
    s = result_line("slowloris", "slowloris-result")
    if s:
        figures["slowloris"] = s
        curl = [line.split() for line in read("curl-during-slowloris.out").splitlines()
                if len(line.split()) == 2]
        cmax = max((float(c[1]) for c in curl), default=None)
        cbad = sum(1 for c in curl if c[0] != "200")
        if curl:
            figures["curl_during_slowloris"] = {"requests": len(curl), "max_s": cmax, "failed": cbad}
            if cbad or cmax > 1.0:
                failures.append("slowloris: curl /monitoring/status failed %d or took %.2f s" % (cbad, cmax))
        rows.append(("slowloris %d trickle + %d idle, %d s" % (s["trickle"], s["idle"], s["seconds"]),
                     "normal GET /health p50 %s ms max %s ms (%d, %d failed)%s; idle closed %d/%d at %s s; "
                     "trickle closed %d/%d"
                     % (s["normal_p50_ms"], s["normal_max_ms"], s["normal_requests"], s["normal_failures"],
                        "; curl /monitoring/status max %.0f ms" % (cmax * 1000) if cmax is not None else "",
                        s["idle_closed_by_server"], s["idle"], s["idle_closed_at_s"],
                        s["trickle_closed_by_server"], s["trickle"])))
    check_step("slowloris", "a normal request failed or was slow, or idle connections were kept")
    f = result_line("close", "close-result")
    if f:
        figures["close"] = f
        seg = phase_span("close")
        grow = ""
        if seg:
            v = [r[1] for r in rss if seg[0] <= r[0] < seg[1]]
            if v:
                grow = ", RSS %s -> %s" % (mb(v[0]), mb(v[-1]))
        rows.append(("%d requests with Connection: close" % f["requests"],
                     "%.0f req/s (curl, 4 parallel), p50 %s ms p99 %s ms max %s ms, %d failed, "
                     "%d connections%s" % (f["req_per_s"], f["p50_ms"], f["p99_ms"], f["max_ms"],
                                           f["failed"], f["connections"], grow)))
    check_step("close", "Connection: close requests failed")
    if start is not None and end is not None:
        rows.append(("RSS", "start %s, peak %s (in %s), end %s: %+.1f MB (bound +%.0f MB)"
                     % (mb(start), mb(figures["rss_peak_kb"]), figures["rss_peak_phase"], mb(end),
                        (end - start) / 1024, bound_mb)))
        if end - start > bound_mb * 1024:
            failures.append("RSS grew %.1f MB from %s to %s (bound %.0f MB)"
                            % ((end - start) / 1024, mb(start), mb(end), bound_mb))
    else:
        failures.append("no RSS samples")
    # canary, per phase
    load_phases = [n for n, _ in phases if n not in ("start", "warmup", "idle", "stop")]
    t_load = min((t for n, t in phases if n in load_phases), default=None)
    t_stop = phase_span("stop")[0] if phase_span("stop") else float("inf")
    per = []
    for n, _ in phases:
        if n in ("start", "stop"):
            continue
        seg = phase_span(n)
        c = canary_between(*seg) if seg else None
        if c:
            per.append("%s %d/%d/%.0f" % (n, c[0], c[2], c[3]))
    if per:
        rows.append(("canary per phase (underruns/drops/worst arrival ms)", ", ".join(per)))
    if t_load is not None:
        c = canary_between(t_load, t_stop)
        if c:
            figures["canary_during_load"] = {"underruns": c[0], "qos_messages": c[1],
                                             "dropped": c[2], "worst_arrival_ms": c[3]}
            cmax = int(os.environ.get("CANARY_MAX", "0"))
            if c[0] + c[2] > cmax:
                failures.append("canary: %d underruns and %d dropped buffers while the load ran "
                                "(CANARY_MAX=%d)" % (c[0], c[2], cmax))
    c = canary_between(*phase_span("idle")) if phase_span("idle") else None
    if c:
        figures["canary_idle"] = {"underruns": c[0], "dropped": c[2], "worst_arrival_ms": c[3]}

# -- soak -------------------------------------------------------------------
if mode == "soak":
    win = float(opts.get("soak-window", "60"))
    tol_kb = float(opts.get("soak-tol-kb", "4096"))
    tol_pct = float(opts.get("soak-tol-pct", "5"))
    run = [r for r in rss if r[2] == "churn"]
    if len(run) >= 6:
        t0, t1 = run[0][0], run[-1][0]
        w = min(win, (t1 - t0) / 3)
        first = [r[1] for r in run if r[0] < t0 + w]
        last = [r[1] for r in run if r[0] > t1 - w]
        a, b = sum(first) / len(first), sum(last) / len(last)
        # least-squares slope over the whole run, kB per minute
        xs = [r[0] - t0 for r in run]
        ys = [r[1] for r in run]
        mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
        sxx = sum((x - mx) ** 2 for x in xs)
        slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx * 60 if sxx else 0
        allowed = max(tol_kb, a * tol_pct / 100)
        figures.update(soak_seconds=round(t1 - t0), window_s=round(w), first_avg_kb=round(a),
                       last_avg_kb=round(b), growth_kb=round(b - a), allowed_kb=round(allowed),
                       slope_kb_per_min=round(slope, 1), rss_min_kb=min(ys), rss_max_kb=max(ys))
        rows.append(("RSS (churn, %d s)" % (t1 - t0),
                     "first %d s avg %s, last %d s avg %s: %+.0f kB (allowed %+.0f kB), "
                     "slope %+.0f kB/min, min %s max %s"
                     % (w, mb(a), w, mb(b), b - a, allowed, slope, mb(min(ys)), mb(max(ys)))))
        if b - a > allowed:
            failures.append("RSS grew %.0f kB between the first and the last %d s (allowed %.0f kB)"
                            % (b - a, w, allowed))
    else:
        failures.append("too few RSS samples in the churn phase")
    h = result_line("scrapes", "scrape-result")
    if h:
        figures["scrapes"] = h
        rows.append(("HTTP scrapes", "%d requests, %d failed, max %.0f ms, %d keep-alive "
                     "connections closed under the client (retried)"
                     % (h["requests"], h["failed"], h["max_ms"], h.get("keepalive_dropped", 0))))
    check_step("scrapes", "an HTTP scrape failed or took more than 2 s")
    w = result_line("ws-churn", "ws-result")
    if w:
        figures["ws-churn"] = w
        rows.append(("WS churn", "%d opened and closed, %d snapshots, %d errors, %d unexpected closes"
                     % (w["opens"], w["snapshots"], w["errors"], w["unexpected_closes"])))
    check_step("ws-churn", "a WebSocket client failed")
    seg = phase_span("churn")
    c = canary_between(*seg) if seg else None
    if c:
        figures["canary_during_churn"] = {"underruns": c[0], "dropped": c[2], "worst_arrival_ms": c[3]}
        rows.append(("canary during churn", "%d underruns, %d dropped, worst arrival %.0f ms"
                     % (c[0], c[2], c[3])))

# -- both -------------------------------------------------------------------
probe = []
for line in read("probe.log").splitlines():
    p = line.split()
    if len(p) == 4:
        probe.append((p[1], p[2], float(p[3])))
if probe:
    pmax = float(os.environ.get("PROBE_MAX_S", "1"))
    per, seen = [], []
    for ph, _, _ in probe:
        if ph not in seen:
            seen.append(ph)
    for ph in seen:
        v = [x for x in probe if x[0] == ph]
        per.append("%s %.0f" % (ph, max(x[2] for x in v) * 1000))
    # the service goes away with the target during "stop": not a failure
    live = [x for x in probe if x[0] != "stop"]
    bad = [x for x in live if x[1] != "200"]
    slow = [x for x in live if x[1] == "200" and x[2] > pmax]
    figures["probe"] = {"requests": len(probe), "failed": len(bad), "over_max": len(slow),
                        "max_ms": round(max(x[2] for x in probe) * 1000, 1)}
    rows.append(("curl /health each second, max ms per phase", ", ".join(per)
                 + " (%d requests, %d failed)" % (len(probe), len(bad))))
    if bad or slow:
        failures.append("probe: %d GET /health failed and %d took over %.1f s (phases %s)"
                        % (len(bad), len(slow), pmax,
                           sorted(set(x[0] for x in bad + slow))))
if aborted:
    failures.append("the target was killed: RSS over RSS_ABORT_MB (%s)" % aborted)
if result:
    figures["target"] = result
    rows.append(("canary whole run", "%d underruns, %d QoS messages, %d dropped; arrival ms p50 %s "
                 "p99 %s max %s; %d/%d pipelines PLAYING at the end"
                 % (result["canary_underruns"], result["canary_qos_messages"],
                    result["canary_qos_dropped"], result["canary_arrival_ms"]["p50"],
                    result["canary_arrival_ms"]["p99"], result["canary_arrival_ms"]["max"],
                    result["playing"], result["pipelines"])))
    if result["playing"] != result["pipelines"]:
        failures.append("only %d of %d pipelines were PLAYING at the end"
                        % (result["playing"], result["pipelines"]))
    if result["errors"]:
        failures.append("pipeline errors: %s" % result["errors"][:3])
else:
    failures.append("the target left no result (crashed or killed?): see target.err")
err = read("target.err")
crit = len(re.findall(r"-CRITICAL \*\*", err))
warn = len(re.findall(r"-WARNING \*\*", err))
if crit or warn:
    first = next((line for line in err.splitlines() if "-CRITICAL **" in line or "-WARNING **" in line), "")
    failures.append("target stderr: %d criticals, %d warnings, first: %s" % (crit, warn, first.strip()))
figures["failures"] = failures

width = max(len(r[0]) for r in rows) if rows else 10
print("\n%s figures (work dir %s)" % (mode, work))
for what, fig in rows:
    print("  %-*s  %s" % (width, what, fig))
with open(os.path.join(work, "figures.json"), "w") as f:
    json.dump(figures, f, indent=1)
if failures:
    print("FAIL:")
    for x in failures:
        print("  - " + x)
    sys.exit(1)
print("PASS")
