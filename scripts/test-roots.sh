#!/bin/bash
# test-roots.sh - build and test gst-apm inside newer Debian roots:
#   trixie (Debian 13: GStreamer 1.26) and sid (unstable: GStreamer 1.28).
#
# Usage: scripts/test-roots.sh [trixie|sid ...]      (default: trixie sid)
#
# Each root is a Debian directory tree made with mmdebstrap (from Debian's
# registry) and kept in ${APM_ROOTS_CACHE:-/var/cache/gst-apm-roots}/<suite>;
# it is reused while its stamp file (written last, listing how it was made)
# matches, and made again otherwise.  The files `git ls-files` lists
# (tracked and new, not ignored) are copied from this clone into <root>/src,
# built there with meson (build dir <root>/src/build, the one
# scripts/demo.sh uses) and tested with
# `meson test --num-processes 2`: suite 'check' and every 'e2e' test but
# e2e-dashboard (headless chromium).  The WebSocket test uses Debian's
# node-ws (linked as tests/e2e/node_modules/ws), the Prometheus tests
# Debian's prometheus/promtool: a cached root runs without the network.
#
# Results: build-roots/<suite>/testlog.json (meson's JSON lines, for
# scripts/test-summary.py) and testlog.txt (full output).  A root that
# cannot be made, a build that fails, or tests that never finished (the
# overall bound below) are FAIL entries there: nothing passes silently.
# Exits non-zero if any root failed.
#
# Env: APM_ROOTS_CACHE         where the roots live
#      APM_ROOTS_TEST_TIMEOUT  bound (s) on one root's build + test run (330)
#      APM_ROOTS_MAKE_TIMEOUT  bound (s) on making one root (1800)
#      APM_ROOTS_MIRROR        Debian mirror (http://deb.debian.org/debian)
#      APM_ROOTS_REFRESH=1     make the roots again (sid moves daily)
# Needs root (mmdebstrap --mode=root, chroot, mount).
set -uo pipefail
CACHE=$(realpath -m "${APM_ROOTS_CACHE:-/var/cache/gst-apm-roots}")
cd "$(dirname "$0")/.." || exit 2
SRC=$(pwd -P)
OUT=$SRC/build-roots
MIRROR=${APM_ROOTS_MIRROR:-http://deb.debian.org/debian}
TEST_TIMEOUT=${APM_ROOTS_TEST_TIMEOUT:-330}
MAKE_TIMEOUT=${APM_ROOTS_MAKE_TIMEOUT:-1800}

# the root's packages (no Recommends: mmdebstrap's default)
PKGS=(
  # build (gstreamer-check-1.0 is in libgstreamer1.0-dev)
  meson ninja-build pkg-config gcc libc6-dev
  libglib2.0-dev libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev
  libsoup-3.0-dev libjson-glib-dev
  # run: what scripts/setup.sh checks for (scripts/demo.sh, e2e-demo, runs
  # it), gst-play-1.0 (plugins-base-apps) for the Prometheus tests
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  gstreamer1.0-plugins-base-apps python3 curl mawk
  # e2e-metrics-lint (promtool), e2e-prometheus, e2e-grafana-panels
  prometheus
  # e2e-ws: node with the ws package (Debian's, instead of npm ci)
  nodejs node-ws
  # the check programs' deadline handler dumps a hung test's threads with it
  gdb
  # e2e-metrics-lint: the reference exposition parsers
  python3-prometheus-client
)
# introspection is optional (-Dintrospection=disabled): no g-ir-scanner
MESON_OPTS=(-Dintrospection=disabled -Dtests=enabled)
# tests not run in the roots, with the reason
# e2e-dashboard needs chromium + playwright-core; e2e-openmetrics the Apm
# typelib (introspection is off here) and python3-prometheus-client, and
# e2e-breaker-gi, e2e-tracecontext and e2e-jobs-compare the typelib too
# (the last also chromium); the trace context's plugin side runs in the
# roots through check/tracer_context.  The exposition code does not depend
# on the GStreamer version.  e2e-otlp-trace, e2e-otlp-failure and
# e2e-otlp-headless need the typelib too (Python GI).  e2e-otlp runs: its decoder, npm's
# @opentelemetry/otlp-transformer (pure JavaScript, not packaged by
# Debian), is copied from the host's tests/e2e/node_modules
# (scripts/setup.sh installs it); without it there the test skips.
EXCLUDED=(e2e-dashboard e2e-openmetrics e2e-breaker-gi e2e-tracecontext
  e2e-jobs-compare e2e-otlp-trace e2e-otlp-failure e2e-otlp-headless)

usage() {
  sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'
  exit "${1:-0}"
}

SUITES=()
for a in "$@"; do
  case $a in
    trixie|sid) SUITES+=("$a") ;;
    -h|--help) usage 0 ;;
    *) echo "test-roots: unknown suite '$a' (trixie or sid)" >&2; usage 2 >&2 ;;
  esac
