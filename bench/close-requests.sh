#!/bin/bash
# close-requests.sh URL N [PARALLEL] - N requests to URL/health, each on a new
# connection ('Connection: close': the server closes it), PARALLEL (default
# 4) at a time, with curl.  Prints "close-result {json}" (requests, failed,
# req/s, p50/p99/max ms); exits 1 if any request failed.  Loopback only.
set -u
URL=$1 N=$2 PAR=${3:-4}
case $URL in
  http://127.*|http://localhost*|http://\[::1\]*) ;;
  *) echo "close-requests: loopback addresses only" >&2; exit 2 ;;
esac
OUT=$(mktemp /tmp/apm-close.XXXXXX)
trap 'rm -f "$OUT"' EXIT
t0=$(date +%s.%N)
# one line per request: "@ CODE SECONDS CONNECTS"
curl -s -Z --parallel-max "$PAR" -H 'Connection: close' -m 10 \
  -w '\n@ %{http_code} %{time_total} %{num_connects}\n' "$URL/health?n=[1-$N]" 2>/dev/null |
  grep '^@' >"$OUT"
t1=$(date +%s.%N)
/usr/bin/python3 - "$OUT" "$N" "$t0" "$t1" <<'EOF'
import json, sys
rows = [l.split() for l in open(sys.argv[1])]
n = int(sys.argv[2]); secs = float(sys.argv[4]) - float(sys.argv[3])
ok = sum(1 for r in rows if r[1] == "200")
lat = sorted(float(r[2]) for r in rows)
res = {"requests": len(rows), "ok": ok, "failed": n - ok, "seconds": round(secs, 2),
       "req_per_s": round(len(rows) / secs, 1), "connections": sum(int(r[3]) for r in rows),
       "p50_ms": round(lat[len(lat) // 2] * 1000, 2) if lat else None,
       "p99_ms": round(lat[int(len(lat) * 0.99)] * 1000, 2) if lat else None,
       "max_ms": round(lat[-1] * 1000, 2) if lat else None}
print("close-result " + json.dumps(res))
sys.exit(0 if ok == n else 1)
EOF
