#!/bin/bash
# gst-core-checks.sh - run GStreamer's own core check suite under our tracer.
#
#   scripts/gst-core-checks.sh [PLUGIN_DIR]
#
# Builds the check programs of Debian's gstreamer1.0 source package (the same
# version as the installed libgstreamer) once, in a cache outside the clone,
# then runs every program twice, as tests/check/meson.build would (its test
# environment, plus our plugin folder on GST_PLUGIN_PATH_1_0):
#   1. core alone: no tracer, our plugin not loaded (whitelist "gstreamer");
#   2. GST_TRACERS=apm with our plugin whitelisted ("gstreamer:gst-apm").
# First, one run with GST_DEBUG=GST_TRACER:7 checks that GST_TRACERS=apm
# really creates our tracer (logs/tracer-loaded.log).
# Result per program: OK if it passes with the tracer; SKIP if it already
# fails without it; FAIL if it passes without and fails with it.  Before a
# FAIL stands, the failed checks run alone again, with and without the
# tracer in turns (10 times each): some core checks are racy and time out
# now and then without any tracer, more on a loaded machine.  FAIL only if
# they fail at least 3 times with the tracer and 3 more than without; else
# SKIP if they failed without it too, OK (marked FLAKY) if they did not.
# A FAIL is then run with our plugin loaded and no
# tracer, to tell the plugin from the tracer.  A check that times out is run
# alone, unforked, and a program still running after APM_GSTCORE_TIMEOUT is
# a FAIL: every thread's backtrace (gdb) is printed, then it is killed.
# Results: build-gstcore/testlog.json (meson-style JSON lines, one per
# program; count them with scripts/test-summary.py), logs in build-gstcore/.
#
# PLUGIN_DIR (or APM_PLUGIN_DIR): folder holding libgstapm.so, default
#   $PWD/build/gst-plugin.
# APM_GSTCORE_CACHE: source and build cache (default /var/cache/gst-apm-gstcore).
# APM_GSTCORE_TIMEOUT: seconds per program run before it counts as a hang (150).
# APM_GSTCORE_JOBS: programs run at once, 1 or 2 (2).
# APM_GSTCORE_ONLY: extended regex; only programs whose name matches run.
# APM_GSTCORE_NETNS: 1 (default, where `unshare -n` works) runs every program
#   in a private network namespace with its own loopback, so the tracer's
#   127.0.0.1:9464 neither collides with other runs or processes on this
#   host nor disturbs them; 0 runs in the host's, one tracer run at a time.
# APM_GSTCORE_PORT=taken: in the tracer runs, 127.0.0.1:9464 is already held
#   by another listener (the tracer's "port in use" path); needs the netns.
# Exits 1 if any program FAILs.
set -uo pipefail

plugin_dir=${1:-${APM_PLUGIN_DIR:-$PWD/build/gst-plugin}}
plugin_dir=$(realpath -m -- "$plugin_dir")
cd "$(dirname "$0")/.." || exit 1
repo=$PWD
out=$repo/build-gstcore
cache=${APM_GSTCORE_CACHE:-/var/cache/gst-apm-gstcore}
timeout_s=${APM_GSTCORE_TIMEOUT:-150}
jobs=${APM_GSTCORE_JOBS:-2}
[ "$jobs" -ge 1 ] 2>/dev/null || jobs=2
[ "$jobs" -gt 2 ] && jobs=2
only=${APM_GSTCORE_ONLY:-}
port_mode=${APM_GSTCORE_PORT:-free}
testlog=$out/testlog.json
check_timeout=20          # CK_DEFAULT_TIMEOUT, as core's tests/check/meson.build
hang_timeout=60           # a timed-out check run alone, unforked
rerun_pairs=10            # failed checks run again: this many times with and without
rerun_check_timeout=5     # CK_DEFAULT_TIMEOUT of those runs (the checks take milliseconds)

mkdir -p "$out"
rm -rf "$out/logs" "$out/registry" "$out/results"
mkdir -p "$out/logs" "$out/registry" "$out/results"
: >"$testlog"

say() { echo "gst-core-checks: $*"; }

# json NAME RESULT [KEY VALUE]...: one meson-style JSON line on stdout
json() {
  python3 - "$@" <<'EOF'
import json, sys
a = sys.argv[1:]
d = {"name": a[0], "result": a[1]}
for k, v in zip(a[2::2], a[3::2]):
    d[k] = float(v) if k == "duration" else (int(v) if k == "returncode" else v)
print(json.dumps(d))
EOF
}