done
[ ${#SUITES[@]} -gt 0 ] || SUITES=(trixie sid)

if [ "$(id -u)" -ne 0 ]; then
  echo "test-roots: needs root (mmdebstrap --mode=root, chroot, mount)" >&2
  exit 2
fi
for t in git python3 tar timeout chroot mount umount flock; do
  command -v "$t" >/dev/null || { echo "test-roots: $t not found" >&2; exit 2; }
done

log() { echo "test-roots: $*"; }

# ---------------------------------------------------------------- helpers

# fail_log FILE NAME MESSAGE: a meson-style testlog with one FAIL entry
fail_log() {
  mkdir -p "$(dirname "$1")"
  python3 - "$1" "$2" "$3" <<'EOF'
import json, sys
path, name, msg = sys.argv[1:4]
with open(path, "w") as f:
    f.write(json.dumps({"name": name, "result": "FAIL", "returncode": 1,
                        "duration": 0, "stdout": msg}) + "\n")
EOF
}

# mounts_under DIR: mount points at or below DIR, deepest first
mounts_under() {
  awk -v d="$1" '{ gsub(/\\040/, " ", $5)
    if ($5 == d || index($5, d "/") == 1) print $5 }' /proc/self/mountinfo |
    sort -r
}

# unmount_under DIR: unmounts everything at or below DIR (lazily at last)
unmount_under() {
  local m
  for m in $(mounts_under "$1"); do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null ||
      echo "test-roots: warning: could not unmount $m" >&2
  done
}

# kill_root_procs DIR: ends the processes whose root directory is DIR (the
# ones this script started in that chroot), by pid
kill_root_procs() {
  local p pids=()
  for _ in 1 2 3 4 5; do
    pids=()
    for p in /proc/[0-9]*; do
      [ "$(readlink "$p/root" 2>/dev/null)" = "$1" ] && pids+=("${p#/proc/}")
    done
    [ ${#pids[@]} -gt 0 ] || return 0
    kill -KILL "${pids[@]}" 2>/dev/null
    sleep 0.2
  done
}

# safe_rm DIR: removes a root, never through a mount point
safe_rm() {
  [ -e "$1" ] || return 0
  kill_root_procs "$1"
  unmount_under "$1"
  if [ -n "$(mounts_under "$1")" ]; then
    echo "test-roots: $1 still has mounts; not removing it" >&2
    return 1
  fi
  rm -rf --one-file-system "$1"
}

# state of the run, for the exit trap
CUR_ROOT=      # a root with our mounts in it
CUR_CHILD=     # a background job (timeout ...) we wait for
CUR_NEW=       # a root being made (removed if we are interrupted)
CUR_SUITE=     # the suite whose testlog is not written yet

cleanup() {
  local rc=$?
  trap - EXIT INT TERM HUP
  if [ -n "$CUR_CHILD" ] && kill -0 "$CUR_CHILD" 2>/dev/null; then
    # mmdebstrap and timeout clean up after themselves on TERM
    kill -TERM "$CUR_CHILD" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$CUR_CHILD" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$CUR_CHILD" 2>/dev/null
  fi
  if [ -n "$CUR_ROOT" ]; then
    umount_root "$CUR_ROOT"
  fi
  if [ -n "$CUR_NEW" ]; then
    safe_rm "$CUR_NEW"
  fi
  if [ -n "$CUR_SUITE" ] && [ ! -s "$OUT/$CUR_SUITE/testlog.json" ]; then
    fail_log "$OUT/$CUR_SUITE/testlog.json" "root-$CUR_SUITE" \
      "test-roots.sh was interrupted (status $rc) before the $CUR_SUITE run ended"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'echo "test-roots: interrupted" >&2; exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# run_bg CMD...: runs CMD as a background job and waits for it, so that a
# signal to this script runs the trap at once; returns CMD's status
run_bg() {
  "$@" </dev/null &
  CUR_CHILD=$!
  wait "$CUR_CHILD"
  local rc=$?
  CUR_CHILD=
  return $rc
}

ensure_mmdebstrap() {
  command -v mmdebstrap >/dev/null && return 0
  log "installing mmdebstrap on the host"
  if ! DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 \
        install -y -qq --no-install-recommends mmdebstrap >/dev/null; then
    apt-get -o DPkg::Lock::Timeout=300 update -qq &&
      DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 \
        install -y -qq --no-install-recommends mmdebstrap >/dev/null
  fi
  command -v mmdebstrap >/dev/null
}

# mm_args SUITE: mmdebstrap's options for SUITE (also the stamp's content)
mm_args() {
  local a=(--mode=root --variant=apt "--include=$(IFS=,; echo "${PKGS[*]}")"
    '--aptopt=Acquire::Languages "none"'
    '--dpkgopt=path-exclude=/usr/share/man/*'
    '--dpkgopt=path-exclude=/usr/share/locale/*'
    '--dpkgopt=path-exclude=/usr/share/doc/*'
    '--dpkgopt=path-include=/usr/share/doc/*/copyright')
  # sid's Release file in the registry can be past its Valid-Until
  [ "$1" = sid ] && a+=('--aptopt=Acquire::Check-Valid-Until "false"')
  printf '%s\n' "${a[@]}"
}

STAMP_NAME=.gst-apm-root-stamp

stamp_text() {
  echo "gst-apm root: suite $1"
  mm_args "$1"
}

# ensure_root SUITE DIR: DIR is a complete root made as mm_args says
# (reused), or is made now; returns non-zero, with the reason on stderr,
# if it cannot be made
ensure_root() {
  local suite=$1 dir=$2 t0 args
  if [ "${APM_ROOTS_REFRESH:-0}" = 1 ] && [ -e "$dir" ]; then
    log "$suite: APM_ROOTS_REFRESH=1: making the root again"
    safe_rm "$dir" || return 1
  fi
  if [ -f "$dir/$STAMP_NAME" ] && [ "$(cat "$dir/$STAMP_NAME")" = "$(stamp_text "$suite")" ]; then
    log "$suite: reusing the root $dir (made $(date -r "$dir/$STAMP_NAME" '+%F %T'))"
    return 0
  fi
  if [ -e "$dir" ]; then
    log "$suite: $dir is incomplete or was made with another package set: making it again"
    safe_rm "$dir" || return 1
  fi
  ensure_mmdebstrap || { echo "test-roots: cannot install mmdebstrap" >&2; return 1; }
  mkdir -p "$CACHE"
  safe_rm "$dir.new" || return 1
  mapfile -t args < <(mm_args "$suite")
  log "$suite: making the root with mmdebstrap (a few minutes; log in $OUT/$suite/mmdebstrap.log)"
  t0=$(date +%s)
  CUR_NEW=$dir.new
  if ! run_bg timeout -k 30 "$MAKE_TIMEOUT" mmdebstrap "${args[@]}" \
        "$suite" "$dir.new" "$MIRROR" >"$OUT/$suite/mmdebstrap.log" 2>&1; then
    tail -n 15 "$OUT/$suite/mmdebstrap.log" >&2
    echo "test-roots: mmdebstrap $suite failed (no network to $MIRROR, or a package is missing: see $OUT/$suite/mmdebstrap.log)" >&2
    safe_rm "$dir.new"
    CUR_NEW=
    return 1
  fi
  if [ ! -e "$dir.new/usr/share/nodejs/ws/package.json" ]; then
    echo "test-roots: $suite: node-ws is not at /usr/share/nodejs/ws in the new root" >&2
    safe_rm "$dir.new"
    CUR_NEW=
    return 1
  fi
  mv "$dir.new" "$dir" || return 1
  CUR_NEW=
  stamp_text "$suite" >"$dir/$STAMP_NAME.tmp" && mv "$dir/$STAMP_NAME.tmp" "$dir/$STAMP_NAME"
  log "$suite: root made in $(( $(date +%s) - t0 )) s ($(du -sh --one-file-system "$dir" | cut -f1))"
}

# mount_root ROOT: ROOT bound onto itself (so that it is a mount point,
# "/" in the chroot's /proc/self/mountinfo: df and the disk space checks
# need that), /proc, and /sys and /dev bound from the host, all as slaves
# (nothing propagates back to the host)
mount_root() {
  local r=$1
  CUR_ROOT=$r
  mount --bind "$r" "$r" && mount --make-rslave "$r" &&
    mount -t proc proc "$r/proc" &&
    mount --rbind /sys "$r/sys" && mount --make-rslave "$r/sys" &&
    mount --rbind /dev "$r/dev" && mount --make-rslave "$r/dev"
}

umount_root() {
  kill_root_procs "$1"
  unmount_under "$1"
  CUR_ROOT=
}

# copy_source ROOT: the files git lists, as they are in the work tree, into
# ROOT/src (a previous copy and its build dir are dropped): tracked files and
# new files not yet added (a tracked meson.build may already name one), never
# ignored ones (build dirs, node_modules); a file deleted in the work tree
# but still in the index is skipped
copy_source() {
  local r=$1
  safe_rm "$r/src" || return 1
  mkdir -p "$r/src"
  git -C "$SRC" ls-files -z --cached --others --exclude-standard |
    tar -C "$SRC" --null -T - --ignore-failed-read -cf - | tar -C "$r/src" -xf -
  # the OTLP test's decoder and what it requires (protobufjs' runtime)
  local nm=$SRC/tests/e2e/node_modules
  if [ -f "$nm/@opentelemetry/otlp-transformer/build/src/generated/root.js" ]; then
    mkdir -p "$r/src/.otlp-node-modules/@opentelemetry"
    cp -a "$nm/@opentelemetry/otlp-transformer" "$r/src/.otlp-node-modules/@opentelemetry/" &&
      cp -a "$nm/protobufjs" "$nm/@protobufjs" "$nm/long" "$r/src/.otlp-node-modules/"
  fi
}

# the script run in the root (bash -c), args: test names to exclude
INNER='
set -uo pipefail
cd /src
v() { pkg-config --modversion "$1" 2>/dev/null || echo "?"; }
echo "  GStreamer $(v gstreamer-1.0), libsoup $(v libsoup-3.0), GLib $(v glib-2.0), json-glib $(v json-glib-1.0)"
echo "  meson $(meson --version), $(gcc --version | head -n1), node $(node --version 2>/dev/null), $(prometheus --version 2>&1 | head -n1)"
# the WebSocket test needs the ws package in tests/e2e/node_modules
rm -rf tests/e2e/node_modules && mkdir -p tests/e2e/node_modules &&
  ln -s /usr/share/nodejs/ws tests/e2e/node_modules/ws
# the OTLP decoder copied from the host (copy_source), if it had one
[ -d .otlp-node-modules ] && cp -a .otlp-node-modules/. tests/e2e/node_modules/
if ! meson setup build '"${MESON_OPTS[*]}"' >build-setup.log 2>&1; then
  tail -n 40 build-setup.log; exit 10
fi
echo "  building (warnings below)"
if ! ninja -C build >build.log 2>&1; then
  grep -E "error|warning" build.log | head -n 60; tail -n 20 build.log; exit 11
fi
grep -E "warning:" build.log | sort -u | head -n 40
touch build/.roots-built
# the tests of suites check and e2e, less the excluded ones
meson introspect --tests build | python3 -c "
import json, sys
excl = set(sys.argv[1:])
for t in json.load(sys.stdin):
    suites = {x.split(\":\")[-1] for x in t[\"suite\"]}   # project:suite
    if {\"check\", \"e2e\"} & suites and t[\"name\"] not in excl:
        print(t[\"name\"])
" "$@" >build/.roots-tests
[ -s build/.roots-tests ] || { echo "  no check or e2e test found"; exit 12; }
echo "  running $(wc -l <build/.roots-tests) tests: $(tr "\n" " " <build/.roots-tests)"
meson test -C build --num-processes 2 $(cat build/.roots-tests)
'

# finish_log SUITE ROOT BOUND_HIT: copy meson's logs out; a test selected but
# absent from the log (the run was cut by the overall bound) is a TIMEOUT
finish_log() {
  local suite=$1 r=$2 out=$OUT/$1
  cp "$r/src/build/meson-logs/testlog.txt" "$out/testlog.txt" 2>/dev/null
  python3 - "$r/src/build/meson-logs/testlog.json" "$r/src/build/.roots-tests" \
    "$out/testlog.json" "$TEST_TIMEOUT" <<'EOF'
import json, re, sys
src, names_path, dst, bound = sys.argv[1:5]
lines, logged = [], []
try:
    with open(src) as f:
        for line in f:
            if line.strip():
                try:
                    logged.append(json.loads(line).get("name", ""))
                except ValueError:   # a line cut by the bound
                    continue
                lines.append(line.rstrip("\n"))
except OSError:
    pass
try:
    with open(names_path) as f:
        names = [n.strip() for n in f if n.strip()]
except OSError:
    names = []
# meson 1.7 logs "project:suite / name", meson 1.12 "suite - project:name"
def ran(n):
    return any(l == n or l.endswith("/ " + n) or l.endswith(":" + n)
               for l in logged)
missing = [n for n in names if not ran(n)]
for n in missing:
    lines.append(json.dumps({"name": n, "result": "TIMEOUT", "returncode": -9,
        "duration": 0, "stdout": f"not finished: the root's test run was "
        f"stopped by its overall bound ({bound} s)"}))
if not lines:
    lines.append(json.dumps({"name": "tests", "result": "FAIL", "returncode": 1,
        "duration": 0, "stdout": "meson test wrote no results"}))
with open(dst, "w") as f:
    f.write("\n".join(lines) + "\n")
# the reasons, briefly (the whole output is in testlog.txt)
for line in lines:
    t = json.loads(line)
    if t.get("result") in ("OK", "SKIP", "EXPECTEDFAIL"):
        continue
    print(f"--- {t.get('result')}: {t.get('name')} ({t.get('duration', 0):.0f} s)")
    out = [l for l in ((t.get("stdout") or "") + "\n" + (t.get("stderr") or "")).splitlines()
           if l.strip()]
    key = [l for l in out if re.search(r"FAIL|DEADLINE|:[FE]:|ERROR|error:|#[0-9]+ .* at \.\./", l)]
    for l in (key or out)[-8:]:
        print("    " + l[:200])
EOF
}

# root_fail SUITE NAME MESSAGE: the suite's testlog is one FAIL entry
root_fail() {
  fail_log "$OUT/$1/testlog.json" "$2" "$3"
  echo "test-roots: $1: FAIL: $3" >&2
}

# test_root SUITE: make or reuse the root, copy, build, test; writes
# build-roots/SUITE/testlog.json in every case
test_root() {
  local suite=$1 dir=$CACHE/$1 out=$OUT/$1 r rc t0
  if ! ensure_root "$suite" "$dir"; then
    root_fail "$suite" "root-$suite" \
      "could not make the Debian $suite root in $dir with mmdebstrap from $MIRROR (see build-roots/$suite/mmdebstrap.log)"
    return
  fi
  r=$(cd "$dir" && pwd -P)
  if ! copy_source "$r"; then
    root_fail "$suite" "build-$suite" "could not copy the source tree into $r/src"
    return
  fi
  if ! mount_root "$r"; then
    umount_root "$r"
    root_fail "$suite" "root-$suite" "could not mount /proc, /sys, /dev in $r"
    return
  fi
  t0=$(date +%s)
  run_bg timeout -k 10 "$TEST_TIMEOUT" env -i HOME=/root LANG=C.UTF-8 \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    TERM=dumb USER=root LOGNAME=root \
    chroot "$r" /bin/bash -c "$INNER" inner "${EXCLUDED[@]}" 2>&1
  rc=$?
  umount_root "$r"
  log "$suite: build and tests took $(( $(date +%s) - t0 )) s (status $rc)"
  cp "$r/src/build-setup.log" "$r/src/build.log" "$out/" 2>/dev/null
  if [ ! -e "$r/src/build/.roots-built" ]; then
    if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
      root_fail "$suite" "build-$suite" "the build in the $suite root did not finish within $TEST_TIMEOUT s"
    else
      root_fail "$suite" "build-$suite" \
        "meson setup or ninja failed in the $suite root (see build-roots/$suite/build-setup.log, build.log)"
    fi
    return
  fi
  if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
    echo "test-roots: $suite: the test run hit its overall bound ($TEST_TIMEOUT s)" >&2
  fi
  finish_log "$suite" "$r"
}

# run_root SUITE: test_root under the root's lock (one run per root at a
# time), then the suite's "N passed, N failed"
run_root() {
  local suite=$1 lockfd
  rm -rf "${OUT:?}/$suite"
  mkdir -p "$OUT/$suite" "$CACHE"
  CUR_SUITE=$suite
  echo "=== $suite ==="
  exec {lockfd}>"$CACHE/.$suite.lock"
  if flock -w 900 "$lockfd"; then
    test_root "$suite"
  else
    root_fail "$suite" "root-$suite" "another test-roots.sh held $CACHE/$suite for 15 min"
  fi
  exec {lockfd}>&-
  CUR_SUITE=
  python3 "$SRC/scripts/test-summary.py" "$OUT/$suite/testlog.json" | sed "s/^/$suite: /"
  return "${PIPESTATUS[0]}"
}

status=0
T0=$(date +%s)
for s in "${SUITES[@]}"; do
  run_root "$s" || status=1
done
log "done in $(( $(date +%s) - T0 )) s; logs in build-roots/"
exit $status