skip_tier() {
  say "SKIP: $*"
  json gstcore SKIP reason "$*" >"$testlog"
  python3 scripts/test-summary.py "$testlog"
  exit 0
}

fail_tier() {
  say "FAIL: $*"
  json gstcore/setup FAIL reason "$*" >"$testlog"
  python3 scripts/test-summary.py "$testlog"
  exit 1
}

# ---------------------------------------------------------------- our plugin
if [ ! -e "$plugin_dir/libgstapm.so" ] && [ "$plugin_dir" = "$repo/build/gst-plugin" ] \
   && [ -f build/build.ninja ]; then
  say "no $plugin_dir/libgstapm.so: ninja -C build"
  ninja -C build >"$out/logs/ninja-plugin.log" 2>&1 || tail -20 "$out/logs/ninja-plugin.log"
fi
[ -e "$plugin_dir/libgstapm.so" ] || fail_tier "no libgstapm.so in $plugin_dir (build the plugin first, or pass its folder)"

# ------------------------------------------- core source and build (cached)
meson_opts=(--buildtype=debugoptimized -Dtests=enabled -Dcheck=enabled
  -Dcoretracers=enabled -Dexamples=disabled -Dbenchmarks=disabled
  -Dtools=disabled -Ddoc=disabled -Dintrospection=disabled -Dnls=disabled
  -Dbash-completion=disabled -Dptp-helper-permissions=none)
want_version=$(dpkg-query -W -f='${source:Version}' libgstreamer1.0-0 2>/dev/null)
stamp_text="gstreamer1.0 ${want_version:-any} ${meson_opts[*]}"

add_deb_src() {
  # a deb-src twin of the bookworm deb entries, unless apt already has one
  if [ "$(apt-cache showsrc gstreamer1.0 2>/dev/null | grep -c '^Package: gstreamer1.0$')" -gt 0 ]; then
    return 0
  fi
  local f=/etc/apt/sources.list.d/gst-apm-src.sources src
  src=$(grep -l -s '^Suites:.*bookworm' /etc/apt/sources.list.d/*.sources | head -1)
  if [ -n "$src" ]; then
    awk 'BEGIN { RS=""; ORS="\n\n" }
         /(^|\n)Types:[^\n]*deb/ && /(^|\n)Suites:[^\n]*bookworm/ {
           sub(/(^|\n)Types:[^\n]*/, "Types: deb-src"); print }' "$src" >"$f.tmp"
  fi
  if [ ! -s "$f.tmp" ]; then
    printf '%s\n' 'Types: deb-src' 'URIs: http://deb.debian.org/debian' \
      'Suites: bookworm bookworm-updates' 'Components: main' \
      'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg' >"$f.tmp"
  fi
  mv "$f.tmp" "$f" && say "added $f"
  apt-get update >"$cache/apt-update.log" 2>&1 || { tail -5 "$cache/apt-update.log"; return 1; }
}

prepare() {
  local srcdir bld t0 log
  mkdir -p "$cache" || return 1
  srcdir=$(ls -d "$cache"/gstreamer1.0-1.*/ 2>/dev/null | head -1)
  srcdir=${srcdir%/}
  bld=$srcdir/build
  if [ -n "$srcdir" ] && [ -f "$bld/.gst-apm-stamp" ] \
     && [ "$(cat "$bld/.gst-apm-stamp")" = "$stamp_text" ]; then
    core_src=$srcdir core_build=$bld
    return 0
  fi
  t0=$(date +%s)
  if [ -z "$srcdir" ]; then
    say "fetching Debian's gstreamer1.0 source ${want_version:+($want_version) }into $cache"
    add_deb_src || { skip_reason="no deb-src entry could be set up (apt-get update failed)"; return 1; }
    log=$cache/apt-source.log
    ( cd "$cache" && { apt-get source "gstreamer1.0${want_version:+=$want_version}" ||
                       apt-get source gstreamer1.0; } ) >"$log" 2>&1 ||
      { tail -5 "$log"; skip_reason="apt-get source gstreamer1.0 failed (see $log)"; return 1; }
    srcdir=$(ls -d "$cache"/gstreamer1.0-1.*/ 2>/dev/null | head -1)
    srcdir=${srcdir%/}
    [ -n "$srcdir" ] || { skip_reason="apt-get source left no gstreamer1.0-* folder in $cache"; return 1; }
    bld=$srcdir/build
  fi
  if ! (cd "$srcdir" && dpkg-checkbuilddeps) >/dev/null 2>&1; then
    say "installing gstreamer1.0's build dependencies (apt-get build-dep)"
    DEBIAN_FRONTEND=noninteractive apt-get build-dep -y gstreamer1.0 \
      >"$cache/build-dep.log" 2>&1 || tail -5 "$cache/build-dep.log"
  fi
  for t in meson ninja flex bison pkg-config cc; do
    command -v $t >/dev/null || { skip_reason="$t is missing (apt-get build-dep gstreamer1.0 failed?)"; return 1; }
  done
  say "building the core check programs in $bld (first time only)"
  log=$cache/build.log
  if [ -f "$bld/build.ninja" ]; then
    meson configure "$bld" "${meson_opts[@]}" >"$log" 2>&1
  else
    meson setup "$bld" "$srcdir" "${meson_opts[@]}" >"$log" 2>&1
  fi || { tail -20 "$log"; skip_reason="meson setup failed (see $log)"; return 1; }
  ninja -C "$bld" >>"$log" 2>&1 || { tail -20 "$log"; skip_reason="the core build failed (see $log)"; return 1; }
  echo "$stamp_text" >"$bld/.gst-apm-stamp"
  say "core check programs built in $(( $(date +%s) - t0 )) s"
  echo "$(date -Is) $(( $(date +%s) - t0 ))" >>"$cache/build-times"
  core_src=$srcdir core_build=$bld
}

core_src= core_build= skip_reason=
mkdir -p "$cache" 2>/dev/null || skip_tier "cannot create the cache folder $cache"
exec 9>"$cache/.lock"
flock 9
prepare || skip_tier "${skip_reason:-could not prepare the core check programs}"
flock -u 9
exec 9>&-

scanner=$core_build/libs/gst/helpers/gst-plugin-scanner
mapfile -t progs < <(cd "$core_build" && meson introspect --tests . |
  python3 -c '
import json, sys
for t in json.load(sys.stdin):
    if "tests/check/" in t["cmd"][0]:
        print(t["name"], t["cmd"][0])')
[ ${#progs[@]} -gt 0 ] || skip_tier "no check programs in $core_build"

# ------------------------------------------------------------------ running
# the environment of core's tests/check/meson.build (GST_PLUGIN_PATH_1_0,
# GST_PLUGIN_LOADING_WHITELIST and GST_REGISTRY are set per run), and
# nothing of the caller's that would change the runs
common_env=(-u GST_TRACERS -u GST_DEBUG -u GST_DEBUG_FILE -u GST_PLUGIN_PATH
  -u GST_PLUGIN_SYSTEM_PATH -u GST_CHECKS -u GST_CHECKS_IGNORE -u CK_FORK
  -u CK_RUN_SUITE -u CK_RUN_CASE -u CK_TIMEOUT_MULTIPLIER -u G_DEBUG
  -u GST_REGISTRY_FORK -u GST_REGISTRY_UPDATE
  GST_PLUGIN_SYSTEM_PATH_1_0= GST_STATE_IGNORE_ELEMENTS=
  CK_DEFAULT_TIMEOUT=$check_timeout GST_PLUGIN_SCANNER_1_0=$scanner)

# run_prog LOG TIMEOUT ENV...  -- EXE: runs it (under cur_wrap) in its own process group; on
# timeout prints every thread's backtrace of the group, kills it, returns 124
run_prog() {
  local log=$1 tmo=$2 pid rc start
  shift 2
  local envs=()
  while [ "$1" != "--" ]; do envs+=("$1"); shift; done
  shift
  setsid "${cur_wrap[@]}" env "${common_env[@]}" "${envs[@]}" "$@" </dev/null >"$log" 2>&1 &
  pid=$!
  start=$SECONDS
  while kill -0 "$pid" 2>/dev/null; do
    if [ $((SECONDS - start)) -ge "$tmo" ]; then
      {
        echo "=== HANG: still running after ${tmo} s; backtraces of every process in its group:"
        for p in $(pgrep -g "$pid"); do
          case $(cat /proc/"$p"/comm 2>/dev/null) in python3|sh|unshare) continue ;; esac
          echo "--- pid $p: $(tr '\0' ' ' </proc/"$p"/cmdline 2>/dev/null)"
          timeout 60 gdb -p "$p" -batch -ex 'thread apply all bt' 2>&1 |
            grep -v '^\[New LWP\|^\[Thread debugging\|^Using host libthread_db'
        done
      } >"$log.hang" 2>&1
      kill -KILL -- -"$pid" 2>/dev/null
      wait "$pid" 2>/dev/null
      cat "$log.hang" >>"$log"
      return 124
    fi
    sleep 0.1
  done
  wait "$pid"
  rc=$?
  # forked checks still running (the parent died): end them too
  kill -KILL -- -"$pid" 2>/dev/null
  return $rc
}

# failures LOG: the check failure lines (file:line:F|E:case:test:iter: msg)
failures() {
  grep -aE '^[^ :]+:[0-9]+:[FE]:[^:]*:[^:]+:[0-9]+: ' "$1" | sed 's/^[^:]*\///'
}

# summary LOG [RC]: "N%: Checks: N, Failures: N, Errors: N" or what ended it
summary() {
  local s
  s=$(grep -aE '^[0-9]+%: Checks: ' "$1" | tail -1)
  [ -n "$s" ] || s=$(grep -a -m1 '^=== HANG' "$1")
  if [ -z "$s" ]; then
    case ${2:-} in
      0) s="exit status 0 (not a check suite)" ;;
      "") s="no check summary (crashed?)" ;;
      *) s="no check summary, exit status $2 (crashed?)" ;;
    esac
  fi
  echo "$s"
}

# run_base LOG [ENV...]: core alone (our plugin not loaded, no tracer)
run_base() {
  local log=$1; shift
  run_prog "$log" "$timeout_s" GST_PLUGIN_PATH_1_0="$core_build" \
    GST_PLUGIN_LOADING_WHITELIST=gstreamer \
    GST_REGISTRY="$out/registry/$prog.base.registry" "$@" -- "$exe"
}

# run_apm LOG TIMEOUT [ENV...]: GST_TRACERS=apm, our plugin whitelisted
run_apm() {
  local log=$1 tmo=$2 rc; shift 2
  cur_wrap=("${wrap_apm[@]}")
  run_prog "$log" "$tmo" GST_TRACERS=apm \
    GST_PLUGIN_PATH_1_0="$core_build:$plugin_dir" \
    GST_PLUGIN_LOADING_WHITELIST=gstreamer:gst-apm \
    GST_REGISTRY="$out/registry/$prog.apm.registry" "$@" -- "$exe"
  rc=$?
  cur_wrap=("${wrap[@]}")
  return $rc
}

# failed_checks LOG: the names of the failed checks, comma-separated
failed_checks() { failures "$1" | cut -d: -f5 | sort -u | paste -sd, -; }

# one PROG EXE: baseline, tracer, and diagnostics; writes results/PROG.json
# and results/PROG.txt (the report lines)
one() {
  local prog=$1 exe=$2 base_rc tr_rc t0 note="" res lines checks i n t a b counts
  local L=$out/logs/$prog r=$out/results/$prog
  t0=$(date +%s.%N)

  run_base "$L.base.log"
  base_rc=$?
  # without a private netns, one tracer run at a time: a second one would
  # find 127.0.0.1:9464 taken
  {
    [ ${#wrap[@]} -eq 0 ] && flock 8
    run_apm "$L.apm.log" "$timeout_s"
    tr_rc=$?
  } 8>"$out/registry/.tracer.lock"

  if [ $tr_rc -eq 0 ]; then
    res=OK
    [ $base_rc -ne 0 ] && note="fails without the tracer but passed with it (flaky in core): $(summary "$L.base.log" "$base_rc")"
  elif [ $base_rc -ne 0 ]; then
    res=SKIP
    note="fails without the tracer already: $(summary "$L.base.log" "$base_rc")"
    # failures only seen with the tracer are still worth a look
    lines=$(comm -13 <(failures "$L.base.log" | sed 's/:[0-9]*:/:/' | sort -u) \
                     <(failures "$L.apm.log" | sed 's/:[0-9]*:/:/' | sort -u))
    [ -n "$lines" ] && note+=$'\n'"  but these fail only with the tracer:"$'\n'"$(sed 's/^/    /' <<<"$lines")"
  else
    res=FAIL
    checks=$(failed_checks "$L.apm.log")
    if [ -n "$checks" ] && ! grep -aq '^=== HANG' "$L.apm.log"; then
      # Some core checks are racy (libs_baseparse's pull tests set the
      # element PLAYING before activating their sink pad, and time out now
      # and then without any tracer, more often on a loaded machine): the
      # failed checks alone, with and without the tracer in turns, the same
      # number of times.  The tracer is at fault only when it fails them
      # clearly more often: at least 3 of the runs with it, and 3 more than
      # without (under equal flakiness that happens about 1 time in 40).
      a=0 b=0
      for i in $(seq 1 "$rerun_pairs"); do
        run_apm "$L.apm.again$i.log" "$timeout_s" GST_CHECKS="$checks" \
          CK_DEFAULT_TIMEOUT=$rerun_check_timeout || a=$((a + 1))
        run_base "$L.base.again$i.log" GST_CHECKS="$checks" \
          CK_DEFAULT_TIMEOUT=$rerun_check_timeout || b=$((b + 1))
      done
      counts="alone, $checks failed $a of $rerun_pairs runs with the tracer and $b of $rerun_pairs without"
      if [ $a -ge 3 ] && [ $a -ge $((b + 3)) ]; then
        note="$counts"
      elif [ $b -gt 0 ]; then
        res=SKIP
        note="flaky in core: $counts"
      else
        res=OK
        note="FLAKY: $counts (the first failure not reproduced clearly more often with the tracer)"
      fi
    fi
  fi
  if [ $res = FAIL ]; then
    # a check that timed out: run it alone, unforked, to get the backtraces
    for t in $(failures "$L.apm.log" | grep -F 'Test timeout expired' | cut -d: -f5 | sort -u); do
      run_apm "$L.apm.hang-$t.log" "$hang_timeout" CK_FORK=no GST_CHECKS="$t"
      [ $? -eq 124 ] && note+="${note:+$'\n'}  $t hangs alone and unforked: backtraces in logs/$prog.apm.hang-$t.log"
    done
    # plugin loaded, no tracer: is it the element/plugin or the tracer?
    if run_prog "$L.plugin.log" "$timeout_s" \
      GST_PLUGIN_PATH_1_0="$core_build:$plugin_dir" \
      GST_PLUGIN_LOADING_WHITELIST=gstreamer:gst-apm \
      GST_REGISTRY="$out/registry/$prog.plugin.registry" -- "$exe"; then
      note+="${note:+$'\n'}  passes with our plugin loaded and no tracer: the tracer causes it"
    else
      note+="${note:+$'\n'}  also fails with our plugin loaded and no tracer: $(summary "$L.plugin.log")"
    fi
  fi

  local dur
  dur=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
  {
    echo "$res gstcore/$prog ($(printf '%.1f' "$dur") s) $(summary "$L.apm.log" "$tr_rc")"
    [ -n "$note" ] && echo "  $note"
    if [ $res = FAIL ]; then
      failures "$L.apm.log" | sed 's/^/    /'
      if grep -aq '^=== HANG' "$L.apm.log"; then
        echo "    the program hung (${timeout_s} s); backtraces:"
        sed -n '/^=== HANG/,$p' "$L.apm.log" | sed 's/^/    /'
      elif ! grep -aqE '^[0-9]+%: Checks: ' "$L.apm.log"; then
        echo "    no check summary, exit status $tr_rc; the log ends:"
        tail -15 "$L.apm.log" | sed 's/^/    /'
      fi
      for t in "$L".apm.hang-*.log; do
        [ -e "$t" ] && grep -aq '^=== HANG' "$t" && { echo "    ${t##*/}:"; sed -n '/^=== HANG/,$p' "$t" | sed 's/^/    /'; }
      done
    fi
  } >"$r.txt"
  json "gstcore/$prog" "$res" duration "$dur" returncode "$tr_rc" \
    command "$exe" stdout "$(cat "$r.txt")" >"$r.json"
  head -1 "$r.txt"
}

# is the tracer really loaded? GST_DEBUG=GST_TRACER:7 on the first program
verify_tracer() {
  local exe=$1 log=$out/logs/tracer-loaded.log
  cur_wrap=("${wrap_apm[@]}")
  run_prog "$log" 60 GST_TRACERS=apm GST_DEBUG=GST_TRACER:7,default:7,GST_PLUGIN_LOADING:4 GST_DEBUG_NO_COLOR=1 \
    GST_CHECKS=none_at_all GST_PLUGIN_PATH_1_0="$core_build:$plugin_dir" \
    GST_PLUGIN_LOADING_WHITELIST=gstreamer:gst-apm \
    GST_REGISTRY="$out/registry/verify.registry" -- "$exe"
  # the plugin scanner (a child) warns "no tracer named 'apm'": its registry
  # is empty when it starts; the program itself must create the tracer
  local pid
  cur_wrap=("${wrap[@]}")
  pid=$(grep -a '<apm> creating tracer: type-id' "$log" | awk '{ print $2; exit }')
  if [ -z "$pid" ]; then
    say "the apm tracer was NOT created (see $log):"
    grep -aE "tracer|whitelist|apm" "$log" | grep -v 'tracer factory' | head -10
    return 1
  fi
  say "tracer check: GST_TRACERS=apm creates the apm tracer from $plugin_dir ($(grep -a " $pid " "$log" | grep -ac 'registering tracer for') hooks)"
}

port_busy() { [ -n "$(ss -Hltn 'sport = :9464' 2>/dev/null)" ]; }

# wrap: what every run is started under; wrap_apm: the tracer runs'
wrap=() wrap_apm=()
if [ "${APM_GSTCORE_NETNS:-1}" != 0 ] && unshare -n -- ip link set lo up 2>/dev/null; then
  wrap=(unshare -n -- sh -c 'ip link set lo up && exec "$@"' sh)
  wrap_apm=("${wrap[@]}")
  if [ "$port_mode" = taken ]; then
    wrap_apm=(unshare -n -- sh -c '
      ip link set lo up || exit 1
      python3 -c "import socket, time
s = socket.socket(); s.bind((\"127.0.0.1\", 9464)); s.listen(); time.sleep(1e6)" &
      i=0; until ss -Hltn "sport = :9464" | grep -q . || [ $i -ge 50 ]; do sleep 0.1; i=$((i+1)); done
      exec "$@"' sh)
  fi
elif [ "$port_mode" = taken ]; then
  fail_tier "APM_GSTCORE_PORT=taken needs a private network namespace (unshare -n)"
fi
cur_wrap=("${wrap[@]}")

t_start=$(date +%s)
say "core $core_src, plugin $plugin_dir, ${#progs[@]} programs, $jobs at a time, ${timeout_s} s per run"
port_before=0
if [ ${#wrap[@]} -gt 0 ]; then
  say "each run in a private network namespace; 127.0.0.1:9464 is $port_mode in the tracer runs"
else
  port_busy && port_before=1
  [ $port_before = 1 ] && say "warning: 127.0.0.1:9464 is already in use by another process: the tracer will warn that it is taken"
fi

# the verification uses a program built from gst/gst.c (any would do)
verify_exe=$(printf '%s\n' "${progs[@]}" | awk '$1 == "gst_gst" { print $2 }')
[ -n "$verify_exe" ] || verify_exe=$(printf '%s\n' "${progs[@]}" | head -1 | cut -d' ' -f2)
verify_tracer "$verify_exe" || fail_tier "GST_TRACERS=apm did not load our tracer (logs/tracer-loaded.log)"

order=()
for p in "${progs[@]}"; do
  name=${p%% *}
  [ -n "$only" ] && ! [[ $name =~ $only ]] && continue
  order+=("$name")
  one "$name" "${p#* }" &
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
done
wait

for name in "${order[@]}"; do
  if [ -s "$out/results/$name.json" ]; then
    cat "$out/results/$name.json"
  else
    json "gstcore/$name" FAIL reason "no result (the runner died)"
  fi
done >"$testlog"

echo
say "summary ($(( $(date +%s) - t_start )) s):"
python3 - "$testlog" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
for res in ("OK", "SKIP", "FAIL"):
    names = [r["name"].split("/", 1)[1] for r in rows if r["result"] == res]
    print(f"  {res} ({len(names)}): {' '.join(names)}")
notes = [r for r in rows if r["result"] == "OK" and "\n" in r.get("stdout", "")]
if notes:
    print("\nOK, with a note:")
    for r in notes:
        print("  " + r["stdout"].replace("\n", "\n  "))
skips = [r for r in rows if r["result"] == "SKIP"]
fails = [r for r in rows if r["result"] == "FAIL"]
if skips:
    print("\nSKIP (fail without the tracer already):")
    for r in skips:
        print("  " + r.get("stdout", r.get("reason", "")).replace("\n", "\n  "))
if fails:
    print("\nFAIL (pass without the tracer, fail with GST_TRACERS=apm):")
    for r in fails:
        print("  " + r.get("stdout", r.get("reason", "")).replace("\n", "\n  "))
EOF
if [ ${#wrap[@]} -eq 0 ] && [ $port_before = 0 ] && port_busy; then
  say "note: 127.0.0.1:9464 was taken by another process at the end of the run"
fi
say "logs in $out/logs"
python3 scripts/test-summary.py "$testlog"
! grep -q '"result": "FAIL"' "$testlog"
